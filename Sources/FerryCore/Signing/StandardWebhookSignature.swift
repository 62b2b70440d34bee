import Crypto
import Foundation

/// Standard Webhooks v1 signing: `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
public struct StandardWebhookSignature: Sendable {
    private let key: SymmetricKey

    /// A signer keyed by raw secret bytes (for Ferry: the subscription secret string's UTF-8 bytes).
    public init(keyBytes: [UInt8]) {
        key = SymmetricKey(data: keyBytes)
    }

    /// A signer for a `whsec_`-prefixed base64 secret, or `nil` if it does not decode.
    public init?(whsecSecret: String) {
        let encoded = whsecSecret.hasPrefix("whsec_") ? String(whsecSecret.dropFirst(6)) : whsecSecret
        guard let bytes = Data(base64Encoded: encoded) else { return nil }
        self.init(keyBytes: Array(bytes))
    }

    /// The `webhook-signature` header value for one message.
    public func headerValue(messageID: String, timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(messageID).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return "v1," + Data(code).base64EncodedString()
    }

    /// Checks a `webhook-signature` header (space-separated `v1,<sig>` entries) in constant time per entry.
    public func verify(header: String, messageID: String, timestamp: Int64, body: [UInt8]) -> Bool {
        var message = Array("\(messageID).\(timestamp).".utf8)
        message.append(contentsOf: body)
        for entry in header.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let signature = Data(base64Encoded: String(parts[1])) else {
                continue
            }
            if HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: message, using: key) {
                return true
            }
        }
        return false
    }
}
