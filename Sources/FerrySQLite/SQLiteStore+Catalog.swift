import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    public func upsertEventType(applicationID: UUID, _ eventType: EventType) async throws -> EventType {
        try await write { db in
            let stored = try String?.fetchOne(
                db,
                sql: """
                    INSERT INTO event_type (application_id, name, service, resource_type, verb, created_at,
                        payload_schema)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (application_id, name) DO UPDATE SET deactivated_at = NULL,
                        payload_schema = COALESCE(excluded.payload_schema, event_type.payload_schema)
                    RETURNING payload_schema
                    """,
                arguments: [
                    applicationID.lowercased, eventType.name, eventType.service, eventType.resourceType,
                    eventType.verb, SQLValues.micros(Date()), eventType.payloadSchema,
                ])
            var result = eventType
            result.payloadSchema = stored ?? nil
            return result
        }
    }

    public func setEventTypeSchema(applicationID: UUID, name: String, schema: String?) async throws -> EventType? {
        try await write { db in
            try Row.fetchOne(
                db,
                sql: """
                    UPDATE event_type SET payload_schema = ?
                    WHERE application_id = ? AND name = ? AND deactivated_at IS NULL RETURNING *
                    """,
                arguments: [schema, applicationID.lowercased, name]
            ).map(Self.eventType)
        }
    }

    public func eventTypeSchema(applicationID: UUID, name: String) async throws -> String? {
        try await read { db in
            try String?.fetchOne(
                db, sql: "SELECT payload_schema FROM event_type WHERE application_id = ? AND name = ?",
                arguments: [applicationID.lowercased, name]) ?? nil
        }
    }

    public func eventTypes(applicationID: UUID) async throws -> [EventType] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM event_type WHERE application_id = ? AND deactivated_at IS NULL ORDER BY name",
                arguments: [applicationID.lowercased]
            ).map(Self.eventType)
        }
    }

    public func eventType(applicationID: UUID, name: String) async throws -> EventType? {
        try await read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM event_type WHERE application_id = ? AND name = ? AND deactivated_at IS NULL",
                arguments: [applicationID.lowercased, name]
            ).map(Self.eventType)
        }
    }

    public func deactivateEventType(applicationID: UUID, name: String) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE event_type SET deactivated_at = ?
                    WHERE application_id = ? AND name = ? AND deactivated_at IS NULL
                    """,
                arguments: [SQLValues.micros(Date()), applicationID.lowercased, name])
            return db.changesCount > 0
        }
    }

    public func createSubscription(_ draft: SubscriptionDraft, secret: UUID) async throws -> Subscription {
        let now = Date()
        let subscription = Subscription(
            id: UUID(), applicationID: draft.applicationID, isEnabled: draft.isEnabled, eventTypes: draft.eventTypes,
            description: draft.description, secret: secret, metadata: draft.metadata, labels: draft.labels,
            target: draft.target, isRelayed: draft.isRelayed, retry: draft.retry,
            signing: SigningKeys(ed25519PrivateKey: draft.ed25519.keyOnCreate), isOrdered: draft.ordered ?? false,
            createdAt: now, updatedAt: now)
        try await write { db in
            try Self.requireKnownEventTypes(db, applicationID: draft.applicationID, names: draft.eventTypes)
            try db.execute(
                sql: """
                    INSERT INTO subscription (id, application_id, is_enabled, description, secret, metadata, labels,
                        target_method, target_url, target_headers, relayed, retry_override, ed25519_private_key,
                        ordered, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    subscription.id.lowercased, draft.applicationID.lowercased, draft.isEnabled, draft.description,
                    secret.lowercased, SQLValues.json(draft.metadata), SQLValues.json(draft.labels),
                    draft.target.method, draft.target.url, SQLValues.json(draft.target.headers), draft.isRelayed,
                    draft.retry.stored, draft.ed25519.storedKeyOnCreate, draft.ordered ?? false, SQLValues.micros(now),
                    SQLValues.micros(now),
                ])
            try Self.replaceEventTypes(db, subscriptionID: subscription.id, names: draft.eventTypes)
        }
        return subscription
    }

    public func subscriptions(applicationID: UUID) async throws -> [Subscription] {
        try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT * FROM subscription WHERE application_id = ? AND deleted_at IS NULL ORDER BY created_at, id",
                arguments: [applicationID.lowercased])
            return try rows.map { try Self.subscription($0, db) }
        }
    }

    public func subscription(id: UUID) async throws -> Subscription? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM subscription WHERE id = ? AND deleted_at IS NULL", arguments: [id.lowercased]
            ).map { try Self.subscription($0, db) }
        }
    }

    public func replaceSubscription(id: UUID, with draft: SubscriptionDraft) async throws -> Subscription? {
        try await write { db in
            try Self.requireKnownEventTypes(db, applicationID: draft.applicationID, names: draft.eventTypes)
            let now = SQLValues.micros(Date())
            try db.execute(
                sql: """
                    UPDATE subscription SET is_enabled = ?, description = ?, metadata = ?, labels = ?,
                        target_method = ?, target_url = ?, target_headers = ?, relayed = ?, retry_override = ?,
                        ed25519_private_key = CASE ? WHEN 'off' THEN NULL WHEN 'on' THEN COALESCE(ed25519_private_key, ?)
                            ELSE ed25519_private_key END,
                        previous_ed25519_private_key = CASE ? WHEN 'off' THEN NULL ELSE previous_ed25519_private_key END,
                        ordered = COALESCE(?, ordered), updated_at = ?, \(Self.disablingColumns)
                    WHERE id = ? AND application_id = ? AND deleted_at IS NULL
                    """,
                arguments: [
                    draft.isEnabled, draft.description, SQLValues.json(draft.metadata), SQLValues.json(draft.labels),
                    draft.target.method, draft.target.url, SQLValues.json(draft.target.headers), draft.isRelayed,
                    draft.retry.stored, draft.ed25519.storedChange.mode, draft.ed25519.storedChange.newKey,
                    draft.ed25519.storedChange.mode, draft.ordered,
                    now,
                ]
                    + Self.disablingArguments(
                        isEnabled: draft.isEnabled, reason: Subscription.disabledByRequest, at: now,
                        targetURL: draft.target.url) + [
                        id.lowercased, draft.applicationID.lowercased,
                    ])
            guard db.changesCount > 0 else { return nil }
            try Self.replaceEventTypes(db, subscriptionID: id, names: draft.eventTypes)
            if !draft.isEnabled {
                try Self.cancelPendingAttempts(db, subscriptionID: id, at: now)
            }
            return try Row.fetchOne(db, sql: "SELECT * FROM subscription WHERE id = ?", arguments: [id.lowercased])
                .map { try Self.subscription($0, db) }
        }
    }

    public func rotateSubscriptionSecret(
        id: UUID, applicationID: UUID, secret: UUID, ed25519Key: [UInt8], previousUntil: Date
    ) async throws -> Subscription? {
        try await write { db in
            let now = Date()
            let keepsPrevious = previousUntil > now
            try db.execute(
                sql: """
                    UPDATE subscription SET
                        previous_secret = CASE WHEN ? THEN secret END,
                        previous_ed25519_private_key = CASE WHEN ? THEN ed25519_private_key END,
                        previous_secret_expires_at = CASE WHEN ? THEN ? END,
                        secret = ?, ed25519_private_key = CASE WHEN ed25519_private_key IS NOT NULL THEN ? END,
                        updated_at = ?
                    WHERE id = ? AND application_id = ? AND deleted_at IS NULL
                    """,
                arguments: [
                    keepsPrevious, keepsPrevious, keepsPrevious, SQLValues.micros(previousUntil), secret.lowercased,
                    Data(ed25519Key).base64EncodedString(), SQLValues.micros(now), id.lowercased,
                    applicationID.lowercased,
                ])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM subscription WHERE id = ?", arguments: [id.lowercased])
                .map { try Self.subscription($0, db) }
        }
    }

    public func setSubscriptionEnabled(
        id: UUID, applicationID: UUID, isEnabled: Bool, reason: String, onlyIfChanged: Bool
    ) async throws -> Subscription? {
        try await write { db in
            let now = SQLValues.micros(Date())
            try db.execute(
                sql: """
                    UPDATE subscription SET is_enabled = ?, updated_at = ?, \(Self.disablingColumns)
                    WHERE id = ? AND application_id = ? AND deleted_at IS NULL AND (NOT ? OR is_enabled <> ?)
                    """,
                arguments: [isEnabled, now]
                    + Self.disablingArguments(isEnabled: isEnabled, reason: reason, at: now, targetURL: nil)
                    + [id.lowercased, applicationID.lowercased, onlyIfChanged, isEnabled])
            guard db.changesCount > 0 else { return nil }
            if !isEnabled { try Self.cancelPendingAttempts(db, subscriptionID: id, at: now) }
            return try Row.fetchOne(db, sql: "SELECT * FROM subscription WHERE id = ?", arguments: [id.lowercased])
                .map { try Self.subscription($0, db) }
        }
    }

    public func deleteSubscription(id: UUID, applicationID: UUID) async throws -> Bool {
        try await write { db in
            let now = SQLValues.micros(Date())
            try db.execute(
                sql:
                    "UPDATE subscription SET deleted_at = ? WHERE id = ? AND application_id = ? AND deleted_at IS NULL",
                arguments: [now, id.lowercased, applicationID.lowercased])
            guard db.changesCount > 0 else { return false }
            try Self.cancelPendingAttempts(db, subscriptionID: id, at: now)
            return true
        }
    }

    /// The assignments that record a disabling: the reason and time are set when an enabled subscription is
    /// disabled, kept when a disabled one stays disabled, cleared when it is enabled; the failing streak ends when
    /// the state changes; the circuit closes when the state or the target URL changes. Arguments: whether it is
    /// enabled now, the reason, whether it is enabled now, the time, whether it is enabled now (three times, each
    /// but the first followed by the new target URL, or nil when it stays).
    static let disablingColumns = """
        disabled_reason = CASE WHEN ? THEN NULL WHEN is_enabled THEN ? ELSE disabled_reason END,
        disabled_at = CASE WHEN ? THEN NULL WHEN is_enabled THEN ? ELSE disabled_at END,
        failing_since = CASE WHEN is_enabled = ? THEN failing_since ELSE NULL END,
        circuit_opened_at = CASE WHEN is_enabled = ? AND target_url = COALESCE(?, target_url)
            THEN circuit_opened_at ELSE NULL END,
        circuit_probe_at = CASE WHEN is_enabled = ? AND target_url = COALESCE(?, target_url)
            THEN circuit_probe_at ELSE NULL END
        """

    /// The arguments of `disablingColumns`.
    static func disablingArguments(isEnabled: Bool, reason: String, at now: Int64, targetURL: String?)
        -> StatementArguments
    {
        [isEnabled, reason, isEnabled, now, isEnabled, isEnabled, targetURL, isEnabled, targetURL]
    }

    static func cancelPendingAttempts(_ db: Database, subscriptionID: UUID, at now: Int64) throws {
        try db.execute(
            sql: """
                UPDATE request_attempt SET failed_at = ?
                WHERE subscription_id = ? AND failed_at IS NULL AND succeeded_at IS NULL
                """,
            arguments: [now, subscriptionID.lowercased])
    }

    private static func requireKnownEventTypes(_ db: Database, applicationID: UUID, names: [String]) throws {
        let unique = Array(Set(names))
        let found =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM event_type
                    WHERE application_id = ? AND name IN (\(SQLValues.placeholders(unique.count)))
                    """,
                arguments: StatementArguments([applicationID.lowercased] + unique)) ?? 0
        if found != unique.count { throw DomainError.eventTypeDoesNotExist }
    }

    private static func replaceEventTypes(_ db: Database, subscriptionID: UUID, names: [String]) throws {
        try db.execute(
            sql: "DELETE FROM subscription_event_type WHERE subscription_id = ?", arguments: [subscriptionID.lowercased]
        )
        for name in Set(names) {
            try db.execute(
                sql: "INSERT INTO subscription_event_type (subscription_id, event_type_name) VALUES (?, ?)",
                arguments: [subscriptionID.lowercased, name])
        }
    }

    static func eventType(_ row: Row) -> EventType {
        EventType(
            service: row["service"], resourceType: row["resource_type"], verb: row["verb"],
            payloadSchema: row["payload_schema"])
    }

    static func subscription(_ row: Row, _ db: Database) throws -> Subscription {
        let id = try SQLValues.uuid(row, "id")
        let types = try String.fetchAll(
            db,
            sql:
                "SELECT event_type_name FROM subscription_event_type WHERE subscription_id = ? ORDER BY event_type_name",
            arguments: [id.lowercased])
        return try Subscription(stored: SQLiteRow(row), eventTypes: types)
    }
}
