#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A deadline shared by every step of one authorization: the fixpoint, checks and policies, and inside them
/// expression closures and regular expression matching. Measured on the clock `RunLimits.timeSource` names.
///
/// A thread cannot spend more CPU time than wall-clock time passes, so on the thread-CPU source the budget first
/// reads the monotonic clock (served by the vDSO, no system call) and asks the kernel for the thread's CPU time
/// only once that much wall-clock time has gone by: a fast authorization never pays a system call per step.
struct TimeBudget: Sendable {
    private let duration: Duration
    private let wallDeadline: Duration
    private let cpuStart: Duration?

    init(_ duration: Duration, source: RunLimits.TimeSource = .elapsed) {
        self.duration = duration
        wallDeadline = Self.now(CLOCK_MONOTONIC) + duration
        cpuStart = source == .threadCPU ? Self.now(CLOCK_THREAD_CPUTIME_ID) : nil
    }

    /// Whether the deadline has passed.
    var isSpent: Bool {
        guard Self.now(CLOCK_MONOTONIC) >= wallDeadline else { return false }
        guard let cpuStart else { return true }
        return Self.now(CLOCK_THREAD_CPUTIME_ID) - cpuStart >= duration
    }

    func check() throws(WorldFailure) {
        if isSpent { throw .limit(.timeout) }
    }

    /// The same check for expression evaluation, which reports it as its own failure.
    func checkDuringEvaluation() throws(EvaluationFailure) {
        if isSpent { throw .limit(.timeout) }
    }

    /// The current reading of `clock`, as a duration from its origin.
    private static func now(_ clock: clockid_t) -> Duration {
        var reading = timespec()
        clock_gettime(clock, &reading)
        return .seconds(Int64(reading.tv_sec)) + .nanoseconds(Int64(reading.tv_nsec))
    }
}
