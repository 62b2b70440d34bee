/// A deadline shared by every step of one authorization: the fixpoint, checks and policies, and inside them
/// expression closures and regular expression matching.
struct TimeBudget: Sendable {
    let deadline: ContinuousClock.Instant

    init(_ duration: Duration) {
        deadline = ContinuousClock.now.advanced(by: duration)
    }

    /// Whether the deadline has passed.
    var isSpent: Bool { ContinuousClock.now >= deadline }

    func check() throws(WorldFailure) {
        if isSpent { throw .limit(.timeout) }
    }

    /// The same check for expression evaluation, which reports it as its own failure.
    func checkDuringEvaluation() throws(EvaluationFailure) {
        if isSpent { throw .limit(.timeout) }
    }
}
