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
                    elapsedMilliseconds: answered * 10, retryAfterSeconds: nil)
                #expect(try await store.recordOutcome(observation, for: job, retryAt: Date().addingTimeInterval(600)))
            }
            let today = try #require(Timestamp.parseDay(Timestamp.formatDay(Date())))
            let days = try await store.deliveriesPerDay(
                applicationID: application.id, from: today.addingTimeInterval(-86_400), to: today)
            // Nearest rank over 10, 20, 30, 40, 50: the median is the 3rd value, the 95th percentile the 5th.
            #expect(
                days == [
                    DeliveriesPerDay(day: today, succeeded: 4, failed: 1, medianMilliseconds: 30, p95Milliseconds: 50)
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
}
