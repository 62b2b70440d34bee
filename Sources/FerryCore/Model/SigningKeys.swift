import Foundation

/// A subscription's signing keys beyond its `secret` (Ferry extensions): the Ed25519 key of Standard Webhooks
/// v1a signatures, when that is on, and the secret and key a rotation replaced, which keep signing beside the new
/// ones until the grace period ends, so receivers can switch without losing a delivery.
public struct SigningKeys: Sendable, Equatable {
    /// The raw Ed25519 private key; nil when v1a signing is off.
    public var ed25519PrivateKey: [UInt8]?
    /// The secret before the last rotation, while its grace period lasts.
    public var previousSecret: UUID?
    /// The Ed25519 key before the last rotation, while its grace period lasts.
    public var previousEd25519PrivateKey: [UInt8]?
    /// When the previous secret and key stop signing.
    public var previousExpiresAt: Date?

    public init(
        ed25519PrivateKey: [UInt8]? = nil, previousSecret: UUID? = nil, previousEd25519PrivateKey: [UInt8]? = nil,
        previousExpiresAt: Date? = nil
    ) {
        self.ed25519PrivateKey = ed25519PrivateKey
        self.previousSecret = previousSecret
        self.previousEd25519PrivateKey = previousEd25519PrivateKey
        self.previousExpiresAt = previousExpiresAt
    }

    /// Whether the previous secret (and key) still sign at `now`.
    public func previousSigns(at now: Date) -> Bool {
        guard previousSecret != nil, let previousExpiresAt else { return false }
        return previousExpiresAt > now
    }

    /// The public key receivers verify v1a signatures with, when v1a signing is on.
    public var ed25519PublicKey: String? {
        ed25519PrivateKey.flatMap(StandardWebhookAsymmetricSigner.init(privateKey:))?.publicKeyText
    }

    /// The previous public key, while its grace period lasts at `now`.
    public func previousEd25519PublicKey(at now: Date) -> String? {
        guard previousSigns(at: now) else { return nil }
        return previousEd25519PrivateKey.flatMap(StandardWebhookAsymmetricSigner.init(privateKey:))?.publicKeyText
    }
}

/// What a create or full replace does to a subscription's Ed25519 key.
public enum Ed25519KeyChange: Sendable, Equatable {
    /// Leave it as it is (a replace without the field, as Hook0 clients send); none on create.
    case keep
    /// v1a signing off: the key is dropped.
    case off
    /// v1a signing on: the existing key is kept, or this new one is used when there is none.
    case on(newKey: [UInt8])

    /// The key a new subscription gets: the new one when v1a signing is on.
    public var keyOnCreate: [UInt8]? {
        if case .on(let key) = self { return key }
        return nil
    }
}

/// The rules of a secret rotation: how long the replaced secret keeps signing.
public enum SecretRotation {
    /// A day, as Svix.
    public static let defaultGraceSeconds = 86_400
    /// Thirty days at most.
    public static let maximumGraceSeconds = 30 * 86_400
}
