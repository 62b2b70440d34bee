import Foundation

/// What Ferry counts per application and UTC day as it happens (events received, attempts that succeeded or
/// failed, and their latencies in buckets), so that a chart over many days reads a few rows per day instead of
/// every event and attempt of its range. The stores keep the tallies; the rules of their days and buckets are here.
public enum DailyTally {
    /// What one tally counts.
    public enum Measure: String, Sendable, CaseIterable {
        /// Events received.
        case events
        /// Attempts that ended delivered, counted on the day they ended.
        case succeeded
        /// Attempts that ended failed (each retry counts once), counted on the day they ended.
        case failed
        /// Ended attempts whose latency falls in a bucket (see `latencyBucket(milliseconds:)`).
        case latency
    }

    private static let microsecondsPerDay: Int64 = 86_400_000_000

    /// The number of the UTC day holding `date`: whole days since 1970-01-01 (negative before it).
    public static func day(of date: Date) -> Int {
        let micros = Timestamp.microseconds(date)
        let floored = micros >= 0 ? micros / microsecondsPerDay : (micros - microsecondsPerDay + 1) / microsecondsPerDay
        return Int(floored)
    }

    /// Midnight UTC of a day numbered by `day(of:)`.
    public static func start(ofDay day: Int) -> Date {
        Timestamp.date(microseconds: Int64(day) * microsecondsPerDay)
    }

    /// The bucket a latency is counted in: the milliseconds rounded up to two significant digits (exact below
    /// 100 ms, then steps of 10 ms up to a second, of 100 ms up to ten seconds, …). A percentile read from the
    /// buckets is the true one or at most 10 % above it, and a day holds at most a few hundred buckets.
    public static func latencyBucket(milliseconds: Int) -> Int {
        guard milliseconds >= 100 else { return max(0, milliseconds) }
        var step = 1
        while milliseconds / step >= 100 { step *= 10 }
        return (milliseconds + step - 1) / step * step
    }

    /// The nearest-rank percentile (the value at position ⌈p × n / 100⌉ in sorted order) of the latencies counted
    /// in `buckets` (bucket → how many); nil when none were counted.
    public static func percentile(_ percent: Int, of buckets: [Int: Int]) -> Int? {
        let total = buckets.values.reduce(0, +)
        guard total > 0 else { return nil }
        let position = (total * percent + 99) / 100
        var seen = 0
        for (bucket, amount) in buckets.sorted(by: { $0.key < $1.key }) {
            seen += amount
            if seen >= max(1, position) { return bucket }
        }
        return buckets.keys.max()
    }
}
