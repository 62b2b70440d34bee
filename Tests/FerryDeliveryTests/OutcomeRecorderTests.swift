import FerryCore
import FerryDelivery
import FerryObservability
import FerryStorage
import FerryTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// What recording an outcome writes beside it, on real stores: the failure that opens a subscription's circuit
/// opens it before its retry is written, so no claim can take that retry as an ordinary attempt (whose success
/// would leave the circuit open with nothing left to probe it); a failing streak remembered too short to disable
/// costs no write per further failure.
@Suite struct OutcomeRecorderTests {
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
        try await backend.withStore { store in try await checkCircuitOpening(store) }
    }

    @Test(arguments: StoreBackend.available)
    func aRememberedShortStreakSparesTheWriteOfFurtherFailures(backend: StoreBackend) async throws {
        try await backend.withStore { store in try await checkFailingMemo(store) }
    }

    private func checkFailingMemo<Store: FerryStore>(_ store: Store) async throws {
        let (_, application) = try await Fixtures.tenant(in: store)
        try await Fixtures.eventType(in: store, applicationID: application.id)
        let subscription = try await store.createSubscription(
            Fixtures.draft(applicationID: application.id, url: "http://127.0.0.1:9/hook"), secret: UUID())
        for _ in 0..<4 { _ = try await store.ingest(Fixtures.event(applicationID: application.id)) }
        let jobs = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
        try #require(jobs.count == 4)
        let recorder = OutcomeRecorder(
            queue: store, retryPolicy: RetryPolicy(schedule: [], maxRetries: 0, jitterRatio: 0),
            failingRule: FailingSubscriptionRule(span: .seconds(3600)), logger: Logger(label: "failing-memo-test"),
            metrics: .disabled)
        let failure = AttemptObservation.answered(
            status: 500, headers: [:], body: [], truncated: false, elapsedMilliseconds: 3, retryAfterSeconds: nil)
        let success = AttemptObservation.answered(
            status: 200, headers: [:], body: [], truncated: false, elapsedMilliseconds: 3, retryAfterSeconds: nil)
        func failingSince() async throws -> Date? { try await store.subscription(id: subscription.id)?.failingSince }

        #expect(await recorder.record(failure, for: jobs[0]))
        let since = try #require(try await failingSince(), "the first failure starts the streak in the database")
        // Another process's success ends the streak there; this process, remembering a streak far too short to
        // disable, does not write its next failure (the next failure after the memo lapses does).
        try await store.markSubscriptionHealthy(subscription.id)
        #expect(await recorder.record(failure, for: jobs[1]))
        #expect(try await failingSince() == nil, "no write for a failure within a remembered short streak")
        // A success seen here forgets the streak: the next failure is written again.
        #expect(await recorder.record(success, for: jobs[2]))
        #expect(await recorder.record(failure, for: jobs[3]))
        let restarted = try #require(try await failingSince(), "after a success here, a failure is written")
        #expect(restarted > since)
    }

    private func checkCircuitOpening<Store: FerryStore>(_ store: Store) async throws {
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
