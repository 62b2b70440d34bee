import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    public func claimDueJobs(limit: Int, leaseFor lease: Duration) async throws -> [DeliveryJob] {
        let now = Date()
        let leaseEnd = now.addingTimeInterval(
            Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18)
        let claimToken = UUID()
        // One statement: lock due rows others have not locked, lease them, and read what delivery needs.
        let rows = try await client.rows(
            ClaimDueJobsQuery(now: now, limit: limit, leaseEnd: leaseEnd, claimToken: claimToken), logger: logger)
        return try rows.map { row in
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
                retryCount: try columns.get("retry_count", as: Int.self))
        }
    }

    public func recordOutcome(_ observation: AttemptObservation, for job: DeliveryJob, retryAt: Date?) async throws
        -> Bool
    {
        let succeeded: Bool
        if case .delivered = observation.outcome { succeeded = true } else { succeeded = false }
        return try await transaction { connection in
            let now = Date()
            // Guarded: only while this worker still holds the claim and the attempt is unfinished.
            let owned = try await connection.query(
                """
                SELECT id FROM request_attempt
                WHERE id = \(job.attemptID) AND claim_token = \(job.claimToken)
                  AND failed_at IS NULL AND succeeded_at IS NULL
                FOR UPDATE
                """, logger: self.logger
            ).collect()
            guard !owned.isEmpty else { return false }
            let responseID = UUIDv7.make()
            try await connection.query(
                """
                INSERT INTO response (id, application_id, error_name, http_code, headers, body, body_truncated, elapsed_ms)
                VALUES (\(responseID), \(job.applicationID), \(observation.errorName?.rawValue), \(observation.httpStatus),
                    \(observation.headers.map(StoredJSON.text)), \(observation.body.map { ByteBuffer(bytes: $0) }),
                    \(observation.bodyTruncated), \(observation.elapsedMilliseconds))
                """, logger: self.logger)
            if succeeded {
                try await connection.query(
                    "UPDATE request_attempt SET succeeded_at = \(now.postgres), response_id = \(responseID) WHERE id = \(job.attemptID)",
                    logger: self.logger)
                return true
            }
            try await connection.query(
                "UPDATE request_attempt SET failed_at = \(now.postgres), response_id = \(responseID) WHERE id = \(job.attemptID)",
                logger: self.logger)
            guard let retryAt else { return true }
            let stillLive = try await connection.query(
                """
                SELECT 1 FROM subscription s JOIN application a ON a.id = s.application_id
                WHERE s.id = \(job.subscriptionID) AND s.is_enabled AND s.deleted_at IS NULL AND a.deleted_at IS NULL
                FOR SHARE OF s
                """, logger: self.logger
            ).collect()
            guard !stillLive.isEmpty else { return true }
            try await connection.query(
                """
                INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at,
                    delay_until, retry_count)
                VALUES (\(UUIDv7.make()), \(job.applicationID), \(job.eventID), \(job.subscriptionID), \(now.postgres), \(retryAt.postgres),
                    \(retryAt.postgres), \(job.retryCount + 1))
                """, logger: self.logger)
            try await Self.notifyWork(connection, logger: self.logger)
            return true
        }
    }

    public func releaseLeases(of jobs: [DeliveryJob]) async throws {
        guard !jobs.isEmpty else { return }
        let now = Date()
        try await transaction { connection in
            for job in jobs {
                try await connection.query(
                    """
                    UPDATE request_attempt SET picked_at = NULL, claim_token = NULL, due_at = \(now.postgres)
                    WHERE id = \(job.attemptID) AND claim_token = \(job.claimToken)
                      AND failed_at IS NULL AND succeeded_at IS NULL
                    """, logger: self.logger)
            }
            try await Self.notifyWork(connection, logger: self.logger)
        }
    }

    public func nextDueDate() async throws -> Date? {
        try await client.query(
            "SELECT min(due_at) AS next FROM request_attempt WHERE failed_at IS NULL AND succeeded_at IS NULL",
            logger: self.logger
        ).collect().first.flatMap { try Columns($0).get("next", as: Date?.self) }
    }
}
