import Foundation

/// An event as a client submits it to `POST /event`, before validation and decoding.
public struct EventSubmission: Sendable, Equatable {
    /// Longest accepted `payload` string: 512 KiB of bytes once base64-encoded.
    public static let maxPayloadCharacters = 699_050

    public var applicationID: UUID
    public var eventID: UUID?
    public var eventType: String
    public var payload: String
    public var payloadContentType: String
    public var labels: [String: String]
    public var metadata: [String: String]?
    public var occurredAt: Date

    public init(
        applicationID: UUID, eventID: UUID?, eventType: String, payload: String, payloadContentType: String,
        labels: [String: String], metadata: [String: String]?, occurredAt: Date
    ) {
        self.applicationID = applicationID
        self.eventID = eventID
        self.eventType = eventType
        self.payload = payload
        self.payloadContentType = payloadContentType
        self.labels = labels
        self.metadata = metadata
        self.occurredAt = occurredAt
    }

    /// Applies every rule of the contract, in Hook0's order, and returns the event to store.
    public func validated(receivedAt: Date, ip: String?) throws(DomainError) -> Event {
        var errors = ValidationErrors()
        Validator.text(eventType, field: "event_type", min: 1, max: 200, into: &errors)
        Validator.length(
            payload, field: "payload", min: 0, max: Self.maxPayloadCharacters, allowsNUL: true, into: &errors)
        Validator.length(payloadContentType, field: "payload_content_type", min: 1, max: 100, into: &errors)
        Validator.stringMap(
            labels, field: "labels", rule: "labels", minEntries: 1, maxEntries: 10, maxBytes: 50, into: &errors)
        if let metadata {
            Validator.stringMap(
                metadata, field: "metadata", rule: "metadata", minEntries: 0, maxEntries: 50, maxBytes: 50,
                into: &errors)
        }
        if !errors.isEmpty { throw .validation(errors) }
        guard let contentType = PayloadContentType(rawValue: payloadContentType) else {
            throw .invalidPayloadContentType
        }
        let bytes = try contentType.decode(payload)
        return Event(
            id: eventID ?? UUIDv7.make(at: receivedAt), applicationID: applicationID, eventType: eventType,
            payload: bytes, payloadContentType: contentType, ip: ip, metadata: metadata ?? [:], labels: labels,
            occurredAt: occurredAt, receivedAt: receivedAt)
    }
}
