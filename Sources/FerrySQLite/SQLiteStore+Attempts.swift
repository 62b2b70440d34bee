import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    private static let attemptColumns = """
        SELECT ra.*, e.event_type, s.description AS subscription_description, r.http_code
        FROM request_attempt ra
        JOIN event e ON e.id = ra.event_id
        JOIN subscription s ON s.id = ra.subscription_id
        LEFT JOIN response r ON r.id = ra.response_id
        """

    public func requestAttempts(_ query: AttemptQuery) async throws -> [RequestAttempt] {
        var (conditions, arguments) = Self.filter(query)
        if let after = query.after {
            conditions.append("(ra.created_at < ? OR (ra.created_at = ? AND ra.id < ?))")
            let micros = SQLValues.micros(after.createdAt)
            arguments += [micros, micros, after.id.lowercased]
        }
        arguments += [query.limit]
        let sql = """
            \(Self.attemptColumns)
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY ra.created_at DESC, ra.id DESC LIMIT ?
            """
        let finalArguments = arguments
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.requestAttempt)
        }
    }

    public func countAttempts(_ query: AttemptQuery) async throws -> Int {
        let (conditions, arguments) = Self.filter(query)
        let sql = """
            SELECT COUNT(*) FROM request_attempt ra JOIN event e ON e.id = ra.event_id
            LEFT JOIN response r ON r.id = ra.response_id
            WHERE \(conditions.joined(separator: " AND "))
            """
        return try await read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }

    public func recoverGivenUp(applicationID: UUID, subscriptionID: UUID?, from: Date, to: Date, limit: Int)
        async throws -> Int
    {
        let query = AttemptQuery(
            applicationID: applicationID, subscriptionID: subscriptionID, minCreatedAt: from, maxCreatedAt: to,
            outcome: .givenUp)
        let (conditions, arguments) = Self.filter(query)
        return try await write(signalsWork: true) { db in
            let candidates = try String.fetchAll(
                db,
                sql: """
                    SELECT ra.id FROM request_attempt ra JOIN event e ON e.id = ra.event_id
                    JOIN subscription s ON s.id = ra.subscription_id LEFT JOIN response r ON r.id = ra.response_id
                    WHERE \(conditions.joined(separator: " AND ")) AND s.deleted_at IS NULL AND s.is_enabled
                    ORDER BY ra.created_at, ra.id LIMIT ?
                    """, arguments: arguments + [limit])
            let now = Date()
            for (offset, id) in candidates.enumerated() {
                // Ids in creation order, so the recovered attempts list in the order they failed.
                let attemptID = UUIDv7.make(at: now.addingTimeInterval(Double(offset) / 1_000_000))
                try db.execute(
                    sql: """
                        INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at,
                            retry_count)
                        SELECT ?, application_id, event_id, subscription_id, ?, ?, 0 FROM request_attempt WHERE id = ?
                        """,
                    arguments: [
                        attemptID.lowercased, SQLValues.micros(now), SQLValues.micros(now), id,
                    ])
            }
            return candidates.count
        }
    }

    /// The conditions of a query's filters (not its position), over `ra`, its event `e` and its response `r`.
    private static func filter(_ query: AttemptQuery) -> ([String], StatementArguments) {
        // One event's attempts are few: the unary `+` keeps SQLite from walking the application's whole listing
        // index instead of the event's (measured: 62 ms for an event page of a 100,000-attempt application).
        var conditions = [query.eventID == nil ? "ra.application_id = ?" : "+ra.application_id = ?"]
        var arguments: StatementArguments = [query.applicationID.lowercased]
        if let eventID = query.eventID {
            conditions.append("ra.event_id = ?")
            arguments += [eventID.lowercased]
        }
        if let subscriptionID = query.subscriptionID {
            conditions.append("ra.subscription_id = ?")
            arguments += [subscriptionID.lowercased]
        }
        if let minCreatedAt = query.minCreatedAt {
            conditions.append("ra.created_at >= ?")
            arguments += [SQLValues.micros(minCreatedAt)]
        }
        if let maxCreatedAt = query.maxCreatedAt {
            conditions.append("ra.created_at <= ?")
            arguments += [SQLValues.micros(maxCreatedAt)]
        }
        if let types = query.eventTypes, !types.isEmpty {
            conditions.append("e.event_type IN (\(SQLValues.placeholders(types.count)))")
            arguments += StatementArguments(types)
        }
        conditions += query.outcomeConditions
        return (conditions, arguments)
    }

    public func requestAttempt(id: UUID, applicationID: UUID) async throws -> RequestAttempt? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "\(Self.attemptColumns) WHERE ra.id = ? AND ra.application_id = ?",
                arguments: [id.lowercased, applicationID.lowercased]
            ).map(Self.requestAttempt)
        }
    }

    public func retryAttempt(id: UUID, applicationID: UUID) async throws -> UUID? {
        try await write(signalsWork: true) { db in
            let now = Date()
            let attemptID = UUIDv7.make(at: now)
            let createdAt = SQLValues.micros(now)
            try db.execute(
                sql: """
                    INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at,
                        retry_count)
                    SELECT ?, ra.application_id, ra.event_id, ra.subscription_id, ?, ?, 0
                    FROM request_attempt ra JOIN subscription s ON s.id = ra.subscription_id
                    WHERE ra.id = ? AND ra.application_id = ? AND s.deleted_at IS NULL AND s.is_enabled
                    """,
                arguments: [attemptID.lowercased, createdAt, createdAt, id.lowercased, applicationID.lowercased])
            return db.changesCount > 0 ? attemptID : nil
        }
    }

    public func applicationQueue(applicationID: UUID, at now: Date) async throws -> ApplicationQueue {
        let unfinished = "application_id = ?1 AND failed_at IS NULL AND succeeded_at IS NULL"
        return try await read { db in
            // Both counts walk `request_attempt_unfinished` and stop after one more than the limit.
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM request_attempt
                            WHERE \(unfinished) AND due_at <= ?2 LIMIT ?3)) AS due,
                        (SELECT MIN(due_at) FROM request_attempt WHERE \(unfinished) AND due_at <= ?2) AS oldest_due,
                        later.amount, later.leased
                    FROM (SELECT COUNT(*) AS amount, COALESCE(SUM(claim_token IS NOT NULL), 0) AS leased
                        FROM (SELECT claim_token FROM request_attempt WHERE \(unfinished) AND due_at > ?2
                            ORDER BY due_at LIMIT ?3)) AS later
                    """,
                arguments: [applicationID.lowercased, SQLValues.micros(now), ApplicationQueue.countLimit + 1])
            let oldest: Int64? = row?["oldest_due"]
            return ApplicationQueue(
                countedDue: row?["due"] ?? 0, countedLater: row?["amount"] ?? 0, leasedAmongLater: row?["leased"] ?? 0,
                oldestDueAt: oldest.map(Timestamp.date(microseconds:)))
        }
    }

    public func response(id: UUID, applicationID: UUID) async throws -> AttemptResponse? {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM response WHERE id = ? AND application_id = ?",
                    arguments: [id.lowercased, applicationID.lowercased])
            else { return nil }
            return AttemptResponse(
                id: try SQLValues.uuid(row, "id"), applicationID: try SQLValues.uuid(row, "application_id"),
                errorName: (row["error_name"] as String?).flatMap(ResponseErrorName.init(rawValue:)),
                httpCode: row["http_code"], headers: SQLValues.optionalMap(row, "headers"),
                body: (row["body"] as Data?).map(Array.init), bodyTruncated: row["body_truncated"],
                elapsedMilliseconds: row["elapsed_ms"],
                request: (row["request_method"] as String?).map { method in
                    SentRequest(
                        stored: method, url: row["request_url"] ?? "",
                        headers: SQLValues.optionalMap(row, "request_headers") ?? [:])
                })
        }
    }

    static func requestAttempt(_ row: Row) throws -> RequestAttempt {
        RequestAttempt(
            id: try SQLValues.uuid(row, "id"), applicationID: try SQLValues.uuid(row, "application_id"),
            eventID: try SQLValues.uuid(row, "event_id"), eventType: row["event_type"],
            subscriptionID: try SQLValues.uuid(row, "subscription_id"),
            subscriptionDescription: row["subscription_description"], createdAt: SQLValues.date(row, "created_at"),
            pickedAt: SQLValues.optionalDate(row, "picked_at"), failedAt: SQLValues.optionalDate(row, "failed_at"),
            succeededAt: SQLValues.optionalDate(row, "succeeded_at"),
            delayUntil: SQLValues.optionalDate(row, "delay_until"),
            responseID: try SQLValues.optionalUUID(row, "response_id"),
            retryCount: row["retry_count"], httpResponseStatus: row["http_code"])
    }
}
