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
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
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
