/// One rate limit of the generic cell rate algorithm (GCRA, as Hook0's limiters): up to `burst` requests at once,
/// then one more each `period` (Hook0's defaults: global 2,000 then one per millisecond, per client IP 200 then
/// one per 10 ms, per token 20 then one per 100 ms).
public struct RateLimit: Sendable, Equatable {
    public var burst: Int
    /// Seconds for one request to be replenished.
    public var period: Double

    public init(burst: Int, period: Double) {
        self.burst = max(1, burst)
        self.period = max(1e-6, period)
    }

    /// Requests per second once the burst is spent.
    public var perSecond: Double { 1 / period }

    /// What the limit says about one request at `now` (seconds on a monotonic clock) for a key whose theoretical
    /// arrival time is `arrival` (nil for a key not seen yet), and the arrival time to keep for the key.
    public func decide(arrival: Double?, now: Double) -> (decision: RateDecision, arrival: Double) {
        let tolerance = Double(burst - 1) * period
        let current = max(arrival ?? now, now)
        let earliest = current - tolerance
        guard earliest <= now + 1e-9 else {
            return (.refused(retryAfter: earliest - now, reset: current - now), current)
        }
        let next = current + period
        // Less a nanosecond of rounding, so a whole number of periods is not read as one more.
        let used = (next - now) / period - 1e-9
        let remaining = max(0, burst - Int(used.rounded(.up)))
        return (.allowed(remaining: remaining, reset: next - now), next)
    }
}

/// A limit's answer for one request.
public enum RateDecision: Sendable, Equatable {
    /// Let through; `remaining` more may come at once, and the burst is whole again after `reset` seconds.
    case allowed(remaining: Int, reset: Double)
    /// Refused; one more may come after `retryAfter` seconds, the burst is whole again after `reset`.
    case refused(retryAfter: Double, reset: Double)
}
