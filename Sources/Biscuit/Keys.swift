import Crypto
import Foundation

/// A signature algorithm of Biscuit keys (the numbers are the wire format's).
public enum Algorithm: Int, Hashable, Sendable, CaseIterable {
    /// Ed25519 (32-byte keys, 64-byte signatures).
    case ed25519 = 0
    /// ECDSA on NIST P-256 with SHA-256 (33-byte compressed public keys, DER signatures).
    case secp256r1 = 1

    /// The prefix of keys in text: `ed25519/…`, `secp256r1/…`.
    public var name: String {
        switch self {
        case .ed25519: "ed25519"
        case .secp256r1: "secp256r1"
        }
    }
}

/// A public key: verifies a root block, the next block of a chain, or a third-party block.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    /// Its algorithm.
    public let algorithm: Algorithm
    /// Its bytes: raw for Ed25519, SEC1 compressed for P-256.
    public let bytes: [UInt8]

    /// A key from its algorithm and bytes; throws if they are not a valid key.
    public init(algorithm: Algorithm, bytes: [UInt8]) throws(BiscuitError) {
        switch algorithm {
        case .ed25519:
            guard (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil else {
                throw BiscuitError(.invalidKey, "not an Ed25519 public key (\(bytes.count) bytes)")
            }
        case .secp256r1:
            guard (try? P256.Signing.PublicKey(compressedRepresentation: bytes)) != nil else {
                throw BiscuitError(.invalidKey, "not a compressed P-256 public key (\(bytes.count) bytes)")
            }
        }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// A key from its text form, `ed25519/<hex>` or `secp256r1/<hex>`.
    public init(_ text: String) throws(BiscuitError) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let algorithm = Algorithm.allCases.first(where: { $0.name == parts[0] }),
            let bytes = Hex.decode(String(parts[1]))
        else { throw BiscuitError(.invalidKey, "expected ed25519/<hex> or secp256r1/<hex>") }
        try self.init(algorithm: algorithm, bytes: bytes)
    }

    /// `ed25519/<hex>` or `secp256r1/<hex>`.
    public var description: String { "\(algorithm.name)/\(Hex.encode(bytes))" }

    /// Whether `signature` is this key's signature of `message`.
    public func verifies(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        switch algorithm {
        case .ed25519:
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) else { return false }
            return key.isValidSignature(signature, for: message)
        case .secp256r1:
            guard let key = try? P256.Signing.PublicKey(compressedRepresentation: bytes),
                let decoded = try? P256.Signing.ECDSASignature(derRepresentation: signature)
            else { return false }
            return key.isValidSignature(decoded, for: message)
        }
    }
}

/// A private key: signs the root block, or is the ephemeral key that signs the next block of a token.
public struct PrivateKey: Sendable, CustomStringConvertible {
    private enum Storage: Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case secp256r1(P256.Signing.PrivateKey)
    }

    private let storage: Storage

    /// A new random key.
    public init(generating algorithm: Algorithm = .ed25519) {
        switch algorithm {
        case .ed25519: storage = .ed25519(Curve25519.Signing.PrivateKey())
        case .secp256r1: storage = .secp256r1(P256.Signing.PrivateKey())
        }
    }

    /// A key from its 32 raw bytes (the Ed25519 seed, or the P-256 scalar).
    public init(algorithm: Algorithm, bytes: [UInt8]) throws(BiscuitError) {
        do {
            switch algorithm {
            case .ed25519: storage = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: bytes))
            case .secp256r1: storage = .secp256r1(try P256.Signing.PrivateKey(rawRepresentation: bytes))
            }
        } catch {
            throw BiscuitError(.invalidKey, "not a \(algorithm.name) private key (\(bytes.count) bytes)")
        }
    }

    /// A key from its text form, `ed25519-private/<hex>` or `secp256r1-private/<hex>`.
    public init(_ text: String) throws(BiscuitError) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2,
            let algorithm = Algorithm.allCases.first(where: { "\($0.name)-private" == parts[0] }),
            let bytes = Hex.decode(String(parts[1]))
        else { throw BiscuitError(.invalidKey, "expected ed25519-private/<hex> or secp256r1-private/<hex>") }
        try self.init(algorithm: algorithm, bytes: bytes)
    }

    /// Its algorithm.
    public var algorithm: Algorithm {
        switch storage {
        case .ed25519: .ed25519
        case .secp256r1: .secp256r1
        }
    }

    /// Its 32 raw bytes; keep them secret.
    public var bytes: [UInt8] {
        switch storage {
        case .ed25519(let key): Array(key.rawRepresentation)
        case .secp256r1(let key): Array(key.rawRepresentation)
        }
    }

    /// The matching public key.
    public var publicKey: PublicKey {
        switch storage {
        case .ed25519(let key):
            PublicKey(unchecked: .ed25519, Array(key.publicKey.rawRepresentation))
        case .secp256r1(let key):
            PublicKey(unchecked: .secp256r1, Array(key.publicKey.compressedRepresentation))
        }
    }

    /// The text form, `ed25519-private/<hex>`; keep it secret.
    public var secretText: String { "\(algorithm.name)-private/\(Hex.encode(bytes))" }

    /// Names the algorithm and the public key, never the secret.
    public var description: String { "PrivateKey(\(publicKey))" }

    /// This key's signature of `message` (64 bytes for Ed25519, DER for P-256).
    public func sign(_ message: [UInt8]) throws(BiscuitError) -> [UInt8] {
        do {
            switch storage {
            case .ed25519(let key): return Array(try key.signature(for: message))
            case .secp256r1(let key): return Array(try key.signature(for: message).derRepresentation)
            }
        } catch {
            throw BiscuitError(.invalidKey, "signing failed: \(error)")
        }
    }
}

extension PublicKey {
    /// A key already known valid (derived from a private key).
    fileprivate init(unchecked algorithm: Algorithm, _ bytes: [UInt8]) {
        self.algorithm = algorithm
        self.bytes = bytes
    }
}

/// Lowercase hexadecimal, as Biscuit keys and revocation ids are written.
public enum Hex {
    /// The bytes as lowercase hexadecimal.
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` spells in hexadecimal (either case), or nil.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count.isMultiple(of: 2) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
