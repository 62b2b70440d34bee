import Foundation
import Synchronization

/// Decides which requests record a service token's use: the first one in each `interval` for each token, so that a
/// token's `last_used_at` is right to within a minute while ingest pays one write per token per minute instead of
/// one per request. Bounded: past `capacity` tokens, the claims older than the interval are forgotten first.
final class ServiceTokenUse: Sendable {
    /// How stale `last_used_at` may be.
    static let interval: TimeInterval = 60

    private let claims = Mutex<[UUID: Date]>([:])
    /// Most tokens remembered.
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// Whether the request at `now` is the one to record token `id`'s use (then it is remembered as recorded).
    func claim(_ id: UUID, at now: Date) -> Bool {
        claims.withLock { claims in
            if let last = claims[id], now.timeIntervalSince(last) < Self.interval { return false }
            if claims.count >= capacity {
                claims = claims.filter { now.timeIntervalSince($0.value) < Self.interval }
                if claims.count >= capacity { claims.removeAll() }
            }
            claims[id] = now
            return true
        }
    }

    /// Forgets a claim whose write failed, so that the next request records the use.
    func release(_ id: UUID) {
        _ = claims.withLock { $0.removeValue(forKey: id) }
    }
}
