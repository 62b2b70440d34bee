import Crypto
import FerryCore
import Foundation
import _CryptoExtras

/// Hashes and verifies passwords with scrypt (swift-crypto's `_CryptoExtras`, BoringSSL underneath), a
/// memory-hard KDF: every guess costs an attacker `128 × r × N` bytes of memory as well as time, which is what makes
/// GPU and ASIC cracking expensive (PBKDF2, the other KDF there, costs time only). The parameters are one of
/// OWASP's listed scrypt configurations, N = 2^15, r = 8, p = 3 (32 MiB per hash), chosen over N = 2^17, p = 1
/// (128 MiB) so that a burst of sign-ins on a small machine cannot take gigabytes. Hashes are PHC strings
/// (`$scrypt$ln=15,r=8,p=3$<salt>$<key>`) carrying their own parameters, so the cost can be raised later and old
/// hashes still verify (`needsRehash` tells when to store a new one).
public struct PasswordHasher: Sendable {
    /// scrypt's cost parameters.
    public struct Cost: Sendable, Equatable {
        /// log2 of N, the CPU/memory cost.
        public var logN: Int
        /// The block size r.
        public var blockSize: Int
        /// The parallelism p.
        public var parallelism: Int

        public init(logN: Int, blockSize: Int, parallelism: Int) {
            self.logN = logN
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// N = 2^15, r = 8, p = 3.
        public static let standard = Cost(logN: 15, blockSize: 8, parallelism: 3)
    }

    public let cost: Cost
    private static let saltBytes = 16
    private static let keyBytes = 32

    public init(cost: Cost = .standard) {
        self.cost = cost
    }

    /// A new PHC string for `password`, with a fresh random salt.
    public func hash(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: Self.saltBytes)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        let key = try Self.derive(password, salt: salt, cost: cost)
        return "$scrypt$ln=\(cost.logN),r=\(cost.blockSize),p=\(cost.parallelism)$"
            + Self.base64(salt) + "$" + Self.base64(key)
    }

    /// Whether `password` matches `encoded` (compared in constant time). A malformed hash never matches.
    public func verify(_ password: String, against encoded: String) -> Bool {
        guard let parsed = Self.parse(encoded),
            let key = try? Self.derive(password, salt: parsed.salt, cost: parsed.cost)
        else { return false }
        return ConstantTime.equals(key, parsed.key)
    }

    /// Spends the same work as verifying a password against a stored hash, for an account that does not exist,
    /// so that the answer time does not tell which e-mail addresses have accounts.
    public func verifyNothing(_ password: String) {
        _ = try? Self.derive(password, salt: [UInt8](repeating: 0, count: Self.saltBytes), cost: cost)
    }

    /// Whether `encoded` was made with other parameters than this hasher's (so it should be replaced after the
    /// next successful sign-in).
    public func needsRehash(_ encoded: String) -> Bool {
        Self.parse(encoded)?.cost != cost
    }

    private static func derive(_ password: String, salt: [UInt8], cost: Cost) throws -> [UInt8] {
        guard (10...22).contains(cost.logN), (1...32).contains(cost.blockSize), (1...16).contains(cost.parallelism)
        else { throw PasswordHashError() }
        let rounds = 1 << cost.logN
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: keyBytes, rounds: rounds,
            blockSize: cost.blockSize, parallelism: cost.parallelism,
            maxMemory: 128 * cost.blockSize * (rounds + cost.parallelism) + (1 << 20))
        return key.withUnsafeBytes { Array($0) }
    }

    private static func parse(_ encoded: String) -> (cost: Cost, salt: [UInt8], key: [UInt8])? {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty, fields[1] == "scrypt" else { return nil }
        var values: [Substring: Int] = [:]
        for pair in fields[2].split(separator: ",") {
            let parts = pair.split(separator: "=")
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            values[parts[0]] = value
        }
        guard let logN = values["ln"], let blockSize = values["r"], let parallelism = values["p"],
            let salt = unbase64(fields[3]), let key = unbase64(fields[4])
        else { return nil }
        return (Cost(logN: logN, blockSize: blockSize, parallelism: parallelism), salt, key)
    }

    /// PHC strings use standard base64 without padding.
    private static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    private static func unbase64(_ text: Substring) -> [UInt8]? {
        var padded = String(text)
        while padded.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map(Array.init)
    }
}

/// The password could not be hashed with the given parameters.
public struct PasswordHashError: Error, Sendable {}
