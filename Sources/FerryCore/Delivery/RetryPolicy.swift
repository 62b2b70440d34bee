import Foundation

/// When to retry a failed delivery: a fixed schedule whose last step repeats, a retry cap, and random jitter.
public struct RetryPolicy: Sendable, Equatable {
    /// Hook0's default delays: 3 s, 10 s, 3 min, 30 min, 1 h, 3 h, 5 h, then 10 h.
    public static let defaultSchedule: [Double] = [3, 10, 180, 1800, 3600, 10_800, 18_000, 36_000]

    /// Delays in seconds before retry 1, 2, …; the last one repeats.
    public var schedule: [Double]
    /// Retries allowed after the first attempt.
    public var maxRetries: Int
    /// Each delay is scaled by a random factor in `1 ± jitterRatio`.
    public var jitterRatio: Double
    /// Longest delay a receiver's `Retry-After` may ask for, in seconds.
    public var maxRetryAfter: Double

    public init(
        schedule: [Double] = RetryPolicy.defaultSchedule, maxRetries: Int = 24, jitterRatio: Double = 0.1,
        maxRetryAfter: Double = 36_000
    ) {
        self.schedule = schedule.isEmpty ? RetryPolicy.defaultSchedule : schedule
        self.maxRetries = max(0, maxRetries)
        self.jitterRatio = min(max(0, jitterRatio), 1)
        self.maxRetryAfter = max(0, maxRetryAfter)
    }

    /// The base delay (no jitter) after the attempt with `retryCount` failed.
    public func baseDelay(afterRetryCount retryCount: Int) -> Double {
        schedule[min(max(0, retryCount), schedule.count - 1)]
    }

    /// Seconds to wait before the next attempt, or `nil` when retries are exhausted.
    /// - Parameters:
    ///   - retryCount: the `retry_count` of the attempt that just failed (the first attempt has 0).
    ///   - retryAfter: a receiver's `Retry-After` hint in seconds (from a 429 or 503), if any.
    ///   - unitRandom: a number in `0..<1` that picks the jitter.
    public func nextDelay(afterRetryCount retryCount: Int, retryAfter: Double? = nil, unitRandom: Double) -> Double? {
        guard retryCount < maxRetries else { return nil }
        let base = baseDelay(afterRetryCount: retryCount)
        let jittered = base * (1 + jitterRatio * (2 * unitRandom - 1))
        guard let retryAfter, retryAfter > 0 else { return jittered }
        return max(jittered, min(retryAfter, maxRetryAfter))
    }

    /// Parses a schedule like `3s,10s,3m,30m,1h` (units `ms`, `s`, `m`, `h`, `d`; a bare number means seconds).
    public static func parseSchedule(_ text: String) -> [Double]? {
        let steps = text.split(separator: ",", omittingEmptySubsequences: false).map {
            DurationText.seconds(String($0))
        }
        guard !steps.isEmpty, steps.allSatisfy({ $0 != nil }) else { return nil }
        return steps.compactMap { $0 }
    }
}

/// A subscription's own retry settings: each one it sets replaces the server's (`RetryPolicy.overridden(by:)`).
public struct RetryOverride: Sendable, Equatable {
    /// The most steps a subscription's schedule may have.
    public static let maxSteps = 20
    /// The longest step a subscription may set, in seconds (a week).
    public static let maxStepSeconds = 7 * 86_400
    /// The most retries a subscription may ask for.
    public static let maxRetriesLimit = 100

    /// Delays in seconds before retry 1, 2, …; the last one repeats.
    public var schedule: [Double]?
    /// Retries after the first attempt.
    public var maxRetries: Int?

    public init(schedule: [Double]? = nil, maxRetries: Int? = nil) {
        self.schedule = schedule
        self.maxRetries = maxRetries
    }

    /// The schedule as shown: durations, comma-separated.
    public var scheduleText: String? {
        schedule.map { $0.map { DurationText.format($0) }.joined(separator: ",") }
    }

    /// The stored form, `SCHEDULE;MAX_RETRIES` with the schedule in seconds (`10,60;5`, `;3`, `10;`), or nil when
    /// the subscription sets neither.
    public var stored: String? {
        guard schedule != nil || maxRetries != nil else { return nil }
        let steps = schedule.map { $0.map { String($0) }.joined(separator: ",") } ?? ""
        return steps + ";" + (maxRetries.map(String.init) ?? "")
    }

    /// The settings from their stored form (none from nil or anything unreadable).
    public init(stored: String?) {
        guard let stored, let separator = stored.firstIndex(of: ";") else {
            self.init()
            return
        }
        let steps = stored[..<separator].split(separator: ",").compactMap { Double($0) }
        self.init(
            schedule: steps.isEmpty ? nil : steps, maxRetries: Int(stored[stored.index(after: separator)...]))
    }
}

extension RetryPolicy {
    /// This policy with a subscription's own settings in place of the server's; jitter and the `Retry-After` cap
    /// stay the server's.
    public func overridden(by override: RetryOverride) -> RetryPolicy {
        RetryPolicy(
            schedule: override.schedule ?? schedule, maxRetries: override.maxRetries ?? maxRetries,
            jitterRatio: jitterRatio, maxRetryAfter: maxRetryAfter)
    }
}

/// Human durations such as `250ms`, `5s`, `3m`, `1h`, `2d`.
public enum DurationText {
    /// The duration in seconds, or `nil` if `text` is not a non-negative duration.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count)), value >= 0, value.isFinite else { return nil }
            return value * factor
        }
        guard let value = Double(trimmed), value >= 0, value.isFinite else { return nil }
        return value
    }

    /// Formats seconds compactly (`3s`, `3m`, `1h`, `250ms`).
    /// `duration` written as `format(_:)` writes seconds.
    public static func format(_ duration: Duration) -> String {
        format(duration.timeInterval)
    }

    public static func format(_ seconds: Double) -> String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        if seconds.rounded() == seconds { return "\(Int(seconds))s" }
        return "\(Int((seconds * 1000).rounded()))ms"
    }
}

extension Duration {
    /// The duration in seconds, as `Date` arithmetic takes it.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
