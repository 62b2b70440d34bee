import FerryCore
import FerryStorage
import Foundation
import Metrics
import Synchronization

/// Ferry's metrics, recorded through swift-metrics into whichever backend the process chose (Prometheus for
/// `ferry serve`, `ferry api` and `ferry worker`). Labels stay bounded: applications, event types, outcomes and
/// states, never the id of an event, attempt or subscription.
public final class FerryMetrics: Sendable {
    private let factory: any MetricsFactory
    private let ingestDuration: Metrics.Timer
    private let deliveryDuration: Metrics.Timer
    private let retriesScheduled: Counter
    private let deliveriesGivenUp: Counter
    private let deliveriesInFlight: Meter
    private let expiredEvents: Counter
    private let attemptsDue: Gauge
    private let attemptsLeased: Gauge
    private let attemptsWaiting: Gauge
    private let oldestDueAge: Gauge
    private let enabledSubscriptions: Gauge
    private let disabledSubscriptions: Gauge
    private let circuitOpenSubscriptions: Gauge
    private let connectionsInUse: Gauge
    private let connectionsWaiting: Gauge
    private let connectionsCapacity: Gauge
    private let tenantSeriesLimit: Int
    private let tenantSeries = Mutex<Set<String>>([])

    /// The label value of the series that counts every application and event type past the limit.
    public static let otherTenants = "other"

    /// Records into `factory`; tests pass their own, processes pass their Prometheus factory. `tenantSeriesLimit`
    /// (0 by default) is how many application/event-type pairs get series of their own.
    public init(factory: any MetricsFactory, tenantSeriesLimit: Int = 0) {
        self.factory = factory
        self.tenantSeriesLimit = max(0, tenantSeriesLimit)
        ingestDuration = Metrics.Timer(label: "ferry_ingest_duration_seconds", factory: factory)
        deliveryDuration = Metrics.Timer(label: "ferry_delivery_duration_seconds", factory: factory)
        retriesScheduled = Counter(label: "ferry_retries_scheduled_total", factory: factory)
        deliveriesGivenUp = Counter(label: "ferry_deliveries_given_up_total", factory: factory)
        deliveriesInFlight = Meter(label: "ferry_deliveries_in_flight", factory: factory)
        expiredEvents = Counter(label: "ferry_events_expired_total", factory: factory)
        attemptsDue = Gauge(label: "ferry_attempts", dimensions: [("state", "due")], factory: factory)
        attemptsLeased = Gauge(label: "ferry_attempts", dimensions: [("state", "leased")], factory: factory)
        attemptsWaiting = Gauge(label: "ferry_attempts", dimensions: [("state", "waiting")], factory: factory)
        oldestDueAge = Gauge(label: "ferry_oldest_due_attempt_age_seconds", factory: factory)
        enabledSubscriptions = Gauge(label: "ferry_subscriptions", dimensions: [("state", "enabled")], factory: factory)
        disabledSubscriptions = Gauge(
            label: "ferry_subscriptions", dimensions: [("state", "disabled")], factory: factory)
        circuitOpenSubscriptions = Gauge(
            label: "ferry_subscriptions", dimensions: [("state", "circuit_open")], factory: factory)
        connectionsInUse = Gauge(
            label: "ferry_database_connections", dimensions: [("state", "in_use")], factory: factory)
        connectionsWaiting = Gauge(
            label: "ferry_database_connections", dimensions: [("state", "waiting")], factory: factory)
        connectionsCapacity = Gauge(
            label: "ferry_database_connections", dimensions: [("state", "capacity")], factory: factory)
    }

    /// Metrics that go nowhere, for code run without a metrics backend.
    public static let disabled = FerryMetrics(factory: NOOPMetricsHandler.instance)

    /// An event was stored (`POST /api/v1/event` answered 201 after `duration`).
    public func eventIngested(applicationID: UUID, eventType: String, duration: Duration) {
        let application = applicationID.lowercased
        let ownSeries =
            tenantSeriesLimit > 0
            && tenantSeries.withLock { seen in
                let key = application + "/" + eventType
                if seen.contains(key) { return true }
                guard seen.count < tenantSeriesLimit else { return false }
                seen.insert(key)
                return true
            }
        let labels =
            ownSeries ? (application, eventType) : (Self.otherTenants, Self.otherTenants)
        Counter(
            label: "ferry_events_ingested_total",
            dimensions: [("application_id", labels.0), ("event_type", labels.1)], factory: factory
        ).increment()
        ingestDuration.recordNanoseconds(Self.nanoseconds(duration))
    }

    /// A worker started sending an attempt.
    public func deliveryStarted() {
        deliveriesInFlight.increment()
    }

    /// A worker finished an attempt; `retryScheduled` tells whether it will be tried again.
    public func deliveryFinished(_ observation: AttemptObservation, retryScheduled: Bool) {
        deliveriesInFlight.decrement()
        Counter(label: "ferry_deliveries_total", dimensions: [("outcome", Self.outcome(observation))], factory: factory)
            .increment()
        deliveryDuration.recordMilliseconds(observation.elapsedMilliseconds)
        switch observation.outcome {
        case .delivered: break
        case .retryable:
            if retryScheduled { retriesScheduled.increment() } else { deliveriesGivenUp.increment() }
        case .permanent: deliveriesGivenUp.increment()
        }
    }

    /// A subscription's circuit opened (`opened`) or closed.
    public func circuitChanged(opened: Bool) {
        Counter(
            label: "ferry_circuit_transitions_total", dimensions: [("to", opened ? "open" : "closed")],
            factory: factory
        ).increment()
    }

    /// Retention deleted `count` events.
    public func eventsExpired(_ count: Int) {
        if count > 0 { expiredEvents.increment(by: count) }
    }

    /// Sets the queue and subscription gauges.
    public func update(_ statistics: QueueStatistics) {
        attemptsDue.record(statistics.due)
        attemptsLeased.record(statistics.leased)
        attemptsWaiting.record(statistics.waiting)
        oldestDueAge.record(statistics.oldestDueAgeSeconds)
        enabledSubscriptions.record(statistics.enabledSubscriptions)
        disabledSubscriptions.record(statistics.disabledSubscriptions)
        circuitOpenSubscriptions.record(statistics.circuitOpenSubscriptions)
    }

    /// Sets the database connection gauges.
    public func update(_ statistics: PoolStatistics) {
        connectionsInUse.record(statistics.inUse)
        connectionsWaiting.record(statistics.waiting)
        connectionsCapacity.record(statistics.capacity)
    }

    /// The `outcome` label of an attempt: `success`, `http_error`, `timeout`, `connection`, `dns`,
    /// `refused_target`, `invalid_header` or `unknown`.
    static func outcome(_ observation: AttemptObservation) -> String {
        if observation.isDelivered { return "success" }
        switch observation.errorName ?? .unknown {
        case .http: return "http_error"
        case .timeout: return "timeout"
        case .connection: return "connection"
        case .dns: return "dns"
        case .invalidTarget: return "refused_target"
        case .invalidHeader: return "invalid_header"
        case .unknown: return "unknown"
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
