import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    public func ingest(_ event: Event) async throws -> Event {
        try await write(signalsWork: true) { db in
            do {
                try db.executeCached(
                    """
                    INSERT INTO event (id, application_id, event_type, payload, payload_content_type, ip, metadata,
                        labels, occurred_at, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        event.id.lowercased, event.applicationID.lowercased, event.eventType, Data(event.payload),
                        event.payloadContentType.rawValue, event.ip, SQLValues.json(event.metadata),
                        SQLValues.json(event.labels), SQLValues.micros(event.occurredAt),
                        SQLValues.micros(event.receivedAt),
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw DomainError.eventAlreadyIngested
            }
            // The writer is serialized, so an application deleted before this write is seen here, and one deleted
            // after it cancels the attempts this write creates.
            let applicationIsLive = try db.cachedRow(
                "SELECT 1 FROM application WHERE id = ? AND deleted_at IS NULL", [event.applicationID.lowercased])
            if applicationIsLive == nil { throw DomainError.forbidden }
            let typeExists = try db.cachedRow(
                "SELECT 1 FROM event_type WHERE application_id = ? AND name = ?",
                [event.applicationID.lowercased, event.eventType])
            if typeExists == nil { throw DomainError.eventTypeDoesNotExist }
            try Self.fanOut(db, event: event, at: event.receivedAt)
            try Self.tally(db, applicationID: event.applicationID, day: DailyTally.day(of: event.receivedAt), .events)
            return event
        }
    }

    /// Inserts one attempt per subscription `FanOutRule` sends the event to. SQL selects the candidates: the
    /// application's live subscriptions that listen to the event's type.
    static func fanOut(_ db: Database, event: Event, at now: Date) throws {
        let candidates = try db.cachedRows(
            """
            SELECT s.id, s.is_enabled, s.labels FROM subscription s
            JOIN subscription_event_type t ON t.subscription_id = s.id
            WHERE s.application_id = ? AND s.deleted_at IS NULL AND t.event_type_name = ?
            """,
            [event.applicationID.lowercased, event.eventType]
        ).map { row in
            FanOutRule.Candidate(
                id: try SQLValues.uuid(row, "id"), isEnabled: row["is_enabled"], eventTypes: [event.eventType],
                labels: SQLValues.map(row, "labels"))
        }
        let createdAt = SQLValues.micros(now)
        for subscriptionID in FanOutRule.recipients(
            eventType: event.eventType, eventLabels: event.labels, among: candidates)
        {
            try db.executeCached(
                """
                INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at,
                    retry_count)
                VALUES (?, ?, ?, ?, ?, ?, 0)
                """,
                [
                    UUIDv7.make(at: now).lowercased, event.applicationID.lowercased, event.id.lowercased,
                    subscriptionID.lowercased, createdAt, createdAt,
                ])
        }
    }

    public func events(_ query: EventQuery) async throws -> [Event] {
        var conditions = ["e.application_id = ?"]
        var arguments: StatementArguments = [query.applicationID.lowercased]
        if let eventType = query.eventType {
            conditions.append("e.event_type = ?")
            arguments += [eventType]
        }
        if let label = query.label {
            // Labels are a JSON object; the key is passed as a JSON path of one quoted member.
            conditions.append("json_extract(e.labels, ?) = ?")
            arguments += ["$." + Self.jsonPathMember(label.key), label.value]
        }
        if let from = query.from {
            conditions.append("e.received_at >= ?")
            arguments += [SQLValues.micros(from)]
        }
        if let to = query.to {
            conditions.append("e.received_at <= ?")
            arguments += [SQLValues.micros(to)]
        }
        if let delivery = query.delivery { conditions.append(delivery.condition) }
        if let before = query.before {
            conditions.append("(e.received_at, e.id) < (?, ?)")
            arguments += [SQLValues.micros(before.receivedAt), before.id.lowercased]
        }
        arguments += [query.limit]
        let sql = """
            SELECT e.* FROM event e WHERE \(conditions.joined(separator: " AND "))
            ORDER BY e.received_at DESC, e.id DESC LIMIT ?
            """
        let finalArguments = arguments
        return try await read { db in try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.event) }
    }

    /// `key` as one member of a SQLite JSON path: quoted, with quotes and backslashes escaped.
    static func jsonPathMember(_ key: String) -> String {
        "\"" + key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    public func event(id: UUID, applicationID: UUID) async throws -> Event? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM event WHERE id = ? AND application_id = ?",
                arguments: [id.lowercased, applicationID.lowercased]
            ).map(Self.event)
        }
    }

    public func replay(eventID: UUID, applicationID: UUID) async throws -> Bool {
        try await write(signalsWork: true) { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM event WHERE id = ? AND application_id = ?",
                    arguments: [eventID.lowercased, applicationID.lowercased])
            else { return false }
            try Self.fanOut(db, event: try Self.event(row), at: Date())
            return true
        }
    }

    static func event(_ row: Row) throws -> Event {
        try Event(stored: SQLiteRow(row))
    }
}
