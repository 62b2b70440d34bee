import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    public func ingest(_ event: Event) async throws -> Event {
        try await transaction { connection in
            let typeIsActive = try await connection.query(
                """
                SELECT 1 FROM event_type
                WHERE application_id = \(event.applicationID) AND name = \(event.eventType) AND deactivated_at IS NULL
                """, logger: self.logger
            ).collect()
            if typeIsActive.isEmpty { throw DomainError.eventTypeDoesNotExist }
            let inserted = try await connection.query(
                """
                INSERT INTO event (id, application_id, event_type, payload, payload_content_type, ip, metadata, labels,
                    occurred_at, received_at)
                VALUES (\(event.id), \(event.applicationID), \(event.eventType), \(ByteBuffer(bytes: event.payload)),
                    \(event.payloadContentType.rawValue), \(event.ip), \(jsonText(event.metadata)),
                    \(jsonText(event.labels)), \(event.occurredAt.postgres), \(event.receivedAt.postgres))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """, logger: self.logger
            ).collect()
            if inserted.isEmpty { throw DomainError.eventAlreadyIngested }
            try await self.fanOut(connection, event: event, at: event.receivedAt)
            return event
        }
    }

    /// Inserts one attempt per enabled, live subscription whose event types and labels match (decision D5),
    /// holding the subscriptions `FOR SHARE` so a concurrent disable cannot miss the new attempts.
    func fanOut(_ connection: PostgresConnection, event: Event, at now: Date) async throws {
        let candidates = try await connection.query(
            """
            SELECT s.id, s.labels FROM subscription s
            JOIN subscription_event_type t ON t.subscription_id = s.id
            WHERE s.application_id = \(event.applicationID) AND s.is_enabled AND s.deleted_at IS NULL
              AND t.event_type_name = \(event.eventType)
            FOR SHARE OF s
            """, logger: self.logger
        ).collect()
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
