import Foundation

/// How much delivery work the database holds right now, for metrics and dashboards.
public struct QueueStatistics: Sendable, Equatable {
    /// Unfinished attempts that are due (including leases that ran out): what workers should be sending now.
    public var due: Int
    /// Unfinished attempts held by a worker's live lease: being delivered.
    public var leased: Int
    /// Unfinished attempts waiting for a later time (scheduled retries).
    public var waiting: Int
    /// How long the oldest due attempt has been due, in seconds (0 when none is due): the delivery lag.
    public var oldestDueAgeSeconds: Double
    /// Live subscriptions that are enabled.
    public var enabledSubscriptions: Int
    /// Live subscriptions that are disabled.
    public var disabledSubscriptions: Int
    /// Live subscriptions whose circuit is open (or half-open).
    public var circuitOpenSubscriptions: Int

    public init(
        due: Int, leased: Int, waiting: Int, oldestDueAgeSeconds: Double, enabledSubscriptions: Int,
        disabledSubscriptions: Int, circuitOpenSubscriptions: Int = 0
    ) {
        self.circuitOpenSubscriptions = circuitOpenSubscriptions
        self.due = due
        self.leased = leased
        self.waiting = waiting
        self.oldestDueAgeSeconds = oldestDueAgeSeconds
        self.enabledSubscriptions = enabledSubscriptions
        self.disabledSubscriptions = disabledSubscriptions
    }
}

/// How busy this process's database connections are.
public struct PoolStatistics: Sendable, Equatable {
    /// Connections running a statement or transaction for this process.
    public var inUse: Int
    /// Statements and transactions waiting for a connection (or, on SQLite, for the next shared write).
    public var waiting: Int
    /// Connections this process may use at most.
    public var capacity: Int

    public init(inUse: Int, waiting: Int, capacity: Int) {
        self.inUse = inUse
        self.waiting = waiting
        self.capacity = capacity
    }
}
