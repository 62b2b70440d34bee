import FerryCore
import Foundation
import Testing

/// The receiver's side of both signatures, as `ferry receiver` checks them.
@Suite struct SignatureCheckTests {
    let secret = "3f1c2b6a-9d8e-4f70-a1b2-c3d4e5f60718"
    let body = Array(#"{"amount":42}"#.utf8)
    let now = Date(timeIntervalSince1970: 1_764_000_000)
    var headers: [String: String] {
        ["Content-Type": "application/json", "X-Event-Id": "e1", "X-Event-Type": "billing.invoice.paid"]
    }

    func signed(_ versions: Set<Hook0Signature.Version>, at timestamp: Int64? = nil, secret: String? = nil) -> String {
        Hook0Signature(secret: secret ?? self.secret).headerValue(
            timestamp: timestamp ?? Int64(now.timeIntervalSince1970),
            headers: headers.map { (name: $0.key, value: $0.value) }, body: body, versions: versions)
    }

    @Test func hook0SignaturesAreCheckedByVersionTimeAndSecret() {
        func check(_ header: String?, body: [UInt8]? = nil) -> SignatureCheck {
            SignatureCheck.hook0(header: header, headers: headers, body: body ?? self.body, secret: secret, now: now)
        }
        #expect(check(signed([.v1])) == .valid(version: "v1"))
        #expect(check(signed([.v0])) == .valid(version: "v0"))
        #expect(check(signed([.v0, .v1])) == .valid(version: "v1"))
        #expect(check(signed([.v1], secret: UUID().uuidString.lowercased())) == .mismatch)
        #expect(check(signed([.v1]), body: Array("{}".utf8)) == .mismatch)
        #expect(check(signed([.v1], at: Int64(now.timeIntervalSince1970) - 600)) == .outOfTolerance(seconds: 600))
        #expect(check(nil) == .missing)
        #expect(check("v1=abc") == .malformed("no t=<unix seconds>"))
        #expect(check("t=1,h=x-missing,v1=abc") == .malformed("h= names a header the request lacks"))
    }

    @Test func standardWebhooksSignaturesAreCheckedWithTheSameSecret() {
        let timestamp = Int64(now.timeIntervalSince1970)
        let signature = StandardWebhookSignature(keyBytes: Array(secret.utf8)).headerValue(
            messageID: "e1", timestamp: timestamp, body: body)
        var signedHeaders = headers
        signedHeaders["webhook-id"] = "e1"
        signedHeaders["webhook-timestamp"] = String(timestamp)
        signedHeaders["Webhook-Signature"] = signature
        #expect(
            SignatureCheck.standardWebhooks(headers: signedHeaders, body: body, secret: secret, now: now)
                == .valid(version: "v1"))
        #expect(
            SignatureCheck.standardWebhooks(headers: signedHeaders, body: body, secret: "other", now: now) == .mismatch)
        #expect(SignatureCheck.standardWebhooks(headers: headers, body: body, secret: secret, now: now) == .missing)
    }
}
