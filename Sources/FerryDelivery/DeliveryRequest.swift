import FerryCore
import FerryStorage
import Foundation

/// The exact HTTP request for one delivery attempt: method, URL and signed headers (decisions D6–D7).
public struct DeliveryRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    /// Header names in lowercase, in sending order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public static func == (lhs: DeliveryRequest, rhs: DeliveryRequest) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.body == rhs.body
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    /// Builds and signs the request for `job`, or fails with `E_INVALID_HEADER` when a covered header
    /// value is not visible ASCII (the signature format cannot carry it). `X-Hook0-Signature` and the `v1` entry of
    /// `webhook-signature` use the subscription's secret; with v1a signing on, a `v1a` entry is signed with its
    /// Ed25519 key. During a rotation's grace period the previous secret and key sign too: a second `v1` (and
    /// `v1a`) entry, and `X-Hook0-Signature-Previous` (Hook0's header carries one signature per version).
    public static func build(
        for job: DeliveryJob, at now: Date, signatureVersions: Set<Hook0Signature.Version>
    ) -> Result<DeliveryRequest, ResponseErrorName> {
        let timestamp = Int64(now.timeIntervalSince1970.rounded(.down))
        var covered: [String: String] = [:]
        // A subscription stored before reserved names were refused may still carry one: it is never sent.
        for (name, value) in job.target.headers where !HeaderSyntax.isReserved(name) {
            covered[name.lowercased()] = value
        }
        covered["content-type"] = job.payloadContentType
        covered["x-event-id"] = job.eventID.lowercased
        covered["x-event-type"] = job.eventType
        let coveredList = covered.map { (name: $0.key, value: $0.value) }.sorted { $0.name < $1.name }
        guard Hook0Signature.canCover(coveredList) else { return .failure(.invalidHeader) }
        let messageID = job.eventID.lowercased
        let previousSigns = job.signing.previousSigns(at: now)
        let secrets = [job.secret] + (previousSigns ? job.signing.previousSecret.map { [$0] } ?? [] : [])
        let keys = [job.signing.ed25519PrivateKey] + (previousSigns ? [job.signing.previousEd25519PrivateKey] : [])
        let hook0 = secrets.map { secret in
            Hook0Signature(secret: secret.lowercased).headerValue(
                timestamp: timestamp, headers: coveredList, body: job.payload, versions: signatureVersions)
        }
        var standard = secrets.map { secret in
            StandardWebhookSignature(keyBytes: Array(secret.lowercased.utf8)).headerValue(
                messageID: messageID, timestamp: timestamp, body: job.payload)
        }
        for key in keys.compactMap({ $0 }) {
            if let entry = StandardWebhookAsymmetricSigner(privateKey: key)?.signatureEntry(
                messageID: messageID, timestamp: timestamp, body: job.payload)
            {
                standard.append(entry)
            }
        }
        var headers = coveredList
        if covered["user-agent"] == nil {
            headers.append((name: "user-agent", value: "Ferry/\(FerryVersion.current)"))
        }
        headers.append((name: "x-hook0-signature", value: hook0[0]))
        if hook0.count > 1 { headers.append((name: "x-hook0-signature-previous", value: hook0[1])) }
        headers.append((name: "webhook-id", value: messageID))
        headers.append((name: "webhook-timestamp", value: String(timestamp)))
        headers.append((name: "webhook-signature", value: standard.joined(separator: " ")))
        return .success(
            DeliveryRequest(method: job.target.method, url: job.target.url, headers: headers, body: job.payload))
    }
}
