import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    public func ingest(_ event: Event) async throws -> Event {
        let batcher = ingestBatcher
        return try await client.withTimeLimit { try await batcher.submit(event) }
    }

    /// The events join the shared ingest batches (`StatementBatcher`), so they commit with the ones of
    /// concurrent requests.
    public func ingest(batch events: [Event]) async throws -> [Result<Event, any Error>] {
        let batcher = ingestBatcher
        let outcomes = try await client.withTimeLimit { await batcher.submitAll(events) }
        return outcomes.map { outcome in outcome.mapError { PostgresFailure.reported($0) } }
    }

    /// Writes a batch of events with their fan-out (decision D5) in one statement, `IngestEventsQuery`.
    /// Returns one outcome per event, in order: a deleted application, an unknown type
    /// or an existing id fails that event alone.
    /// A batch never holds the same id twice (`StatementBatcher` keys batches by event id).
    static func writeIngestBatch(_ events: [Event], database: DatabaseAccess) async throws
        -> [Result<Event, DomainError>]
    {
        let rows = try await database.client.rows(IngestEventsQuery(events: events), logger: database.logger)
        var refusals: [UUID: DomainError] = [:]
        for row in rows {
            let columns = Columns(row)
            let id: UUID = try columns.get("id")
            if try !columns.get("live", as: Bool.self) {
                refusals[id] = .forbidden
            } else if try !columns.get("known", as: Bool.self) {
                refusals[id] = .eventTypeDoesNotExist
            } else if try !columns.get("inserted", as: Bool.self) {
                refusals[id] = .eventAlreadyIngested
            }
        }
        return events.map { event in refusals[event.id].map { .failure($0) } ?? .success(event) }
    }

    /// Inserts one attempt per subscription `FanOutRule` sends the event to, holding the candidates `FOR SHARE` so
    /// a concurrent disable cannot miss the new attempts.
    func fanOut(_ connection: PostgresConnection, event: Event, at now: Date) async throws {
        let candidates = try await connection.rows(
            MatchingSubscriptionsQuery(applicationIDs: [event.applicationID], eventTypes: [event.eventType]),
            logger: logger
        ).map { row in
            let columns = Columns(row)
            return FanOutRule.Candidate(
                id: try columns.get("id"), isEnabled: try columns.get("is_enabled"), eventTypes: [event.eventType],
                labels: try columns.map("labels"))
        }
        let subscriptionIDs = FanOutRule.recipients(
            eventType: event.eventType, eventLabels: event.labels, among: candidates)
        guard !subscriptionIDs.isEmpty else { return }
        let attemptIDs = subscriptionIDs.map { _ in UUIDv7.make(at: now) }
        try await connection.query(
            """
            INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at, retry_count)
            SELECT unnest(\(attemptIDs)), \(event.applicationID), \(event.id), unnest(\(subscriptionIDs)), \(now.postgres), \(now.postgres), 0
            """, logger: self.logger)
        try await Self.notifyWork(connection, logger: self.logger)
    }

    public func events(_ query: EventQuery) async throws -> [Event] {
        var bindings = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        var conditions = ["e.application_id = \(bind(query.applicationID))"]
        if let eventType = query.eventType { conditions.append("e.event_type = \(bind(eventType))") }
        if let label = query.label {
            conditions.append("(e.labels::jsonb ->> \(bind(label.key))) = \(bind(label.value))")
        }
        if let from = query.from { conditions.append("e.received_at >= \(bind(from.postgres))") }
        if let to = query.to { conditions.append("e.received_at <= \(bind(to.postgres))") }
        if let delivery = query.delivery { conditions.append(delivery.condition) }
        if let before = query.before {
            conditions.append("(e.received_at, e.id) < (\(bind(before.receivedAt.postgres)), \(bind(before.id)))")
        }
        let sql = """
            SELECT e.* FROM event e WHERE \(conditions.joined(separator: " AND "))
            ORDER BY e.received_at DESC, e.id DESC LIMIT \(bind(query.limit))
            """
        return try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger)
            .map { try Self.event(Columns($0)) }
    }

    public func event(id: UUID, applicationID: UUID) async throws -> Event? {
        try await client.query(
            "SELECT * FROM event WHERE id = \(id) AND application_id = \(applicationID)", logger: self.logger
        ).first.map { try Self.event(Columns($0)) }
    }

    public func replay(eventID: UUID, applicationID: UUID) async throws -> Bool {
        try await transaction { connection in
            guard
                let row = try await connection.query(
                    "SELECT * FROM event WHERE id = \(eventID) AND application_id = \(applicationID)",
                    logger: self.logger
                ).collect().first
            else { return false }
            try await self.fanOut(connection, event: try Self.event(Columns(row)), at: Date())
            return true
        }
    }

    static func event(_ columns: Columns) throws -> Event {
        try Event(stored: columns)
    }
}
