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
    /// value is not visible ASCII (the signature format cannot carry it).
    public static func build(
        for job: DeliveryJob, timestamp: Int64, signatureVersions: Set<Hook0Signature.Version>
    ) -> Result<DeliveryRequest, ResponseErrorName> {
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
        let secret = job.secret.lowercased
        let hook0 = Hook0Signature(secret: secret).headerValue(
            timestamp: timestamp, headers: coveredList, body: job.payload, versions: signatureVersions)
        let messageID = job.eventID.lowercased
        let standard = StandardWebhookSignature(keyBytes: Array(secret.utf8)).headerValue(
            messageID: messageID, timestamp: timestamp, body: job.payload)
        var headers = coveredList
        if covered["user-agent"] == nil {
            headers.append((name: "user-agent", value: "Ferry/\(FerryVersion.current)"))
        }
        headers.append((name: "x-hook0-signature", value: hook0))
        headers.append((name: "webhook-id", value: messageID))
        headers.append((name: "webhook-timestamp", value: String(timestamp)))
        headers.append((name: "webhook-signature", value: standard))
        return .success(
            DeliveryRequest(method: job.target.method, url: job.target.url, headers: headers, body: job.payload))
    }
}
