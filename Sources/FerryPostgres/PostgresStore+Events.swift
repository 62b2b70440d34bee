import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    public func ingest(_ event: Event) async throws -> Event {
        try await ingestBatcher.submit(event)
    }

    /// Writes a batch of events with their fan-out (decision D5) in one transaction of three statements: which
    /// event types are active, which subscriptions match (held `FOR SHARE`, so a concurrent disable cannot miss
    /// the new attempts), then one statement inserting the events and the attempts of those that were new.
    /// Returns one outcome per event, in order: an inactive type or an existing id fails that event alone.
    static func writeIngestBatch(_ events: [Event], database: DatabaseAccess) async throws -> [IngestOutcome] {
        let logger = database.logger
        return try await database.transaction { connection in
            let activeTypes = try await connection.rows(
                ActiveEventTypesQuery(applicationIDs: events.map(\.applicationID), eventTypes: events.map(\.eventType)),
                logger: logger
            ).map { row in
                let columns = Columns(row)
                return RoutingKey(applicationID: try columns.get("application_id"), eventType: try columns.get("name"))
            }
            let active = Set(activeTypes)
            let accepted = events.filter { active.contains(RoutingKey($0)) }
            guard !accepted.isEmpty else { return events.map { _ in .failure(.eventTypeDoesNotExist) } }

            let candidates = try await connection.rows(
                MatchingSubscriptionsQuery(
                    applicationIDs: accepted.map(\.applicationID), eventTypes: accepted.map(\.eventType)),
                logger: logger)
            var subscriptionsByKey: [RoutingKey: [(id: UUID, labels: [String: String])]] = [:]
            for row in candidates {
                let columns = Columns(row)
                let key = RoutingKey(
                    applicationID: try columns.get("application_id"), eventType: try columns.get("event_type_name"))
                subscriptionsByKey[key, default: []].append((try columns.get("id"), try columns.map("labels")))
            }
            var attempts = AttemptColumns()
            for event in accepted {
                for subscription in subscriptionsByKey[RoutingKey(event)] ?? []
                where LabelMatcher.contains(event.labels, all: subscription.labels) {
                    attempts.append(event: event, subscriptionID: subscription.id)
                }
            }

            let inserted = try await connection.rows(
                InsertEventsQuery(events: accepted, attempts: attempts), logger: logger)
            let insertedIDs = Set(try inserted.map { try Columns($0).get("id", as: UUID.self) })
            if !attempts.ids.isEmpty { try await notifyWork(connection, logger: logger) }
            return events.map { event in
                if !active.contains(RoutingKey(event)) { return .failure(.eventTypeDoesNotExist) }
                return insertedIDs.contains(event.id) ? .success(event) : .failure(.eventAlreadyIngested)
            }
        }
    }

    /// Inserts one attempt per enabled, live subscription whose event types and labels match (decision D5),
    /// holding the subscriptions `FOR SHARE` so a concurrent disable cannot miss the new attempts.
    func fanOut(_ connection: PostgresConnection, event: Event, at now: Date) async throws {
        let candidates = try await connection.rows(
            MatchingSubscriptionsQuery(applicationIDs: [event.applicationID], eventTypes: [event.eventType]),
            logger: logger)
        var subscriptionIDs: [UUID] = []
        for row in candidates {
            let columns = Columns(row)
            if LabelMatcher.contains(event.labels, all: try columns.map("labels")) {
                subscriptionIDs.append(try columns.get("id"))
            }
        }
        guard !subscriptionIDs.isEmpty else { return }
        let attemptIDs = subscriptionIDs.map { _ in UUIDv7.make(at: now) }
        try await connection.query(
            """
            INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at, retry_count)
            SELECT unnest(\(attemptIDs)), \(event.applicationID), \(event.id), unnest(\(subscriptionIDs)), \(now.postgres), \(now.postgres), 0
            """, logger: self.logger)
        try await Self.notifyWork(connection, logger: self.logger)
    }

    public func events(applicationID: UUID, limit: Int) async throws -> [Event] {
        try await client.query(
            """
            SELECT * FROM event WHERE application_id = \(applicationID) ORDER BY received_at DESC, id DESC LIMIT \(limit)
            """, logger: self.logger
        ).collect().map { try Self.event(Columns($0)) }
    }

    public func event(id: UUID, applicationID: UUID) async throws -> Event? {
        try await client.query(
            "SELECT * FROM event WHERE id = \(id) AND application_id = \(applicationID)", logger: self.logger
        ).collect().first.map { try Self.event(Columns($0)) }
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

    public func eventsPerDay(applicationIDs: [UUID], from: Date, to: Date) async throws -> [EventsPerDay] {
        guard !applicationIDs.isEmpty else { return [] }
        let end = to.addingTimeInterval(86_400)
        return try await client.query(
            """
            SELECT application_id, date_trunc('day', received_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day,
                count(*) AS amount
            FROM event WHERE application_id = ANY(\(applicationIDs)) AND received_at >= \(from.postgres) AND received_at < \(end.postgres)
            GROUP BY application_id, day ORDER BY day, application_id
            """, logger: self.logger
        ).collect().map { row in
            let columns = Columns(row)
            return EventsPerDay(
                applicationID: try columns.get("application_id"), day: try columns.get("day"),
                amount: try columns.get("amount", as: Int.self))
        }
    }

    static func event(_ columns: Columns) throws -> Event {
        let contentType: String = try columns.get("payload_content_type")
        guard let payloadContentType = PayloadContentType(rawValue: contentType) else {
            throw StorageError(isTransient: false, description: "unknown payload content type \(contentType)")
        }
        return Event(
            id: try columns.get("id"), applicationID: try columns.get("application_id"),
            eventType: try columns.get("event_type"), payload: try columns.bytes("payload"),
            payloadContentType: payloadContentType, ip: try columns.get("ip"), metadata: try columns.map("metadata"),
            labels: try columns.map("labels"), occurredAt: try columns.get("occurred_at"),
            receivedAt: try columns.get("received_at"))
    }
}

/// An application's event type: what subscriptions are matched on.
struct RoutingKey: Hashable {
    let applicationID: UUID
    let eventType: String

    init(applicationID: UUID, eventType: String) {
        self.applicationID = applicationID
        self.eventType = eventType
    }

    init(_ event: Event) {
        self.init(applicationID: event.applicationID, eventType: event.eventType)
    }
}

/// The fan-out of a batch as one array per column, ready to bind to an `unnest` insert.
struct AttemptColumns: Sendable {
    var ids: [UUID] = []
    var applicationIDs: [UUID] = []
    var eventIDs: [UUID] = []
    var subscriptionIDs: [UUID] = []
    var createdAt: [PostgresTimestamp] = []

    mutating func append(event: Event, subscriptionID: UUID) {
        ids.append(UUIDv7.make(at: event.receivedAt))
        applicationIDs.append(event.applicationID)
        eventIDs.append(event.id)
        subscriptionIDs.append(subscriptionID)
        createdAt.append(event.receivedAt.postgres)
    }
}
