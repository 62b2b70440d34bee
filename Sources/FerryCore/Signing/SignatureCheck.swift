import Crypto
import Foundation

/// What a receiver finds when it checks a delivery's signatures with the subscription's secret, as Hook0's
/// helpers and the Standard Webhooks libraries check them.
public enum SignatureCheck: Sendable, Equatable {
    /// The signature matches and its time is within the tolerance; `version` names the Hook0 one that matched.
    case valid(version: String)
    case missing
    case malformed(String)
    case mismatch
    /// The signature matches but was made too long ago (or ahead): a replay, or clocks apart.
    case outOfTolerance(seconds: Int64)

    /// Checks `X-Hook0-Signature` (`t=…,h=…,v1=…` and/or `v0=…`) against the request's headers (names in any case)
    /// and body, accepting a time at most `tolerance` seconds from `now`.
    public static func hook0(
        header: String?, headers: [String: String], body: [UInt8], secret: String, now: Date,
        tolerance: Int64 = 300
    ) -> SignatureCheck {
        guard let header else { return .missing }
        var fields: [String: String] = [:]
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { return .malformed("`\(part)` is not name=value") }
            fields[pair[0].trimmingCharacters(in: .whitespaces)] = String(pair[1])
        }
        guard let timestampText = fields["t"], let timestamp = Int64(timestampText) else {
            return .malformed("no t=<unix seconds>")
        }
        let lowercased = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        let signer = Hook0Signature(secret: secret)
        var matched: String?
        if let v1 = fields["v1"] {
            let names = (fields["h"] ?? "").split(separator: " ").map(String.init)
            guard
                let covered = try? names.map({ name throws(SignatureLookupFailure) -> (name: String, value: String) in
                    guard let value = lowercased[name] else { throw SignatureLookupFailure() }
                    return (name: name, value: value)
                })
            else { return .malformed("h= names a header the request lacks") }
            if ConstantTime.equals(
                Array(signer.v1(timestamp: timestamp, sortedHeaders: covered, body: body).utf8), Array(v1.utf8))
            {
                matched = "v1"
            }
        }
        if matched == nil, let v0 = fields["v0"],
            ConstantTime.equals(Array(signer.v0(timestamp: timestamp, body: body).utf8), Array(v0.utf8))
        {
            matched = "v0"
        }
        guard fields["v1"] != nil || fields["v0"] != nil else { return .malformed("no v1= or v0=") }
        guard let matched else { return .mismatch }
        let skew = Int64(now.timeIntervalSince1970) - timestamp
        guard abs(skew) <= tolerance else { return .outOfTolerance(seconds: skew) }
        return .valid(version: matched)
    }

    /// Checks the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the key
    /// the subscription secret gives (its UTF-8 bytes, the `whsec_` secret's content).
    public static func standardWebhooks(
        headers: [String: String], body: [UInt8], secret: String, now: Date, tolerance: Int64 = 300
    ) -> SignatureCheck {
        let lowercased = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        guard let signature = lowercased["webhook-signature"] else { return .missing }
        guard let id = lowercased["webhook-id"], let timestampText = lowercased["webhook-timestamp"],
            let timestamp = Int64(timestampText)
        else { return .malformed("webhook-id or webhook-timestamp missing") }
        let signer = StandardWebhookSignature(keyBytes: Array(secret.utf8))
        guard signer.verify(header: signature, messageID: id, timestamp: timestamp, body: body) else {
            return .mismatch
        }
        let skew = Int64(now.timeIntervalSince1970) - timestamp
        guard abs(skew) <= tolerance else { return .outOfTolerance(seconds: skew) }
        return .valid(version: "v1")
    }

    /// The check in words, as `ferry receiver` prints it.
    public var summary: String {
        switch self {
        case .valid(let version): "valid (\(version))"
        case .missing: "missing"
        case .malformed(let reason): "malformed: \(reason)"
        case .mismatch: "does NOT match this secret"
        case .outOfTolerance(let seconds): "matches, but made \(seconds) s from now (outside the 5 min tolerance)"
        }
    }
}

/// A header that `h=` names and the request lacks.
private struct SignatureLookupFailure: Error {}
