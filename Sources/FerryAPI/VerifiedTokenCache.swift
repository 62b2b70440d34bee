import Biscuit
import FerryIdentity
import Foundation
import Synchronization

/// Biscuits whose signatures were already verified, by the SHA-256 of their bearer text, so a client sending the
/// same token on every request pays the Ed25519 verifications once. Bounded (least recently used out first), and
/// never holding a token past its expiry (`TokenIssuer.expiry(of:)`): an expired entry is dropped when it is
/// looked up, and expired entries are the first evicted when the cache is full. Holding a token here skips only
/// the signature check: revocation and every check, expiry included, still run on each request.
final class VerifiedTokenCache: Sendable {
    private struct Entry {
        var token: Biscuit
        var lastUse: UInt64
        var expiry: Date?
    }

    private struct Entries {
        var tokens: [[UInt8]: Entry] = [:]
        var clock: UInt64 = 0
    }

    private let entries = Mutex(Entries())
    /// Most tokens kept.
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The verified, unexpired token stored under `key`, if any.
    func token(forKey key: [UInt8], at now: Date = Date()) -> Biscuit? {
        entries.withLock { entries in
            guard var entry = entries.tokens[key] else { return nil }
            if let expiry = entry.expiry, expiry <= now {
                entries.tokens[key] = nil
                return nil
            }
            entries.clock += 1
            entry.lastUse = entries.clock
            entries.tokens[key] = entry
            return entry.token
        }
    }

    /// Remembers a verified token unless it has expired; when full, drops every expired entry, then if need be the
    /// least recently used eighth.
    func remember(_ token: Biscuit, forKey key: [UInt8], at now: Date = Date()) {
        let expiry = TokenIssuer.expiry(of: token)
        if let expiry, expiry <= now { return }
        entries.withLock { entries in
            if entries.tokens.count >= capacity {
                entries.tokens = entries.tokens.filter { $0.value.expiry.map { $0 > now } ?? true }
            }
            if entries.tokens.count >= capacity {
                let evicted = entries.tokens.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(max(1, capacity / 8))
                for (key, _) in evicted { entries.tokens[key] = nil }
            }
            entries.clock += 1
            entries.tokens[key] = Entry(token: token, lastUse: entries.clock, expiry: expiry)
        }
    }

    /// How many tokens are kept.
    var count: Int { entries.withLock { $0.tokens.count } }
}
