import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    /// Events past their application's retention and with no pending attempt. `CROSS JOIN` makes SQLite walk the
    /// applications and search each one's events by the (application_id, received_at) index: left to choose, its
    /// planner scanned every event instead, which held the writer for over a second on a million events.
    static let expiredEventsQuery = """
        SELECT e.id FROM application a
        CROSS JOIN event e ON e.application_id = a.id
            AND e.received_at < ? - COALESCE(a.retention_days, ?) * 86400000000
        WHERE NOT EXISTS (
            SELECT 1 FROM request_attempt ra
            WHERE ra.event_id = e.id AND ra.failed_at IS NULL AND ra.succeeded_at IS NULL)
        LIMIT ?
        """

    /// SQLite's plan for `sql` (the `detail` column of `EXPLAIN QUERY PLAN`), for tests that pin an index's use.
    func queryPlan(_ sql: String, arguments: [Int64]) async throws -> [String] {
        try await read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(arguments))
                .map { $0["detail"] ?? "" }
        }
    }

    public func deleteExpiredEvents(defaultRetentionDays: Int, now: Date, limit: Int) async throws -> Int {
        let nowMicros = SQLValues.micros(now)
        return try await write { db in
            let ids = try String.fetchAll(
                db, sql: Self.expiredEventsQuery, arguments: [nowMicros, defaultRetentionDays, limit])
            guard !ids.isEmpty else { return 0 }
            let placeholders = SQLValues.placeholders(ids.count)
            let events = StatementArguments(ids)
            let responseIDs = try String.fetchAll(
                db,
                sql: """
                    SELECT response_id FROM request_attempt
                    WHERE event_id IN (\(placeholders)) AND response_id IS NOT NULL
                    """, arguments: events)
            try db.execute(sql: "DELETE FROM request_attempt WHERE event_id IN (\(placeholders))", arguments: events)
            for chunk in stride(from: 0, to: responseIDs.count, by: 500) {
                let part = Array(responseIDs[chunk..<min(chunk + 500, responseIDs.count)])
                try db.execute(
                    sql: "DELETE FROM response WHERE id IN (\(SQLValues.placeholders(part.count)))",
                    arguments: StatementArguments(part))
            }
            try db.execute(sql: "DELETE FROM event WHERE id IN (\(placeholders))", arguments: events)
            return ids.count
        }
    }

    /// Moves free pages to the end of the file and cuts them off, 8 MB at a time so a large clean-up never holds
    /// the writer long, then checkpoints and truncates the WAL.
    public func reclaimSpace() async throws {
        var previous = Int.max
        while true {
            let remaining = try await writeWithoutTransaction { db -> Int in
                try db.execute(sql: "PRAGMA incremental_vacuum(2048)")
                return try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            }
            if remaining == 0 || remaining >= previous { break }
            previous = remaining
            await Task.yield()
        }
        try await writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    public func storageBytes() async throws -> Int64 {
        try await read { db in
            let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            return pages * pageSize
        }
    }

    public func setApplicationRetention(id: UUID, days: Int?) async throws -> Application? {
        try await write { db in
            try db.execute(
                sql: "UPDATE application SET retention_days = ? WHERE id = ? AND deleted_at IS NULL",
                arguments: [days, id.lowercased])
            return try Self.liveApplication(db, id: id)
        }
    }
}
