#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A deadline shared by every step of one authorization: the fixpoint, checks and policies, and inside them
/// expression closures and regular expression matching. Measured on the clock `RunLimits.timeSource` names.
struct TimeBudget: Sendable {
    private let source: RunLimits.TimeSource
    private let deadline: Duration

    init(_ duration: Duration, source: RunLimits.TimeSource = .elapsed) {
        self.source = source
        deadline = Self.now(source) + duration
    }

    /// Whether the deadline has passed.
    var isSpent: Bool { Self.now(source) >= deadline }

    func check() throws(WorldFailure) {
        if isSpent { throw .limit(.timeout) }
    }

    /// The same check for expression evaluation, which reports it as its own failure.
    func checkDuringEvaluation() throws(EvaluationFailure) {
        if isSpent { throw .limit(.timeout) }
    }

    /// The current reading of `source`, as a duration from its origin.
    private static func now(_ source: RunLimits.TimeSource) -> Duration {
        var reading = timespec()
        clock_gettime(source == .elapsed ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &reading)
        return .seconds(Int64(reading.tv_sec)) + .nanoseconds(Int64(reading.tv_nsec))
    }
}
