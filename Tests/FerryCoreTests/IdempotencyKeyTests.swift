import FerryCore
import Foundation
import Testing

/// The `Idempotency-Key` rules: which header values are keys, the event id a key names (the same for the same
/// application and key, different otherwise, a version-8 UUID), and what counts as the same request again.
@Suite struct IdempotencyKeyTests {
    @Test func onlyVisibleASCIIKeysOfAtMost255BytesAreKeys() {
        #expect(IdempotencyKey(header: "order-42/attempt:1")?.value == "order-42/attempt:1")
        #expect(IdempotencyKey(header: String(repeating: "k", count: 255)) != nil)
        #expect(IdempotencyKey(header: String(repeating: "k", count: 256)) == nil)
        #expect(IdempotencyKey(header: "") == nil)
        #expect(IdempotencyKey(header: "two words") == nil)
        #expect(IdempotencyKey(header: "clé") == nil)
    }

    @Test func aKeyNamesOneEventPerApplication() throws {
        let key = try #require(IdempotencyKey(header: "order-42"))
        let application = UUID()
        let id = key.eventID(applicationID: application)
        #expect(id == key.eventID(applicationID: application))
        #expect(id != key.eventID(applicationID: UUID()))
        #expect(id != IdempotencyKey(header: "order-43")?.eventID(applicationID: application))
        #expect(id.uuidString.lowercased().dropFirst(14).first == "8", "version 8: \(id)")
        let variant = id.uuidString.lowercased().dropFirst(19).first
        #expect(["8", "9", "a", "b"].contains(variant), "RFC 9562 variant: \(id)")
    }

    @Test func aRepeatIsTheSameEventAskedForAgain() {
        let first = event(payload: #"{"amount":42}"#)
        var repeated = first
        repeated.receivedAt = first.receivedAt.addingTimeInterval(5)
        repeated.ip = "192.0.2.9"
        #expect(IdempotencyKey.isRepeat(repeated, of: first), "when and from where it came do not matter")
        #expect(!IdempotencyKey.isRepeat(event(payload: #"{"amount":43}"#), of: first))
        var relabelled = first
        relabelled.labels = ["env": "prod"]
        #expect(!IdempotencyKey.isRepeat(relabelled, of: first))
        var later = first
        later.occurredAt = first.occurredAt.addingTimeInterval(1)
        #expect(!IdempotencyKey.isRepeat(later, of: first))
    }

    private func event(payload: String) -> Event {
        Event(
            id: UUID(), applicationID: UUID(), eventType: "billing.invoice.paid", payload: Array(payload.utf8),
            payloadContentType: .json, ip: nil, metadata: [:], labels: ["env": "demo"],
            occurredAt: Date(timeIntervalSince1970: 1_764_000_000),
            receivedAt: Date(timeIntervalSince1970: 1_764_000_001))
    }
}
