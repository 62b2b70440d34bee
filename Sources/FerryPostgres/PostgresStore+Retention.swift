import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    /// One statement: picks the batch (skipping rows another sweeper holds), then deletes its attempts, their
    /// responses and the events. Foreign keys are checked at the end of the statement, when all three are gone.
    public func deleteExpiredEvents(defaultRetentionDays: Int, now: Date, limit: Int) async throws -> Int {
        let days = Int32(clamping: defaultRetentionDays)
        let rows = try await client.query(
            """
            WITH doomed AS (
                SELECT e.id FROM application a
                JOIN event e ON e.application_id = a.id
                    AND e.received_at < \(now.postgres) - make_interval(days => COALESCE(a.retention_days, \(days)))
                WHERE NOT EXISTS (
                    SELECT 1 FROM request_attempt ra
                    WHERE ra.event_id = e.id AND ra.failed_at IS NULL AND ra.succeeded_at IS NULL)
                LIMIT \(limit)
                FOR UPDATE OF e SKIP LOCKED
            ), attempts AS (
                DELETE FROM request_attempt ra USING doomed d WHERE ra.event_id = d.id RETURNING ra.response_id
            ), responses AS (
                DELETE FROM response r USING attempts a WHERE r.id = a.response_id
            )
            DELETE FROM event e USING doomed d WHERE e.id = d.id RETURNING e.id
            """, logger: logger
        )
        return rows.count
    }

    /// `VACUUM` marks the freed space reusable and cuts empty pages off the end of each table. It runs outside the
    /// operation deadline: on large tables it takes longer than a statement may.
    public func reclaimSpace() async throws {
        do {
            try await pool.query("VACUUM (ANALYZE) request_attempt, response, event", logger: logger)
        } catch {
            throw PostgresFailure.reported(error)
        }
    }

    public func storageBytes() async throws -> Int64 {
        let rows = try await client.query(
            """
            SELECT (pg_total_relation_size('event') + pg_total_relation_size('request_attempt')
                + pg_total_relation_size('response'))::int8 AS bytes
            """, logger: logger
        )
        return try rows.first.map { try Columns($0).get("bytes", as: Int64.self) } ?? 0
    }

    public func setApplicationRetention(id: UUID, days: Int?) async throws -> Application? {
        let value = days.map { Int32(clamping: $0) }
        return try await client.query(
            "UPDATE application SET retention_days = \(value) WHERE id = \(id) AND deleted_at IS NULL RETURNING *",
            logger: logger
        ).first.map { try Self.application(Columns($0)) }
    }
}
