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

    @Test func v1aSignsWithEd25519AndPublishesTheRFC8032PublicKey() throws {
        // RFC 8032, section 7.1, test 2: the key pair; the public key is what receivers get, `whpk_` + base64.
        let secretHex = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
        let publicHex = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
        func bytes(_ hex: String) -> [UInt8] {
            stride(from: 0, to: hex.count, by: 2).compactMap { offset in
                let start = hex.index(hex.startIndex, offsetBy: offset)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
            }
        }
        let signer = try #require(StandardWebhookAsymmetricSigner(privateKey: bytes(secretHex)))
        #expect(signer.publicKeyText == "whpk_" + Data(bytes(publicHex)).base64EncodedString())
        #expect(StandardWebhookAsymmetricSigner(privateKey: [1, 2, 3]) == nil)

        let entry = try #require(
            signer.signatureEntry(messageID: Self.messageID, timestamp: Self.timestamp, body: Self.body))
        #expect(entry.hasPrefix("v1a,") && Data(base64Encoded: String(entry.dropFirst(4)))?.count == 64)
        let verifier = try #require(StandardWebhookAsymmetricVerifier(publicKeyText: signer.publicKeyText))
        let header = Self.signature + " " + entry
        #expect(verifier.verify(header: header, messageID: Self.messageID, timestamp: Self.timestamp, body: Self.body))
        #expect(
            !verifier.verify(
                header: Self.signature, messageID: Self.messageID, timestamp: Self.timestamp, body: Self.body))
        #expect(!verifier.verify(header: header, messageID: "msg_other", timestamp: Self.timestamp, body: Self.body))
        #expect(
            !verifier.verify(header: header, messageID: Self.messageID, timestamp: Self.timestamp + 1, body: Self.body))
        #expect(StandardWebhookAsymmetricVerifier(publicKeyText: "whsec_abc") == nil)
    }
}
