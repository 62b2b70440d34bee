import Biscuit
import Synchronization

/// Biscuits whose signatures were already verified, by the SHA-256 of their bearer text, so a client sending the
/// same token on every request pays the Ed25519 verifications once. Bounded (least recently used out first).
/// Holding a token here skips only the signature check: revocation and every check, expiry included, still run
/// on each request.
final class VerifiedTokenCache: Sendable {
    private struct Entries {
        var tokens: [[UInt8]: (token: Biscuit, lastUse: UInt64)] = [:]
        var clock: UInt64 = 0
    }

    private let entries = Mutex(Entries())
    /// Most tokens kept.
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The verified token stored under `key`, if any.
    func token(forKey key: [UInt8]) -> Biscuit? {
        entries.withLock { entries in
            guard let entry = entries.tokens[key] else { return nil }
            entries.clock += 1
            entries.tokens[key] = (entry.token, entries.clock)
            return entry.token
        }
    }

    /// Remembers a verified token, evicting the least recently used eighth when full.
    func remember(_ token: Biscuit, forKey key: [UInt8]) {
        entries.withLock { entries in
            if entries.tokens.count >= capacity {
                let evicted = entries.tokens.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(max(1, capacity / 8))
                for (key, _) in evicted { entries.tokens[key] = nil }
            }
            entries.clock += 1
            entries.tokens[key] = (token, entries.clock)
        }
    }

    /// How many tokens are kept.
    var count: Int { entries.withLock { $0.tokens.count } }
}
