/// Bounds on one authorization, so that no token or authorizer can make it run long or grow without end.
public struct RunLimits: Hashable, Sendable {
    /// Most facts the world may hold (counting a fact once per distinct origin).
    public var maxFacts: Int
    /// Most rounds of rule application before the fixpoint must be reached.
    public var maxIterations: Int
    /// Longest the whole authorization (fixpoint, checks and policies) may take; it is checked inside expressions
    /// too, before each closure element and every 1,024 steps of a regular expression match.
    public var maxTime: Duration
    /// Which clock `maxTime` is measured on.
    public var timeSource: TimeSource

    /// The clocks an authorization's time can be measured on.
    public enum TimeSource: Hashable, Sendable {
        /// Time as it passes (the reference implementation's choice).
        case elapsed
        /// CPU time the authorizing thread spends (an authorization runs on one thread, without suspending): the
        /// run's own cost, which a busy machine's scheduling delays do not inflate.
        case threadCPU
    }

    /// Limits; the defaults are the reference implementation's facts and iterations, and 5 ms of the authorizing
    /// thread's CPU time (the reference allows 1 ms as it passes, which a debug build can exceed on a small token,
    /// and which a loaded machine's scheduling delays alone can use up).
    public init(
        maxFacts: Int = 1000, maxIterations: Int = 100, maxTime: Duration = .milliseconds(5),
        timeSource: TimeSource = .threadCPU
    ) {
        self.maxFacts = maxFacts
        self.maxIterations = maxIterations
        self.maxTime = maxTime
        self.timeSource = timeSource
    }
}

/// Which limit stopped an authorization.
public enum RunLimit: Hashable, Sendable {
    /// The world would hold more than `maxFacts` facts.
    case tooManyFacts
    /// The fixpoint needed more than `maxIterations` rounds.
    case tooManyIterations
    /// The authorization took longer than `maxTime`.
    case timeout
}
