import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    public func upsertEventType(applicationID: UUID, _ eventType: EventType) async throws -> EventType {
        let rows = try await client.query(
            """
            INSERT INTO event_type (application_id, name, service, resource_type, verb, created_at, payload_schema)
            VALUES (\(applicationID), \(eventType.name), \(eventType.service), \(eventType.resourceType),
                \(eventType.verb), \(Date().postgres), \(eventType.payloadSchema))
            ON CONFLICT (application_id, name) DO UPDATE SET deactivated_at = NULL,
                payload_schema = COALESCE(excluded.payload_schema, event_type.payload_schema)
            RETURNING *
            """, logger: self.logger)
        return try rows.first.map { try Self.eventType(Columns($0)) } ?? eventType
    }

    public func setEventTypeSchema(applicationID: UUID, name: String, schema: String?) async throws -> EventType? {
        try await client.query(
            """
            UPDATE event_type SET payload_schema = \(schema)
            WHERE application_id = \(applicationID) AND name = \(name) AND deactivated_at IS NULL RETURNING *
            """, logger: self.logger
        ).first.map { try Self.eventType(Columns($0)) }
    }

    public func eventTypeSchema(applicationID: UUID, name: String) async throws -> String? {
        let rows = try await client.query(
            """
            SELECT payload_schema FROM event_type WHERE application_id = \(applicationID) AND name = \(name)
            """, logger: self.logger)
        guard let row = rows.first else { return nil }
        return try Columns(row).optionalText("payload_schema")
    }

    public func eventTypes(applicationID: UUID) async throws -> [EventType] {
        try await client.query(
            """
            SELECT * FROM event_type WHERE application_id = \(applicationID) AND deactivated_at IS NULL ORDER BY name
            """, logger: self.logger
        ).map { try Self.eventType(Columns($0)) }
    }

    public func eventType(applicationID: UUID, name: String) async throws -> EventType? {
        try await client.query(
            """
            SELECT * FROM event_type
            WHERE application_id = \(applicationID) AND name = \(name) AND deactivated_at IS NULL
            """, logger: self.logger
        ).first.map { try Self.eventType(Columns($0)) }
    }

    public func deactivateEventType(applicationID: UUID, name: String) async throws -> Bool {
        try await !client.query(
            """
            UPDATE event_type SET deactivated_at = \(Date().postgres)
            WHERE application_id = \(applicationID) AND name = \(name) AND deactivated_at IS NULL RETURNING name
            """, logger: self.logger
        ).isEmpty
    }

    public func createSubscription(_ draft: SubscriptionDraft, secret: UUID) async throws -> Subscription {
        let now = Date()
        let subscription = Subscription(
            id: UUID(), applicationID: draft.applicationID, isEnabled: draft.isEnabled, eventTypes: draft.eventTypes,
            description: draft.description, secret: secret, metadata: draft.metadata, labels: draft.labels,
            target: draft.target, isRelayed: draft.isRelayed, retry: draft.retry,
            signing: SigningKeys(ed25519PrivateKey: draft.ed25519.keyOnCreate), isOrdered: draft.ordered ?? false,
            createdAt: now, updatedAt: now)
        try await transaction { connection in
            try await self.requireKnownEventTypes(
                connection, applicationID: draft.applicationID, names: draft.eventTypes)
            try await connection.query(
                """
                INSERT INTO subscription (id, application_id, is_enabled, description, secret, metadata, labels,
                    target_method, target_url, target_headers, relayed, retry_override, ed25519_private_key,
                    ordered, created_at, updated_at)
                VALUES (\(subscription.id), \(draft.applicationID), \(draft.isEnabled), \(draft.description),
                    \(secret), \(StoredJSON.text(draft.metadata)), \(StoredJSON.text(draft.labels)), \(draft.target.method),
                    \(draft.target.url), \(StoredJSON.text(draft.target.headers)), \(draft.isRelayed), \(draft.retry.stored),
                    \(draft.ed25519.storedKeyOnCreate), \(draft.ordered ?? false), \(now.postgres), \(now.postgres))
                """, logger: self.logger)
            try await self.replaceEventTypes(connection, subscriptionID: subscription.id, names: draft.eventTypes)
        }
        return subscription
    }

    public func subscriptions(applicationID: UUID) async throws -> [Subscription] {
        try await client.query(
            """
            SELECT s.*, ARRAY(SELECT event_type_name FROM subscription_event_type t WHERE t.subscription_id = s.id
                ORDER BY event_type_name) AS event_types
            FROM subscription s WHERE s.application_id = \(applicationID) AND s.deleted_at IS NULL
            ORDER BY s.created_at, s.id
            """, logger: self.logger
        ).map { try Self.subscription(Columns($0)) }
    }

    public func subscription(id: UUID) async throws -> Subscription? {
        try await client.query(
            """
            SELECT s.*, ARRAY(SELECT event_type_name FROM subscription_event_type t WHERE t.subscription_id = s.id
                ORDER BY event_type_name) AS event_types
            FROM subscription s WHERE s.id = \(id) AND s.deleted_at IS NULL
            """, logger: self.logger
        ).first.map { try Self.subscription(Columns($0)) }
    }

    public func replaceSubscription(id: UUID, with draft: SubscriptionDraft) async throws -> Subscription? {
        let updated = try await transaction { connection -> Bool in
            try await self.requireKnownEventTypes(
                connection, applicationID: draft.applicationID, names: draft.eventTypes)
            let now = Date()
            let rows = try await connection.query(
                """
                UPDATE subscription SET is_enabled = \(draft.isEnabled), description = \(draft.description),
                    metadata = \(StoredJSON.text(draft.metadata)), labels = \(StoredJSON.text(draft.labels)),
                    target_method = \(draft.target.method), target_url = \(draft.target.url),
                    target_headers = \(StoredJSON.text(draft.target.headers)), relayed = \(draft.isRelayed),
                    retry_override = \(draft.retry.stored), updated_at = \(now.postgres),
                    ed25519_private_key = CASE \(draft.ed25519.storedChange.mode)::text WHEN 'off' THEN NULL
                        WHEN 'on' THEN COALESCE(ed25519_private_key, \(draft.ed25519.storedChange.newKey)::text)
                        ELSE ed25519_private_key END,
                    previous_ed25519_private_key = CASE \(draft.ed25519.storedChange.mode)::text WHEN 'off' THEN NULL
                        ELSE previous_ed25519_private_key END,
                    ordered = COALESCE(\(draft.ordered)::boolean, ordered),
                    disabled_reason = CASE WHEN \(draft.isEnabled) THEN NULL WHEN is_enabled
                        THEN \(Subscription.disabledByRequest) ELSE disabled_reason END,
                    disabled_at = CASE WHEN \(draft.isEnabled) THEN NULL WHEN is_enabled THEN \(now.postgres)
                        ELSE disabled_at END,
                    failing_since = CASE WHEN is_enabled = \(draft.isEnabled) THEN failing_since ELSE NULL END,
                    circuit_opened_at = CASE WHEN is_enabled = \(draft.isEnabled) AND target_url = \(draft.target.url)
                        THEN circuit_opened_at ELSE NULL END,
                    circuit_probe_at = CASE WHEN is_enabled = \(draft.isEnabled) AND target_url = \(draft.target.url)
                        THEN circuit_probe_at ELSE NULL END
                WHERE id = \(id) AND application_id = \(draft.applicationID) AND deleted_at IS NULL RETURNING id
                """, logger: self.logger
            ).collect()
            guard !rows.isEmpty else { return false }
            try await self.replaceEventTypes(connection, subscriptionID: id, names: draft.eventTypes)
            if !draft.isEnabled { try await self.cancelPendingAttempts(connection, subscriptionID: id, at: now) }
            return true
        }
        return updated ? try await subscription(id: id) : nil
    }

    public func rotateSubscriptionSecret(
        id: UUID, applicationID: UUID, secret: UUID, ed25519Key: [UInt8], previousUntil: Date
    ) async throws -> Subscription? {
        let now = Date()
        let keepsPrevious = previousUntil > now
        let rows = try await client.query(
            """
            UPDATE subscription SET
                previous_secret = CASE WHEN \(keepsPrevious) THEN secret::text END,
                previous_ed25519_private_key = CASE WHEN \(keepsPrevious) THEN ed25519_private_key END,
                previous_secret_expires_at = CASE WHEN \(keepsPrevious) THEN \(previousUntil.postgres) END,
                secret = \(secret),
                ed25519_private_key = CASE WHEN ed25519_private_key IS NOT NULL
                    THEN \(Data(ed25519Key).base64EncodedString()) END,
                updated_at = \(now.postgres)
            WHERE id = \(id) AND application_id = \(applicationID) AND deleted_at IS NULL RETURNING id
            """, logger: logger)
        return rows.isEmpty ? nil : try await subscription(id: id)
    }

    public func setSubscriptionEnabled(
        id: UUID, applicationID: UUID, isEnabled: Bool, reason: String, onlyIfChanged: Bool
    ) async throws -> Subscription? {
        let updated = try await transaction { connection -> Bool in
            let now = Date()
            let rows = try await connection.query(
                """
                UPDATE subscription SET is_enabled = \(isEnabled), updated_at = \(now.postgres),
                    disabled_reason = CASE WHEN \(isEnabled) THEN NULL WHEN is_enabled THEN \(reason)
                        ELSE disabled_reason END,
                    disabled_at = CASE WHEN \(isEnabled) THEN NULL WHEN is_enabled THEN \(now.postgres)
                        ELSE disabled_at END,
                    failing_since = CASE WHEN is_enabled = \(isEnabled) THEN failing_since ELSE NULL END,
                    circuit_opened_at = CASE WHEN is_enabled = \(isEnabled) THEN circuit_opened_at ELSE NULL END,
                    circuit_probe_at = CASE WHEN is_enabled = \(isEnabled) THEN circuit_probe_at ELSE NULL END
                WHERE id = \(id) AND application_id = \(applicationID) AND deleted_at IS NULL
                  AND (NOT \(onlyIfChanged) OR is_enabled <> \(isEnabled))
                RETURNING id
                """, logger: self.logger
            ).collect()
            guard !rows.isEmpty else { return false }
            if !isEnabled { try await self.cancelPendingAttempts(connection, subscriptionID: id, at: now) }
            return true
        }
        return updated ? try await subscription(id: id) : nil
    }

    public func deleteSubscription(id: UUID, applicationID: UUID) async throws -> Bool {
        try await transaction { connection in
            let now = Date()
            let rows = try await connection.query(
                """
                UPDATE subscription SET deleted_at = \(now.postgres)
                WHERE id = \(id) AND application_id = \(applicationID) AND deleted_at IS NULL RETURNING id
                """, logger: self.logger
            ).collect()
            guard !rows.isEmpty else { return false }
            try await self.cancelPendingAttempts(connection, subscriptionID: id, at: now)
            return true
        }
    }

    func cancelPendingAttempts(_ connection: PostgresConnection, subscriptionID: UUID, at now: Date) async throws {
        try await connection.query(
            """
            UPDATE request_attempt SET failed_at = \(now.postgres)
            WHERE subscription_id = \(subscriptionID) AND failed_at IS NULL AND succeeded_at IS NULL
            """, logger: self.logger)
    }

    private func requireKnownEventTypes(_ connection: PostgresConnection, applicationID: UUID, names: [String])
        async throws
    {
        let unique = Array(Set(names))
        let found =
            try await connection.query(
                """
                SELECT count(*) FROM event_type
                WHERE application_id = \(applicationID) AND name = ANY(\(unique))
                """, logger: self.logger
            ).collect().first.map { try Columns($0).get("count", as: Int.self) } ?? 0
        if found != unique.count { throw DomainError.eventTypeDoesNotExist }
    }

    private func replaceEventTypes(_ connection: PostgresConnection, subscriptionID: UUID, names: [String]) async throws
    {
        try await connection.query(
            "DELETE FROM subscription_event_type WHERE subscription_id = \(subscriptionID)", logger: self.logger)
        try await connection.query(
            """
            INSERT INTO subscription_event_type (subscription_id, event_type_name)
            SELECT \(subscriptionID), unnest(\(Array(Set(names))))
            """, logger: self.logger)
    }

    static func eventType(_ columns: Columns) throws -> EventType {
        EventType(
            service: try columns.get("service"), resourceType: try columns.get("resource_type"),
            verb: try columns.get("verb"), payloadSchema: try columns.optionalText("payload_schema"))
    }

    static func subscription(_ columns: Columns) throws -> Subscription {
        try Subscription(stored: columns, eventTypes: try columns.get("event_types"))
    }
}
