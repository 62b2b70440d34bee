import AsyncHTTPClient
import FerryCore
import FerryDelivery
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Logging
import ServiceLifecycle

/// Runs a real delivery worker over a real store against a real loopback receiver.
struct DeliveryHarness {
    let store: any FerryStore
    let application: Application
    let subscription: Subscription

    /// Sets up a tenant, an event type and a subscription to `url`, runs `workers` workers (each with its own
    /// HTTP client and fair shares, as separate processes have) during `body`, then stops them.
    static func run(
        backend: StoreBackend, url: String, configure: (inout DeliveryConfiguration) -> Void = { _ in },
        headers: [String: String] = [:], workers: Int = 1, operationalEvents: Bool = false,
        _ body: @Sendable (DeliveryHarness) async throws -> Void
    ) async throws {
        var configuration = DeliveryConfiguration()
        configuration.allowedTargetNetworks = [CIDR("127.0.0.0/8")].compactMap { $0 }
        configuration.retryPolicy = RetryPolicy(schedule: [0.2], maxRetries: 2, jitterRatio: 0)
        // Generous, so a loaded machine does not turn a receiver's quick answer into a timeout; the tests of
        // timeouts set their own.
        configuration.totalTimeout = .seconds(10)
        configuration.maxIdleWait = .milliseconds(500)
        // Off, so the tests of retries and failures see every attempt; the circuit breaker's tests turn it on.
        configuration.circuitPolicy = CircuitBreakerPolicy(failureThreshold: nil)
        configure(&configuration)
        let finalConfiguration = configuration
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let subscription = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: url, headers: headers), secret: UUID())
            var logger = Logger(label: "delivery-test")
            logger.logLevel = .warning
            let clients = (0..<max(1, workers)).map { _ in HTTPDeliverer.makeClient(configuration: finalConfiguration) }
            let services = clients.map { client in
                makeWorker(
                    queue: store,
                    deliverer: HTTPDeliverer(
                        client: client,
                        targetGuard: TargetGuard(policy: finalConfiguration.targetPolicy),
                        configuration: finalConfiguration),
                    configuration: finalConfiguration, logger: logger, operationalEvents: operationalEvents)
            }
            let group = ServiceGroup(configuration: .init(services: services, logger: logger))
            let runner = Task { try await group.run() }
            let harness = DeliveryHarness(store: store, application: application, subscription: subscription)
            var failure: (any Error)?
            do { try await body(harness) } catch { failure = error }
            await group.triggerGracefulShutdown()
            _ = await runner.result
            for client in clients { try await client.shutdown() }
            if let failure { throw failure }
        }
    }

    /// A worker over `queue` (a generic function, so an existential store is opened), emitting operational
    /// events into the store when asked to.
    static func makeWorker<Queue: FerryStore>(
        queue: Queue, deliverer: HTTPDeliverer, configuration: DeliveryConfiguration, logger: Logger,
        operationalEvents: Bool
    ) -> any Service {
        DeliveryWorker(
            queue: queue, deliverer: deliverer, configuration: configuration, logger: logger,
            operationalEvents: operationalEvents ? StoreOperationalEvents(store: queue, logger: logger) : nil)
    }

    /// Ingests one matching event.
    @discardableResult
    func send(payload: String = #"{"amount":42}"#) async throws -> Event {
        try await store.ingest(Fixtures.event(applicationID: application.id, payload: payload))
    }

    /// Polls the attempts until `predicate` holds or the timeout passes; returns the last listing.
    func waitForAttempts(
        timeout: Duration = .seconds(10), until predicate: ([RequestAttempt]) -> Bool
    ) async throws -> [RequestAttempt] {
        let deadline = ContinuousClock.now + timeout
        var attempts: [RequestAttempt] = []
        while ContinuousClock.now < deadline {
            attempts = try await store.requestAttempts(AttemptQuery(applicationID: application.id))
            if predicate(attempts) { return attempts }
            try await Task.sleep(for: .milliseconds(50))
        }
        return attempts
    }
}
