import Crypto
import Foundation

/// An ingest request's `Idempotency-Key` header (a Ferry extension, the Stripe convention): a client that sends the
/// same key again, because it never saw the first answer, gets the first answer and no second event. The key names
/// the event: without an `event_id` in the body, the event's id is derived from the application and the key, so a
/// repeated request (even a concurrent one) collides with the first event in storage rather than making another,
/// and the first event's answer is read back. Remembered as long as the event is kept (at least a day, as Stripe's).
public struct IdempotencyKey: Sendable, Equatable {
    /// The longest key accepted, in bytes.
    public static let maxLength = 255

    public let value: String

    /// The key from the header's value, or nil when it is empty, longer than `maxLength` or not visible ASCII.
    public init?(header: String) {
        let bytes = Array(header.utf8)
        guard (1...Self.maxLength).contains(bytes.count), bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            return nil
        }
        value = header
    }

    /// The event id this key stands for in one application: the first 16 bytes of a SHA-256 over the application
    /// and the key, marked as a version-8 (custom) RFC 9562 UUID. The same key always names the same event there,
    /// and never one of another application.
    public func eventID(applicationID: UUID) -> UUID {
        var input = Array("ferry idempotency key\u{0}".utf8)
        input += Array(applicationID.lowercased.utf8) + [0] + Array(value.utf8)
        var bytes = Array(SHA256.hash(data: input).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// Whether `repeated` asks for the event `first` is (what a retry of the same request sends): the same type,
    /// payload, content type, labels, metadata and occurrence time.
    public static func isRepeat(_ repeated: Event, of first: Event) -> Bool {
        repeated.eventType == first.eventType && repeated.payload == first.payload
            && repeated.payloadContentType == first.payloadContentType && repeated.labels == first.labels
            && repeated.metadata == first.metadata
            && abs(repeated.occurredAt.timeIntervalSince(first.occurredAt)) < 0.000_002
    }
}
