import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    public func ingest(_ event: Event) async throws -> Event {
        try await write(signalsWork: true) { db in
            var lookups = IngestLookups()
            try Self.insert(event, db, lookups: &lookups)
            try Self.addTallies(lookups, db)
            return event
        }
    }

    /// One group-commit write for the whole batch. Each event is checked before anything of it is written, so a
    /// refused event leaves nothing behind without a savepoint of its own; what the checks and the fan-out read
    /// is read once per application and type, and the tally is added once per application and day.
    public func ingest(batch events: [Event]) async throws -> [Result<Event, any Error>] {
        guard !events.isEmpty else { return [] }
        return try await write(signalsWork: true) { db in
            var lookups = IngestLookups()
            let outcomes = try events.map { event -> Result<Event, any Error> in
                do {
                    try Self.insert(event, db, lookups: &lookups)
                    return .success(event)
                } catch let refusal as DomainError {
                    return .failure(refusal)
                }
            }
            try Self.addTallies(lookups, db)
            return outcomes
        }
    }

    /// Adds the events counted while inserting to the daily tallies, once per application and day.
    private static func addTallies(_ lookups: IngestLookups, _ db: Database) throws {
        for (key, amount) in lookups.tallies {
            try tally(db, applicationID: key.applicationID, day: key.day, .events, amount: amount)
        }
    }

    /// Writes one event: refused (`DomainError`) before any write, or stored with its attempts. The writer is
    /// serialized, so an application deleted before this write is seen here, and one deleted after it cancels the
    /// attempts this write creates.
    private static func insert(_ event: Event, _ db: Database, lookups: inout IngestLookups) throws {
        let application = event.applicationID.lowercased
        let isLive =
            try lookups.liveApplications[event.applicationID]
            ?? {
                let live = try db.cachedRow(
                    "SELECT 1 FROM application WHERE id = ? AND deleted_at IS NULL", [application])
                lookups.liveApplications[event.applicationID] = live != nil
                return live != nil
            }()
        guard isLive else { throw DomainError.forbidden }
        let typeKey = IngestLookups.TypeKey(applicationID: event.applicationID, eventType: event.eventType)
        let candidates: [FanOutRule.Candidate]
        if let known = lookups.candidates[typeKey] {
            guard let known else { throw DomainError.eventTypeDoesNotExist }
            candidates = known
        } else {
            let typeExists = try db.cachedRow(
                "SELECT 1 FROM event_type WHERE application_id = ? AND name = ?", [application, event.eventType])
            guard typeExists != nil else {
                lookups.candidates[typeKey] = .some(nil)
                throw DomainError.eventTypeDoesNotExist
            }
            candidates = try fanOutCandidates(db, event: event)
            lookups.candidates[typeKey] = candidates
        }
        try insertRow(event, db)
        try insertAttempts(db, event: event, at: event.receivedAt, among: candidates)
        lookups.tallies[
            IngestLookups.TallyKey(applicationID: event.applicationID, day: DailyTally.day(of: event.receivedAt)),
            default: 0] += 1
    }

    /// Inserts the event's row; a repeated id is `eventAlreadyIngested`.
    private static func insertRow(_ event: Event, _ db: Database) throws {
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
    }

    /// Inserts one attempt per subscription `FanOutRule` sends the event to. SQL selects the candidates: the
    /// application's live subscriptions that listen to the event's type.
    static func fanOut(_ db: Database, event: Event, at now: Date) throws {
        try insertAttempts(db, event: event, at: now, among: fanOutCandidates(db, event: event))
    }

    /// The application's live subscriptions that listen to the event's type.
    private static func fanOutCandidates(_ db: Database, event: Event) throws -> [FanOutRule.Candidate] {
        try db.cachedRows(
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
    }

    /// One attempt per candidate `FanOutRule` sends the event to.
    private static func insertAttempts(
        _ db: Database, event: Event, at now: Date, among candidates: [FanOutRule.Candidate]
    ) throws {
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

/// What the events of one batch write share: whether each application is live, each type's fan-out candidates
/// (`nil` for an undeclared type), and the events to add to each day's tally. The writer is serialized, so none
/// of it changes within the transaction.
private struct IngestLookups {
    struct TypeKey: Hashable {
        var applicationID: UUID
        var eventType: String
    }

    struct TallyKey: Hashable {
        var applicationID: UUID
        var day: Int
    }

    var liveApplications: [UUID: Bool] = [:]
    var candidates: [TypeKey: [FanOutRule.Candidate]?] = [:]
    var tallies: [TallyKey: Int] = [:]
}
