import FerryCore
import FerryDelivery
import FerryObservability
import FerryStorage
import FerryTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The failure that opens a subscription's circuit opens it before its retry is written, so no claim can take
/// that retry as an ordinary attempt (whose success would leave the circuit open with nothing left to probe it).
@Suite struct CircuitOpeningTests {
    /// What the store held when the circuit-opened event was emitted: the event's attempts then.
    final class AttemptsWhenOpened: OperationalEventSink {
        let store: any FerryStore
        let applicationID: UUID
        let seen = Mutex<[RequestAttempt]?>(nil)

        init(store: any FerryStore, applicationID: UUID) {
            self.store = store
            self.applicationID = applicationID
        }

        func emit(_ event: OperationalEvent) async {
            guard event.kind == .circuitOpened else { return }
            let attempts = try? await store.requestAttempts(AttemptQuery(applicationID: applicationID))
            seen.withLock { $0 = attempts }
        }
    }

    @Test(arguments: StoreBackend.available)
    func theOpeningFailureOpensTheCircuitBeforeItsRetryIsWritten(backend: StoreBackend) async throws {
        try await backend.withStore { store in try await check(store) }
    }

    private func check<Store: FerryStore>(_ store: Store) async throws {
        let (_, application) = try await Fixtures.tenant(in: store)
        try await Fixtures.eventType(in: store, applicationID: application.id)
        let subscription = try await store.createSubscription(
            Fixtures.draft(applicationID: application.id, url: "http://127.0.0.1:9/hook"), secret: UUID())
        let event = try await store.ingest(Fixtures.event(applicationID: application.id))
        let job = try #require(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).first)
        let sink = AttemptsWhenOpened(store: store, applicationID: application.id)
        let recorder = OutcomeRecorder(
            queue: store, retryPolicy: RetryPolicy(schedule: [0], maxRetries: 3, jitterRatio: 0),
            circuitPolicy: CircuitBreakerPolicy(failureThreshold: 1, openFor: .seconds(60)), operationalEvents: sink,
            logger: Logger(label: "circuit-opening-test"), metrics: .disabled)
        let failure = AttemptObservation.answered(
            status: 500, headers: [:], body: [], truncated: false, elapsedMilliseconds: 3, retryAfterSeconds: nil)

        #expect(await recorder.record(failure, for: job))

        let whenOpened = try #require(sink.seen.withLock { $0 }, "the circuit opened")
        #expect(whenOpened.count == 1, "only the failing attempt, its outcome and retry not yet written")
        #expect(whenOpened.first?.id == job.attemptID && whenOpened.first?.failedAt == nil)
        let after = try await store.requestAttempts(AttemptQuery(applicationID: application.id, eventID: event.id))
        #expect(after.count == 2, "the outcome and its retry, due at once, are written after")
        #expect(
            try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).isEmpty,
            "the due retry waits for the circuit's probe")
        let stored = try #require(try await store.subscription(id: subscription.id))
        #expect(stored.circuit.name(at: Date()) == "open")
    }
}
