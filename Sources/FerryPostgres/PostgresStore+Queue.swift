import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    public func claimDueJobs(limit: Int, leaseFor lease: Duration, excluding exclusions: ClaimExclusions)
        async throws -> [DeliveryJob]
    {
        let claimToken = UUID()
        // One statement, on the database's clock: lock due rows others have not locked, lease them, and read what
        // delivery needs.
        let rows = try await client.rows(
            ClaimDueJobsQuery(
                limit: limit, leaseSeconds: Self.seconds(lease), claimToken: claimToken, exclusions: exclusions),
            logger: logger)
        return try Self.jobs(rows, claimToken: claimToken)
    }

    public func claimRelayedJobs(subscriptionID: UUID, limit: Int, leaseFor lease: Duration) async throws
        -> [DeliveryJob]
    {
        let claimToken = UUID()
        let rows = try await client.rows(
            ClaimRelayedJobsQuery(
                limit: limit, leaseSeconds: Self.seconds(lease), claimToken: claimToken, subscriptionID: subscriptionID),
            logger: logger)
        return try Self.jobs(rows, claimToken: claimToken)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The jobs a claim statement leased under `claimToken`.
    private static func jobs(_ rows: [PostgresRow], claimToken: UUID) throws -> [DeliveryJob] {
        try rows.map { row in
            let columns = Columns(row)
            return DeliveryJob(
                attemptID: try columns.get("id"), claimToken: claimToken,
                applicationID: try columns.get("application_id"), eventID: try columns.get("event_id"),
                eventType: try columns.get("event_type"), payload: try columns.bytes("payload"),
                payloadContentType: try columns.get("payload_content_type"),
                subscriptionID: try columns.get("subscription_id"), secret: try columns.get("secret"),
                target: HTTPTarget(
                    method: try columns.get("target_method"), url: try columns.get("target_url"),
                    headers: try columns.map("target_headers")),
                retryCount: try columns.get("retry_count", as: Int.self),
                retry: RetryOverride(stored: try columns.get("retry_override", as: String?.self)),
                circuitOpenedAt: try columns.get("circuit_opened_at", as: Date?.self),
                signing: try SigningKeys(stored: columns), isOrdered: try columns.get("ordered"))
        }
    }

    public func recordOutcome(_ observation: AttemptObservation, for job: DeliveryJob, retryAt: Date?) async throws
        -> Bool
    {
        try await outcomeBatcher.submit(OutcomeRecord(observation: observation, job: job, retryAt: retryAt))
    }

    /// Records a batch of outcomes in one transaction (see `RecordOutcomesQuery`) and announces scheduled
    /// retries. Returns, per outcome in order, whether it was recorded (`false`: the lease was lost).
    static func writeOutcomeBatch(_ records: [OutcomeRecord], database: DatabaseAccess) async throws
        -> [Result<Bool, DomainError>]
    {
        let logger = database.logger
        let query = RecordOutcomesQuery(records: records, now: Date())
        @Sendable func recorded(_ rows: [PostgresRow]) throws -> (attempts: Set<UUID>, retries: Int) {
            var attempts: Set<UUID> = []
            var retries = 0
            for row in rows {
                let columns = Columns(row)
                attempts.insert(try columns.get("id"))
                retries = try columns.get("retries", as: Int.self)
            }
            return (attempts, retries)
        }
        let written: Set<UUID>
        if records.contains(where: \.announcesWork) {
            // Retries and the successors of ordered attempts must be announced, and the announcement must not
            // precede their commit: one transaction.
            written = try await database.transaction { connection in
                let result = try recorded(try await connection.rows(query, logger: logger))
                let freedSuccessor = records.contains { $0.job.isOrdered && result.attempts.contains($0.job.attemptID) }
                if result.retries > 0 || freedSuccessor { try await notifyWork(connection, logger: logger) }
                return result.attempts
            }
        } else {
            // A single statement commits on its own: one round trip for the whole batch.
            written = try recorded(try await database.client.rows(query, logger: logger)).attempts
        }
        return records.map { .success(written.contains($0.job.attemptID)) }
    }

    public func releaseLeases(of jobs: [DeliveryJob]) async throws {
        guard !jobs.isEmpty else { return }
        let now = Date()
        let ids = jobs.map(\.attemptID)
        let tokens = jobs.map(\.claimToken)
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE request_attempt ra SET picked_at = NULL, claim_token = NULL, due_at = \(now.postgres)
                FROM unnest(\(ids)::uuid[], \(tokens)::uuid[]) AS released(id, claim_token)
                WHERE ra.id = released.id AND ra.claim_token = released.claim_token
                  AND ra.failed_at IS NULL AND ra.succeeded_at IS NULL
                """, logger: self.logger)
            try await Self.notifyWork(connection, logger: self.logger)
        }
    }

    public func markSubscriptionFailing(_ id: UUID, at now: Date) async throws -> Date? {
        // Only the first failure of a streak writes the row (ingests hold it FOR SHARE); the rest only read it.
        _ = try await client.query(
            """
            UPDATE subscription SET failing_since = \(now.postgres)
            WHERE id = \(id) AND failing_since IS NULL AND deleted_at IS NULL
            """, logger: logger)
        return try await client.query(
            "SELECT failing_since FROM subscription WHERE id = \(id) AND deleted_at IS NULL", logger: logger
        ).first.flatMap { try Columns($0).get("failing_since", as: Date?.self) }
    }

    public func markSubscriptionHealthy(_ id: UUID) async throws {
        _ = try await client.query(
            "UPDATE subscription SET failing_since = NULL WHERE id = \(id) AND failing_since IS NOT NULL",
            logger: logger)
    }

    public func nextDueDate(excluding exclusions: ClaimExclusions) async throws -> Date? {
        try await client.rows(NextDueDateQuery(exclusions: exclusions), logger: logger).first.flatMap {
            try Columns($0).get("next", as: Date?.self)
        }
    }

    public func openCircuit(subscriptionID: UUID, at now: Date, probeAt: Date) async throws -> Bool {
        try await !client.query(
            """
            UPDATE subscription SET circuit_opened_at = \(now.postgres), circuit_probe_at = \(probeAt.postgres)
            WHERE id = \(subscriptionID) AND circuit_opened_at IS NULL AND is_enabled AND deleted_at IS NULL
            RETURNING id
            """, logger: logger
        ).isEmpty
    }

    public func takeCircuitProbe(subscriptionID: UUID, until: Date) async throws -> Bool {
        try await !client.query(
            """
            UPDATE subscription SET circuit_probe_at = \(until.postgres)
            WHERE id = \(subscriptionID) AND circuit_opened_at IS NOT NULL AND circuit_probe_at <= now()
            RETURNING id
            """, logger: logger
        ).isEmpty
    }

    public func scheduleCircuitProbe(subscriptionID: UUID, probeAt: Date) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE subscription SET circuit_probe_at = \(probeAt.postgres)
                WHERE id = \(subscriptionID) AND circuit_opened_at IS NOT NULL
                """, logger: self.logger)
            try await Self.notifyWork(connection, logger: self.logger)
        }
    }

    public func closeCircuit(subscriptionID: UUID) async throws -> Bool {
        try await transaction { connection in
            let closed = try await connection.query(
                """
                UPDATE subscription SET circuit_opened_at = NULL, circuit_probe_at = NULL
                WHERE id = \(subscriptionID) AND circuit_opened_at IS NOT NULL RETURNING id
                """, logger: self.logger
            ).collect()
            if !closed.isEmpty { try await Self.notifyWork(connection, logger: self.logger) }
            return !closed.isEmpty
        }
    }

    public func queueStatistics(now: Date) async throws -> QueueStatistics {
        let rows = try await client.query(
            """
            SELECT
                (SELECT count(*) FROM request_attempt
                 WHERE failed_at IS NULL AND succeeded_at IS NULL AND due_at <= \(now.postgres)) AS due,
                (SELECT count(*) FROM request_attempt
                 WHERE failed_at IS NULL AND succeeded_at IS NULL AND due_at > \(now.postgres)
                    AND claim_token IS NOT NULL) AS leased,
                (SELECT count(*) FROM request_attempt
                 WHERE failed_at IS NULL AND succeeded_at IS NULL AND due_at > \(now.postgres)
                    AND claim_token IS NULL) AS waiting,
                (SELECT min(due_at) FROM request_attempt
                 WHERE failed_at IS NULL AND succeeded_at IS NULL AND due_at <= \(now.postgres)) AS oldest_due,
                (SELECT count(*) FROM subscription WHERE deleted_at IS NULL AND is_enabled) AS enabled,
                (SELECT count(*) FROM subscription WHERE deleted_at IS NULL AND NOT is_enabled) AS disabled,
                (SELECT count(*) FROM subscription
                 WHERE deleted_at IS NULL AND circuit_opened_at IS NOT NULL) AS circuit_open
            """, logger: logger
        )
        guard let row = rows.first else {
            return QueueStatistics(
                due: 0, leased: 0, waiting: 0, oldestDueAgeSeconds: 0, enabledSubscriptions: 0,
                disabledSubscriptions: 0)
        }
        let columns = Columns(row)
        let oldestDue = try columns.get("oldest_due", as: Date?.self)
        return QueueStatistics(
            due: Int(try columns.get("due", as: Int64.self)), leased: Int(try columns.get("leased", as: Int64.self)),
            waiting: Int(try columns.get("waiting", as: Int64.self)),
            oldestDueAgeSeconds: oldestDue.map { max(0, now.timeIntervalSince($0)) } ?? 0,
            enabledSubscriptions: Int(try columns.get("enabled", as: Int64.self)),
            disabledSubscriptions: Int(try columns.get("disabled", as: Int64.self)),
            circuitOpenSubscriptions: Int(try columns.get("circuit_open", as: Int64.self)))
    }
}
