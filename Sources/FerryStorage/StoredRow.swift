import FerryCore
import Foundation

/// One row as a backend read it, column by column: what the shared decoders below need, so each model is built
/// from a row in one place whichever database the row came from.
public protocol StoredRow {
    func uuid(_ column: String) throws -> UUID
    func text(_ column: String) throws -> String
    func optionalText(_ column: String) throws -> String?
    func bool(_ column: String) throws -> Bool
    func date(_ column: String) throws -> Date
    func optionalDate(_ column: String) throws -> Date?
    /// A string-to-string JSON object column (`{}` when empty or null).
    func stringMap(_ column: String) throws -> [String: String]
    func bytes(_ column: String) throws -> [UInt8]
}

extension Subscription {
    /// A subscription from its row and its event types (kept in a table of their own).
    public init(stored row: some StoredRow, eventTypes: [String]) throws {
        self.init(
            id: try row.uuid("id"), applicationID: try row.uuid("application_id"),
            isEnabled: try row.bool("is_enabled"),
            eventTypes: eventTypes, description: try row.optionalText("description"), secret: try row.uuid("secret"),
            metadata: try row.stringMap("metadata"), labels: try row.stringMap("labels"),
            target: HTTPTarget(
                method: try row.text("target_method"), url: try row.text("target_url"),
                headers: try row.stringMap("target_headers")),
            isRelayed: try row.bool("relayed"), disabledReason: try row.optionalText("disabled_reason"),
            disabledAt: try row.optionalDate("disabled_at"), failingSince: try row.optionalDate("failing_since"),
            retry: RetryOverride(stored: try row.optionalText("retry_override")),
            circuit: CircuitState(
                openedAt: try row.optionalDate("circuit_opened_at"), probeAt: try row.optionalDate("circuit_probe_at")),
            signing: try SigningKeys(stored: row), isOrdered: try row.bool("ordered"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}

extension SigningKeys {
    /// A subscription's signing keys from its row (keys as base64 text, the previous secret as UUID text).
    public init(stored row: some StoredRow) throws {
        func key(_ column: String) throws -> [UInt8]? {
            try row.optionalText(column).flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        }
        self.init(
            ed25519PrivateKey: try key("ed25519_private_key"),
            previousSecret: try row.optionalText("previous_secret").flatMap(UUID.init(uuidString:)),
            previousEd25519PrivateKey: try key("previous_ed25519_private_key"),
            previousExpiresAt: try row.optionalDate("previous_secret_expires_at"))
    }
}

extension Ed25519KeyChange {
    /// The key a new subscription stores (base64), when v1a signing is on.
    public var storedKeyOnCreate: String? {
        keyOnCreate.map { Data($0).base64EncodedString() }
    }

    /// What a replace does, as its SQL reads it: `keep`, `off` or `on`, and the key to use when `on` finds none.
    public var storedChange: (mode: String, newKey: String?) {
        switch self {
        case .keep: ("keep", nil)
        case .off: ("off", nil)
        case .on(let key): ("on", Data(key).base64EncodedString())
        }
    }
}

extension Event {
    /// An event from its row; a payload content type Ferry does not know means the row was damaged.
    public init(stored row: some StoredRow) throws {
        let contentType = try row.text("payload_content_type")
        guard let payloadContentType = PayloadContentType(rawValue: contentType) else {
            throw StorageError.failed("unknown payload content type \(contentType)")
        }
        self.init(
            id: try row.uuid("id"), applicationID: try row.uuid("application_id"),
            eventType: try row.text("event_type"),
            payload: try row.bytes("payload"), payloadContentType: payloadContentType, ip: try row.optionalText("ip"),
            metadata: try row.stringMap("metadata"), labels: try row.stringMap("labels"),
            occurredAt: try row.date("occurred_at"), receivedAt: try row.date("received_at"))
    }
}
