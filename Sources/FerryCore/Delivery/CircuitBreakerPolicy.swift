import Foundation

/// When a subscription's circuit opens and when it is probed again. After `failureThreshold` consecutive failed
/// attempts the circuit opens: its due attempts wait, uncounted, instead of being sent. After `openFor` one probe
/// attempt is sent; success closes the circuit, failure keeps it open for as long again as it has been open
/// already (so the pauses double), at most `maximumOpenFor`.
public struct CircuitBreakerPolicy: Sendable, Equatable {
    public static let defaultFailureThreshold = 10
    public static let defaultOpenFor: Duration = .seconds(30)
    /// The longest pause between probes.
    public static let maximumOpenFor: Duration = .seconds(15 * 60)

    /// Consecutive failures that open the circuit; nil: never.
    public var failureThreshold: Int?
    /// The pause before the first probe.
    public var openFor: Duration

    public init(
        failureThreshold: Int? = CircuitBreakerPolicy.defaultFailureThreshold,
        openFor: Duration = CircuitBreakerPolicy.defaultOpenFor
    ) {
        self.failureThreshold = failureThreshold.map { max(1, $0) }
        self.openFor = openFor
    }

    /// Whether `consecutiveFailures` opens a closed circuit.
    public func opens(afterConsecutiveFailures consecutiveFailures: Int) -> Bool {
        guard let failureThreshold else { return false }
        return consecutiveFailures >= failureThreshold
    }

    /// When the next probe may go, for a circuit opened at `openedAt` whose last probe failed at `now` (or that
    /// opens at `now`, when `openedAt == now`).
    public func nextProbe(openedAt: Date, now: Date) -> Date {
        let first = openFor.timeInterval
        let pause = min(max(first, now.timeIntervalSince(openedAt)), max(first, Self.maximumOpenFor.timeInterval))
        return now.addingTimeInterval(pause)
    }
}

/// The state of a subscription's circuit as stored (a Ferry extension): closed, open until its next probe, or
/// half-open (the next attempt is the probe).
public struct CircuitState: Sendable, Equatable {
    /// When the circuit opened; nil while it is closed.
    public var openedAt: Date?
    /// When the next probe may be sent (attempts wait until then), while it is open.
    public var probeAt: Date?

    public init(openedAt: Date? = nil, probeAt: Date? = nil) {
        self.openedAt = openedAt
        self.probeAt = probeAt
    }

    /// The state's name at `now`: `closed`, `open` or `half_open`.
    public func name(at now: Date) -> String {
        guard openedAt != nil else { return "closed" }
        if let probeAt, probeAt > now { return "open" }
        return "half_open"
    }
}
