import Foundation
import Testing

@testable import FerryCore

@Suite struct StandardWebhookSignatureTests {
    // The example published in the Standard Webhooks specification.
    static let specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let messageID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp: Int64 = 1_614_265_330
    static let body = Array(#"{"test": 2432232314}"#.utf8)
    static let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    @Test func signsSpecificationExample() throws {
        let signer = try #require(StandardWebhookSignature(whsecSecret: Self.specSecret))
        #expect(
            signer.headerValue(messageID: Self.messageID, timestamp: Self.timestamp, body: Self.body) == Self.signature)
    }

    @Test func acceptsSecretWithoutPrefix() throws {
        let signer = try #require(StandardWebhookSignature(whsecSecret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        #expect(
            signer.headerValue(messageID: Self.messageID, timestamp: Self.timestamp, body: Self.body) == Self.signature)
    }

    @Test(arguments: ["whsec_not base64!", "whsec_abc", "%%%"])
    func rejectsUndecodableSecret(secret: String) {
        #expect(StandardWebhookSignature(whsecSecret: secret) == nil)
    }

    @Test(arguments: [
        signature,
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \(signature)",
        "v2,whatever \(signature)",
        "\(signature) v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ])
    func verifyAcceptsRightSignature(header: String) throws {
        let signer = try #require(StandardWebhookSignature(whsecSecret: Self.specSecret))
        #expect(signer.verify(header: header, messageID: Self.messageID, timestamp: Self.timestamp, body: Self.body))
    }

    @Test func verifyRejectsTamperedBody() throws {
        let signer = try #require(StandardWebhookSignature(whsecSecret: Self.specSecret))
        let tampered = Array(#"{"test": 2432232315}"#.utf8)
        #expect(
            !signer.verify(header: Self.signature, messageID: Self.messageID, timestamp: Self.timestamp, body: tampered)
        )
    }

    @Test func verifyRejectsTamperedTimestamp() throws {
        let signer = try #require(StandardWebhookSignature(whsecSecret: Self.specSecret))
        #expect(
            !signer.verify(
                header: Self.signature, messageID: Self.messageID, timestamp: Self.timestamp + 1, body: Self.body))
    }

    @Test func verifyRejectsTamperedMessageID() throws {
        let signer = try #require(StandardWebhookSignature(whsecSecret: Self.specSecret))
        #expect(
            !signer.verify(
                header: Self.signature, messageID: "msg_p5jXN8AQM9LWM0D4loKWxJel", timestamp: Self.timestamp,
                body: Self.body))
    }

    @Test(arguments: [
        "",
        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1,not-base64",
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ])
    func verifyRejectsMalformedOrWrongHeader(header: String) throws {
        let signer = try #require(StandardWebhookSignature(whsecSecret: Self.specSecret))
        #expect(!signer.verify(header: header, messageID: Self.messageID, timestamp: Self.timestamp, body: Self.body))
    }

    @Test func verifyRejectsOtherSecret() throws {
        let signer = try #require(
            StandardWebhookSignature(whsecSecret: "whsec_" + Data(repeating: 7, count: 24).base64EncodedString()))
        #expect(
            !signer.verify(
                header: Self.signature, messageID: Self.messageID, timestamp: Self.timestamp, body: Self.body))
    }

    @Test func subscriptionSecretInStandardWebhooksForm() {
        let subscription = Fixture.subscription()
        // base64 of the UTF-8 bytes of "3f2c4f0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f", computed independently.
        #expect(subscription.standardWebhooksSecret == "whsec_M2YyYzRmMGUtMWIyYS00YzNkLThlOWYtMGExYjJjM2Q0ZTVm")
    }

    @Test func rawSecretBytesAndWhsecFormSignAlike() throws {
        let subscription = Fixture.subscription()
        let body = Array("hello !".utf8)
        // HMAC-SHA256 of "evt_1.1700000000.hello !" keyed by the lowercase secret string, computed independently.
        let expected = "v1,L1wV8NtD0SwXencyAmUYhlDuUdz1NI+Fze9ybXrnWYI="
        let raw = StandardWebhookSignature(keyBytes: Array(subscription.secret.lowercased.utf8))
        #expect(raw.headerValue(messageID: "evt_1", timestamp: 1_700_000_000, body: body) == expected)
        let fromWhsec = try #require(StandardWebhookSignature(whsecSecret: subscription.standardWebhooksSecret))
        #expect(fromWhsec.headerValue(messageID: "evt_1", timestamp: 1_700_000_000, body: body) == expected)
        #expect(fromWhsec.verify(header: expected, messageID: "evt_1", timestamp: 1_700_000_000, body: body))
    }
}
