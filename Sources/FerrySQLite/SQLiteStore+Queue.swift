import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    public func claimDueJobs(limit: Int, leaseFor lease: Duration, excluding exclusions: ClaimExclusions)
        async throws -> [DeliveryJob]
    {
        try await claim(
            limit: limit, leaseFor: lease, matching: Self.sentByWorkers,
            arguments: Self.sentByWorkersArguments(now: SQLValues.micros(Date()), excluding: exclusions))
    }

    /// The attempts workers send, but not those `exclusions` names: not relayed, not waiting for their circuit's
    /// probe. Arguments: `sentByWorkersArguments`.
    private static let sentByWorkers = """
        subscription_id NOT IN (SELECT id FROM subscription WHERE relayed = 1)
        AND subscription_id NOT IN (SELECT id FROM subscription WHERE circuit_probe_at > ?)
        AND subscription_id NOT IN (SELECT value FROM json_each(?))
        AND application_id NOT IN (SELECT value FROM json_each(?))
        AND \(orderedHeadsOnly)
        """

    /// Of an ordered subscription's attempts only the head is sent: the unfinished attempt of the earliest
    /// received event (ties by event id), whether due or not, so the next event waits for it to succeed or give
    /// up. Computed once per statement over the unfinished attempts of ordered subscriptions only.
    static let orderedHeadsOnly = """
        (subscription_id NOT IN (SELECT id FROM subscription WHERE ordered = 1) OR id IN (
            SELECT id FROM (
                SELECT ra.id, row_number() OVER (PARTITION BY ra.subscription_id ORDER BY e.received_at, e.id) AS place
                FROM request_attempt ra JOIN event e ON e.id = ra.event_id
                WHERE ra.failed_at IS NULL AND ra.succeeded_at IS NULL
                  AND ra.subscription_id IN (SELECT id FROM subscription WHERE ordered = 1))
            WHERE place = 1))
        """

    private static func sentByWorkersArguments(now: Int64, excluding exclusions: ClaimExclusions)
        -> StatementArguments
    {
        [
            now, SQLValues.json(exclusions.subscriptionIDs), SQLValues.json(exclusions.applicationIDs),
        ]
    }

    public func claimRelayedJobs(subscriptionID: UUID, limit: Int, leaseFor lease: Duration) async throws
        -> [DeliveryJob]
    {
        try await claim(
            limit: limit, leaseFor: lease,
            matching: """
                subscription_id = ? AND subscription_id IN (
                    SELECT id FROM subscription WHERE relayed = 1 AND is_enabled = 1 AND deleted_at IS NULL)
                AND \(Self.orderedHeadsOnly)
                """,
            arguments: [subscriptionID.lowercased], inFlightOf: subscriptionID)
    }

    /// Leases up to `limit` due attempts that also meet `condition` (an SQL condition on `request_attempt` with
    /// `arguments`), oldest due first, and reads what delivering them needs; with `inFlightOf`, `limit` counts that
    /// subscription's attempts already leased and unanswered too.
    private func claim(
        limit: Int, leaseFor lease: Duration, matching condition: String, arguments: StatementArguments,
        inFlightOf subscriptionID: UUID? = nil
    ) async throws -> [DeliveryJob] {
        let leaseMicros = lease.components.seconds * 1_000_000 + lease.components.attoseconds / 1_000_000_000_000
        return try await write { db in
            let now = SQLValues.micros(Date())
            let claimToken = UUID()
            var limit = limit
            if let subscriptionID {
                let leased =
                    try Int.fetchOne(
                        db,
                        sql: """
                            SELECT count(*) FROM request_attempt
                            WHERE subscription_id = ? AND failed_at IS NULL AND succeeded_at IS NULL
                              AND claim_token IS NOT NULL AND due_at > ?
                            """, arguments: [subscriptionID.lowercased, now]) ?? 0
                limit -= leased
                guard limit > 0 else { return [] }
            }
            let ids = try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT id FROM request_attempt
                        WHERE failed_at IS NULL AND succeeded_at IS NULL AND due_at <= ? AND \(condition)
                        ORDER BY due_at LIMIT ?
                        """),
                arguments: [now] + arguments + [limit])
            guard !ids.isEmpty else { return [] }
            try db.executeCached(
                """
                UPDATE request_attempt SET picked_at = ?, due_at = ?, claim_token = ?
                WHERE id IN (\(SQLValues.placeholders(ids.count)))
                """,
                [now, now + leaseMicros, claimToken.lowercased] + StatementArguments(ids))
            let rows = try db.cachedRows(
                """
                SELECT ra.id, ra.application_id, ra.event_id, ra.subscription_id, ra.retry_count,
                    e.event_type, e.payload, e.payload_content_type,
                    s.secret, s.target_method, s.target_url, s.target_headers, s.retry_override, s.circuit_opened_at,
                    s.ed25519_private_key, s.previous_secret, s.previous_ed25519_private_key,
                    s.previous_secret_expires_at, s.ordered
                FROM request_attempt ra
                JOIN event e ON e.id = ra.event_id
                JOIN subscription s ON s.id = ra.subscription_id
                WHERE ra.id IN (\(SQLValues.placeholders(ids.count)))
                ORDER BY ra.due_at
                """,
                StatementArguments(ids))
            return try rows.map { row in
                DeliveryJob(
                    attemptID: try SQLValues.uuid(row, "id"), claimToken: claimToken,
                    applicationID: try SQLValues.uuid(row, "application_id"),
                    eventID: try SQLValues.uuid(row, "event_id"), eventType: row["event_type"],
                    payload: SQLValues.bytes(row, "payload"), payloadContentType: row["payload_content_type"],
                    subscriptionID: try SQLValues.uuid(row, "subscription_id"),
                    secret: try SQLValues.uuid(row, "secret"),
                    target: HTTPTarget(
                        method: row["target_method"], url: row["target_url"],
                        headers: SQLValues.map(row, "target_headers")),
                    retryCount: row["retry_count"], retry: RetryOverride(stored: row["retry_override"]),
                    circuitOpenedAt: (row["circuit_opened_at"] as Int64?).map(Timestamp.date(microseconds:)),
                    signing: try SigningKeys(stored: SQLiteRow(row)), isOrdered: row["ordered"])
            }
        }
    }

    public func recordOutcome(_ observation: AttemptObservation, for job: DeliveryJob, retryAt: Date?) async throws
        -> Bool
    {
        try await outcomeBatcher.submit(OutcomeRecord(observation: observation, job: job, retryAt: retryAt))
    }

    /// Records a batch of outcomes in one write; returns, per outcome in order, whether it was recorded (`false`:
    /// the lease was lost). The tallies are added once per application, day, measure and bucket.
    static func writeOutcomes(_ records: [OutcomeRecord], _ db: Database) throws -> [Result<Bool, DomainError>] {
        let now = SQLValues.micros(Date())
        let day = DailyTally.day(of: Timestamp.date(microseconds: now))
        var tallies: [OutcomeTally: Int] = [:]
        let outcomes = try records.map { record -> Result<Bool, DomainError> in
            let (observation, job) = (record.observation, record.job)
            let responseID = UUIDv7.make()
            try db.executeCached(
                """
                INSERT INTO response (id, application_id, error_name, http_code, headers, body, body_truncated,
                    elapsed_ms, request_method, request_url, request_headers)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    responseID.lowercased, job.applicationID.lowercased, observation.errorName?.rawValue,
                    observation.httpStatus, observation.headers.map(SQLValues.json), observation.body.map { Data($0) },
                    observation.bodyTruncated, observation.elapsedMilliseconds, observation.request?.method,
                    observation.request?.url, observation.request.map { SQLValues.json($0.headers) },
                ])
            let succeeded = observation.isDelivered
            try db.executeCached(
                """
                UPDATE request_attempt SET \(succeeded ? "succeeded_at" : "failed_at") = ?, response_id = ?
                WHERE id = ? AND claim_token = ? AND failed_at IS NULL AND succeeded_at IS NULL
                """,
                [now, responseID.lowercased, job.attemptID.lowercased, job.claimToken.lowercased])
            guard db.changesCount > 0 else {
                // The lease was lost (expired and re-claimed, or the attempt was cancelled): drop this record.
                try db.execute(sql: "DELETE FROM response WHERE id = ?", arguments: [responseID.lowercased])
                return .success(false)
            }
            tallies[
                OutcomeTally(application: job.applicationID, measure: succeeded ? .succeeded : .failed), default: 0] +=
                1
            tallies[
                OutcomeTally(
                    application: job.applicationID, measure: .latency,
                    bucket: DailyTally.latencyBucket(milliseconds: observation.elapsedMilliseconds)), default: 0] += 1
            guard !succeeded, let retryAt = record.retryAt else { return .success(true) }
            let stillLive = try db.cachedRow(
                """
                SELECT 1 FROM subscription s JOIN application a ON a.id = s.application_id
                WHERE s.id = ? AND s.is_enabled = 1 AND s.deleted_at IS NULL AND a.deleted_at IS NULL
                """,
                [job.subscriptionID.lowercased])
            guard stillLive != nil else { return .success(true) }
            let delayUntil = SQLValues.micros(retryAt)
            try db.executeCached(
                """
                INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at,
                    delay_until, retry_count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    UUIDv7.make().lowercased, job.applicationID.lowercased, job.eventID.lowercased,
                    job.subscriptionID.lowercased, now, delayUntil, delayUntil, job.retryCount + 1,
                ])
            return .success(true)
        }
        for (tally, amount) in tallies {
            try Self.tally(
                db, applicationID: tally.application, day: day, tally.measure, bucket: tally.bucket, amount: amount)
        }
        return outcomes
    }

    public func markSubscriptionFailing(_ id: UUID, at now: Date) async throws -> Date? {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE subscription SET failing_since = ?
                    WHERE id = ? AND failing_since IS NULL AND deleted_at IS NULL
                    """,
                arguments: [SQLValues.micros(now), id.lowercased])
            return try Int64.fetchOne(
                db, sql: "SELECT failing_since FROM subscription WHERE id = ? AND deleted_at IS NULL",
                arguments: [id.lowercased]
            ).map(Timestamp.date(microseconds:))
        }
    }

    public func markSubscriptionHealthy(_ id: UUID) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE subscription SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL",
                arguments: [id.lowercased])
        }
    }

    public func openCircuit(subscriptionID: UUID, at now: Date, probeAt: Date) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE subscription SET circuit_opened_at = ?, circuit_probe_at = ?
                    WHERE id = ? AND circuit_opened_at IS NULL AND is_enabled = 1 AND deleted_at IS NULL
                    """,
                arguments: [SQLValues.micros(now), SQLValues.micros(probeAt), subscriptionID.lowercased])
            return db.changesCount > 0
        }
    }

    public func takeCircuitProbe(subscriptionID: UUID, until: Date) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE subscription SET circuit_probe_at = ?
                    WHERE id = ? AND circuit_opened_at IS NOT NULL AND circuit_probe_at <= ?
                    """,
                arguments: [SQLValues.micros(until), subscriptionID.lowercased, SQLValues.micros(Date())])
            return db.changesCount > 0
        }
    }

    public func scheduleCircuitProbe(subscriptionID: UUID, probeAt: Date) async throws {
        try await write(signalsWork: true) { db in
            try db.execute(
                sql: "UPDATE subscription SET circuit_probe_at = ? WHERE id = ? AND circuit_opened_at IS NOT NULL",
                arguments: [SQLValues.micros(probeAt), subscriptionID.lowercased])
        }
    }

    public func closeCircuit(subscriptionID: UUID) async throws -> Bool {
        try await write(signalsWork: true) { db in
            try db.execute(
                sql: """
                    UPDATE subscription SET circuit_opened_at = NULL, circuit_probe_at = NULL
                    WHERE id = ? AND circuit_opened_at IS NOT NULL
                    """,
                arguments: [subscriptionID.lowercased])
            return db.changesCount > 0
        }
    }

    public func releaseLeases(of jobs: [DeliveryJob]) async throws {
        guard !jobs.isEmpty else { return }
        try await write(signalsWork: true) { db in
            let now = SQLValues.micros(Date())
            for job in jobs {
                try db.executeCached(
                    """
                    UPDATE request_attempt SET picked_at = NULL, claim_token = NULL, due_at = ?
                    WHERE id = ? AND claim_token = ? AND failed_at IS NULL AND succeeded_at IS NULL
                    """,
                    [now, job.attemptID.lowercased, job.claimToken.lowercased])
            }
        }
    }

    public func nextDueDate(excluding exclusions: ClaimExclusions) async throws -> Date? {
        let now = SQLValues.micros(Date())
        return try await read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT min(next) FROM (
                        SELECT * FROM (
                            SELECT due_at AS next FROM request_attempt
                            WHERE failed_at IS NULL AND succeeded_at IS NULL AND \(Self.sentByWorkers)
                            ORDER BY due_at LIMIT 1)
                        UNION ALL
                        SELECT min(circuit_probe_at) FROM subscription
                        WHERE circuit_probe_at > ? AND deleted_at IS NULL AND relayed = 0)
                    """,
                arguments: Self.sentByWorkersArguments(now: now, excluding: exclusions) + [now]
            ).map(Timestamp.date(microseconds:))
        }
    }

    public func queueStatistics(now: Date) async throws -> QueueStatistics {
        let nowMicros = SQLValues.micros(now)
        return try await read { db in
            let queue = try Row.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(due_at <= ?1), 0) AS due,
                        COALESCE(SUM(due_at > ?1 AND claim_token IS NOT NULL), 0) AS leased,
                        COALESCE(SUM(due_at > ?1 AND claim_token IS NULL), 0) AS waiting,
                        MIN(CASE WHEN due_at <= ?1 THEN due_at END) AS oldest_due
                    FROM request_attempt WHERE failed_at IS NULL AND succeeded_at IS NULL
                    """, arguments: [nowMicros])
            let subscriptions = try Row.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(is_enabled), 0) AS enabled, COALESCE(SUM(NOT is_enabled), 0) AS disabled,
                        COALESCE(SUM(circuit_opened_at IS NOT NULL), 0) AS circuit_open
                    FROM subscription WHERE deleted_at IS NULL
                    """)
            let oldestDue: Int64? = queue?["oldest_due"]
            return QueueStatistics(
                due: queue?["due"] ?? 0, leased: queue?["leased"] ?? 0, waiting: queue?["waiting"] ?? 0,
                oldestDueAgeSeconds: oldestDue.map { max(0, Double(nowMicros - $0) / 1_000_000) } ?? 0,
                enabledSubscriptions: subscriptions?["enabled"] ?? 0,
                disabledSubscriptions: subscriptions?["disabled"] ?? 0,
                circuitOpenSubscriptions: subscriptions?["circuit_open"] ?? 0)
        }
    }
}

/// One daily tally a batch of outcomes adds to (the day is the batch's).
private struct OutcomeTally: Hashable {
    var application: UUID
    var measure: DailyTally.Measure
    var bucket = 0
}
