import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

/// An application's deliveries per day (outcomes and nearest-rank latency percentiles) and its queue, as the
/// dashboard's overview reads them, on every backend.
@Suite struct DeliveryStatisticsTests {
    @Test(arguments: StoreBackend.available)
    func deliveriesPerDayCountOutcomesAndLatencyAndTheQueueItsWork(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            let (_, other) = try await Fixtures.tenant(in: store)
            for id in [application.id, other.id] {
                try await Fixtures.eventType(in: store, applicationID: id)
                _ = try await store.createSubscription(
                    Fixtures.draft(applicationID: id, url: "https://hooks.example.com/a"), secret: UUID())
            }
            for _ in 0..<6 { _ = try await store.ingest(Fixtures.event(applicationID: application.id)) }
            _ = try await store.ingest(Fixtures.event(applicationID: other.id))
            // Five answers of 10…50 ms (the fourth a 500, retried in ten minutes); one attempt left due.
            var answered = 0
            while answered < 5 {
                let jobs = try await store.claimDueJobs(limit: 1, leaseFor: .seconds(60))
                let job = try #require(jobs.first)
                guard job.applicationID == application.id else {
                    try await store.releaseLeases(of: jobs)
                    continue
                }
                answered += 1
                let observation = AttemptObservation.answered(
                    status: answered == 4 ? 500 : 200, headers: [:], body: [], truncated: false,
                    elapsedMilliseconds: answered == 5 ? 1_234 : answered * 10, retryAfterSeconds: nil)
                #expect(try await store.recordOutcome(observation, for: job, retryAt: Date().addingTimeInterval(600)))
            }
            let today = try #require(Timestamp.parseDay(Timestamp.formatDay(Date())))
            let days = try await store.deliveriesPerDay(
                applicationID: application.id, from: today.addingTimeInterval(-86_400), to: today)
            // Nearest rank over 10, 20, 30, 40 and 1,234 (counted as 1,300): the median is the 3rd value, the 95th
            // percentile the 5th.
            #expect(
                days == [
                    DeliveriesPerDay(
                        day: today, succeeded: 4, failed: 1, medianMilliseconds: 30, p95Milliseconds: 1_300)
                ])
            #expect(
                try await store.deliveriesPerDay(
                    applicationID: application.id, from: today.addingTimeInterval(-3 * 86_400),
                    to: today.addingTimeInterval(-86_400)
                ).isEmpty)

            let queue = try await store.applicationQueue(applicationID: application.id, at: Date())
            #expect(queue.due == 1 && queue.waiting == 1 && queue.inFlight == 0)
            #expect(queue.oldestDueAt != nil)
            _ = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
            let leased = try await store.applicationQueue(applicationID: application.id, at: Date())
            #expect(leased.due == 0 && leased.inFlight == 1 && leased.waiting == 1 && leased.oldestDueAt == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func theLogFiltersByOutcomeAndHTTPClassAndGivenUpAttemptsAreRecoveredOnce(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            let start = Date().addingTimeInterval(-1)
            for _ in 0..<3 { _ = try await store.ingest(Fixtures.event(applicationID: application.id)) }
            // The first succeeds; the second fails and is retried, and its retry gives up; the third gives up.
            let answers: [(Int, Bool)] = [(200, false), (500, true), (503, false), (500, false)]
            for (status, retries) in answers {
                let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(60)).first)
                let observation = AttemptObservation.answered(
                    status: status, headers: [:], body: [], truncated: false, elapsedMilliseconds: 5,
                    retryAfterSeconds: nil)
                #expect(try await store.recordOutcome(observation, for: job, retryAt: retries ? Date() : nil))
            }
            func count(_ outcome: AttemptOutcomeFilter? = nil, http: Int? = nil) async throws -> Int {
                try await store.countAttempts(
                    AttemptQuery(applicationID: application.id, outcome: outcome, httpClass: http))
            }
            #expect(try await count() == 4)
            #expect(try await count(.succeeded) == 1)
            #expect(try await count(.failed) == 3)
            #expect(try await count(.givenUp) == 2)
            #expect(try await count(.unfinished) == 0)
            #expect(try await count(http: 2) == 1)
            #expect(try await count(http: 5) == 3)
            #expect(try await count(http: 0) == 0)
            let listed = try await store.requestAttempts(AttemptQuery(applicationID: application.id, outcome: .givenUp))
            #expect(listed.count == 2 && listed.allSatisfy { $0.failedAt != nil })

            let end = Date().addingTimeInterval(1)
            #expect(
                try await store.recoverGivenUp(
                    applicationID: application.id, subscriptionID: nil, from: start, to: end, limit: 1) == 1)
            #expect(
                try await store.recoverGivenUp(
                    applicationID: application.id, subscriptionID: nil, from: start, to: end, limit: 10) == 1)
            #expect(
                try await store.recoverGivenUp(
                    applicationID: application.id, subscriptionID: nil, from: start, to: end, limit: 10) == 0)
            #expect(try await count(.givenUp) == 0)
            #expect(try await count(.unfinished) == 2)
            #expect(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).count == 2)
        }
    }
}
