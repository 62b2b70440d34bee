/// What one attempt says about its endpoint's capacity, for the adaptive limits of the fair scheduler.
public enum CapacitySignal: Sendable, Equatable {
    /// A 2xx, however slow (as an acknowledgement grows TCP's window): the endpoint keeps up, it may take more in
    /// parallel.
    case healthy
    /// An answer that says nothing about capacity (a 4xx other than 429, a request that could not be sent).
    case neutral
    /// A timeout, a dropped connection, a 429 or a 5xx: the endpoint is struggling, send it less.
    case overloaded

    /// The signal of `observation`.
    public init(_ observation: AttemptObservation) {
        if observation.isDelivered {
            self = .healthy
            return
        }
        if let status = observation.httpStatus {
            self = status == 429 || status >= 500 ? .overloaded : .neutral
            return
        }
        switch observation.errorName {
        case .timeout, .connection: self = .overloaded
        default: self = .neutral
        }
    }
}

/// How many deliveries one endpoint (a subscription, a target host) may have in flight in one process, adapted to
/// what its answers say (additive increase, multiplicative decrease, as TCP's congestion window): a new endpoint
/// starts at `initial` and doubles per round of 2xx answers (slow start) until its first sign of overload;
/// after that it grows by one per round of 2xx answers; each timeout, dropped connection, 429 or 5xx halves it,
/// never below `minimum`. A subscription that hangs therefore holds at most `initial` slots, then one, while a
/// healthy one climbs to `maximum` within a few round trips.
public struct AdaptiveConcurrencyLimit: Sendable, Equatable {
    /// The limit of a subscription not seen before.
    public static let defaultInitial = 4

    public let minimum: Int
    public let maximum: Int
    /// The current window; the limit is its whole part.
    public private(set) var window: Double
    /// Whether the endpoint has not shown overload yet (the window doubles per round instead of growing by one).
    public private(set) var isSlowStart = true

    public init(initial: Int = AdaptiveConcurrencyLimit.defaultInitial, minimum: Int = 1, maximum: Int) {
        self.maximum = max(1, maximum)
        self.minimum = min(max(1, minimum), self.maximum)
        self.window = Double(min(max(self.minimum, initial), self.maximum))
    }

    /// The limit of a target host not seen before: it starts at `maximum` (its subscriptions each start slowly)
    /// and never drops below four, so one hanging path on a host shared by many subscriptions cannot starve the
    /// others on it.
    public static func host(maximum: Int) -> AdaptiveConcurrencyLimit {
        AdaptiveConcurrencyLimit(initial: maximum, minimum: 4, maximum: maximum)
    }

    /// Deliveries allowed in flight now.
    public var limit: Int { max(minimum, min(maximum, Int(window))) }

    /// Adapts the window to one attempt's signal.
    public mutating func record(_ signal: CapacitySignal) {
        switch signal {
        case .healthy:
            window = min(Double(maximum), window + (isSlowStart ? 1 : 1 / window))
        case .neutral:
            break
        case .overloaded:
            isSlowStart = false
            window = max(Double(minimum), window / 2)
        }
    }
}
