import Foundation

/// An ingested event: the stored payload bytes and what routes it.
public struct Event: Sendable, Equatable {
    public var id: UUID
    public var applicationID: UUID
    public var eventType: String
    public var payload: [UInt8]
    public var payloadContentType: PayloadContentType
    public var ip: String?
    public var metadata: [String: String]
    public var labels: [String: String]
    public var occurredAt: Date
    public var receivedAt: Date

    public init(
        id: UUID, applicationID: UUID, eventType: String, payload: [UInt8], payloadContentType: PayloadContentType,
        ip: String?, metadata: [String: String], labels: [String: String], occurredAt: Date, receivedAt: Date
    ) {
        self.id = id
        self.applicationID = applicationID
        self.eventType = eventType
        self.payload = payload
        self.payloadContentType = payloadContentType
        self.ip = ip
        self.metadata = metadata
        self.labels = labels
        self.occurredAt = occurredAt
        self.receivedAt = receivedAt
    }
}

/// The three payload encodings Hook0 accepts and how each becomes stored bytes.
public enum PayloadContentType: String, Sendable, CaseIterable {
    case textPlain = "text/plain"
    case json = "application/json"
    case base64 = "application/octet-stream+base64"

    /// Turns the submitted payload string into the bytes Ferry stores and delivers.
    public func decode(_ payload: String) throws(DomainError) -> [UInt8] {
        switch self {
        case .textPlain:
            return Array(payload.utf8)
        case .json:
            let bytes = Array(payload.utf8)
            // The scanner validates without building Foundation's object tree; where it is unsure, Foundation
            // decides, as it always did.
            guard
                JSONScanner.isCertainlyJSON(bytes)
                    || (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
            else {
                throw .invalidJSONPayload
            }
            return bytes
        case .base64:
            guard let data = Data(base64Encoded: payload) else { throw .invalidBase64Payload }
            return Array(data)
        }
    }
}
