import FerryCore
import FerryDelivery
import FerryStorage
import Foundation
import Testing

/// The request Ferry builds for an attempt: a subscription's own headers never replace what Ferry or HTTP sets.
@Suite struct DeliveryRequestTests {
    @Test func storedReservedHeadersAreNeverSent() throws {
        let stored = [
            "host": "evil.example", "content-length": "0", "transfer-encoding": "chunked", "connection": "close",
            "x-hook0-signature": "t=1,v1=forged", "webhook-signature": "v1,forged", "webhook-id": "forged",
            "x-tenant": "kept",
        ]
        let job = DeliveryJob(
            attemptID: UUID(), claimToken: UUID(), applicationID: UUID(), eventID: UUID(),
            eventType: "billing.invoice.paid", payload: Array("{}".utf8), payloadContentType: "application/json",
            subscriptionID: UUID(), secret: UUID(),
            target: HTTPTarget(method: "POST", url: "https://example.com/hook", headers: stored), retryCount: 0)
        let request = try DeliveryRequest.build(
            for: job, at: Date(timeIntervalSince1970: 1_700_000_000), signatureVersions: [.v1]
        ).get()
        let names = request.headers.map(\.name)
        for reserved in ["host", "content-length", "transfer-encoding", "connection"] {
            #expect(!names.contains(reserved), "\(reserved) was sent")
        }
        for signature in ["x-hook0-signature", "webhook-signature", "webhook-id"] {
            #expect(names.filter { $0 == signature }.count == 1)
        }
        let values = Dictionary(request.headers.map { ($0.name, $0.value) }) { first, _ in first }
        #expect(values["x-tenant"] == "kept")
        #expect(values["webhook-id"] == job.eventID.lowercased)
        #expect(values["x-hook0-signature"]?.contains("forged") == false)
        #expect(values["webhook-signature"]?.contains("forged") == false)
    }

    @Test func v1aAndARotationsGracePeriodAddSignaturesThatVerify() throws {
        let current = UUID()
        let previous = UUID()
        let key = StandardWebhookAsymmetricSigner.generatePrivateKey()
        let previousKey = StandardWebhookAsymmetricSigner.generatePrivateKey()
        let timestamp: Int64 = 1_700_000_000
        let sentAt = Date(timeIntervalSince1970: TimeInterval(timestamp))
        var job = DeliveryJob(
            attemptID: UUID(), claimToken: UUID(), applicationID: UUID(), eventID: UUID(),
            eventType: "billing.invoice.paid", payload: Array(#"{"a":1}"#.utf8), payloadContentType: "application/json",
            subscriptionID: UUID(), secret: current,
            target: HTTPTarget(method: "POST", url: "https://example.com/hook", headers: [:]), retryCount: 0,
            signing: SigningKeys(
                ed25519PrivateKey: key, previousSecret: previous, previousEd25519PrivateKey: previousKey,
                previousExpiresAt: sentAt.addingTimeInterval(60)))
        func headers(_ job: DeliveryJob) throws -> [String: String] {
            let request = try DeliveryRequest.build(for: job, at: sentAt, signatureVersions: [.v1]).get()
            return Dictionary(request.headers.map { ($0.name, $0.value) }) { first, _ in first }
        }
        func verifies(_ header: String, secret: UUID) -> Bool {
            StandardWebhookSignature(keyBytes: Array(secret.lowercased.utf8)).verify(
                header: header, messageID: job.eventID.lowercased, timestamp: timestamp, body: job.payload)
        }
        func verifiesV1a(_ header: String, key: [UInt8]) throws -> Bool {
            let publicKey = try #require(StandardWebhookAsymmetricSigner(privateKey: key)?.publicKeyText)
            let verifier = try #require(StandardWebhookAsymmetricVerifier(publicKeyText: publicKey))
            return verifier.verify(
                header: header, messageID: job.eventID.lowercased, timestamp: timestamp, body: job.payload)
        }

        var sent = try headers(job)
        let during = try #require(sent["webhook-signature"])
        #expect(during.split(separator: " ").map { $0.prefix(while: { $0 != "," }) } == ["v1", "v1", "v1a", "v1a"])
        #expect(verifies(during, secret: current) && verifies(during, secret: previous))
        #expect(try verifiesV1a(during, key: key) && verifiesV1a(during, key: previousKey))
        #expect(!verifies(during, secret: UUID()))
        #expect(!(try verifiesV1a(during, key: StandardWebhookAsymmetricSigner.generatePrivateKey())))
        let covered = [
            ("content-type", "application/json"), ("x-event-id", job.eventID.lowercased),
            ("x-event-type", "billing.invoice.paid"),
        ].map { (name: $0.0, value: $0.1) }
        #expect(
            sent["x-hook0-signature"]
                == Hook0Signature(secret: current.lowercased).headerValue(
                    timestamp: timestamp, headers: covered, body: job.payload, versions: [.v1]))
        #expect(
            sent["x-hook0-signature-previous"]
                == Hook0Signature(secret: previous.lowercased).headerValue(
                    timestamp: timestamp, headers: covered, body: job.payload, versions: [.v1]))

        // After the grace period only the current secret and key sign.
        job.signing.previousExpiresAt = sentAt
        sent = try headers(job)
        let after = try #require(sent["webhook-signature"])
        #expect(after.split(separator: " ").count == 2)
        #expect(verifies(after, secret: current) && !verifies(after, secret: previous))
        #expect(try verifiesV1a(after, key: key) && !(try verifiesV1a(after, key: previousKey)))
        #expect(sent["x-hook0-signature-previous"] == nil)
    }
}
