import Crypto
import Foundation

/// Standard Webhooks v1a signing: an Ed25519 signature of `"{id}.{timestamp}.{body}"`, sent as a
/// `v1a,<base64 signature>` entry of `webhook-signature`; receivers verify it with the public key, given as
/// `whpk_<base64 of the raw 32-byte key>` (the specification's prefixes: `whsk_` for the signing key).
public struct StandardWebhookAsymmetricSigner: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    /// A signer for a raw 32-byte Ed25519 private key, or nil when the bytes are not one.
    public init?(privateKey raw: [UInt8]) {
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else { return nil }
        self.key = key
    }

    /// A new random private key (raw 32 bytes).
    public static func generatePrivateKey() -> [UInt8] {
        Array(Curve25519.Signing.PrivateKey().rawRepresentation)
    }

    /// The public key receivers verify with, `whpk_` + base64.
    public var publicKeyText: String {
        "whpk_" + key.publicKey.rawRepresentation.base64EncodedString()
    }

    /// The `v1a,<signature>` entry of `webhook-signature` for one message, or nil if signing failed.
    public func signatureEntry(messageID: String, timestamp: Int64, body: [UInt8]) -> String? {
        guard let signature = try? key.signature(for: Self.signedContent(messageID, timestamp, body)) else {
            return nil
        }
        return "v1a," + signature.base64EncodedString()
    }

    static func signedContent(_ messageID: String, _ timestamp: Int64, _ body: [UInt8]) -> [UInt8] {
        var message = Array("\(messageID).\(timestamp).".utf8)
        message.append(contentsOf: body)
        return message
    }
}

/// Checks Standard Webhooks v1a signatures with a `whpk_` public key.
public struct StandardWebhookAsymmetricVerifier: Sendable {
    private let key: Curve25519.Signing.PublicKey

    /// A verifier for `whpk_<base64>`, or nil when it is not an Ed25519 public key.
    public init?(publicKeyText: String) {
        guard publicKeyText.hasPrefix("whpk_"), let raw = Data(base64Encoded: String(publicKeyText.dropFirst(5))),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else { return nil }
        self.key = key
    }

    /// Whether any `v1a` entry of a `webhook-signature` header verifies.
    public func verify(header: String, messageID: String, timestamp: Int64, body: [UInt8]) -> Bool {
        let content = StandardWebhookAsymmetricSigner.signedContent(messageID, timestamp, body)
        for entry in header.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1a", let signature = Data(base64Encoded: String(parts[1])) else {
                continue
            }
            if key.isValidSignature(signature, for: content) { return true }
        }
        return false
    }
}
