import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

@testable import FerryPostgres
@testable import FerrySQLite

/// The daily tallies on every backend: ingest and recorded outcomes count as they happen (not cancellations), a
/// day's events stay counted after retention, and counting again from the stored rows, as the migration that
/// added the tallies does, finds the same numbers.
@Suite struct DailyTallyStoreTests {
    @Test(arguments: StoreBackend.available)
    func talliesCountAsTheyHappenAndTheMigrationsRecountAgrees(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let subscription = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            for _ in 0..<8 { _ = try await store.ingest(Fixtures.event(applicationID: application.id)) }
            let latencies = [5, 99, 100, 101, 1_234, 15_001]
            for (index, milliseconds) in latencies.enumerated() {
                let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(60)).first)
                let observation = AttemptObservation.answered(
                    status: index == 1 ? 503 : 200, headers: [:], body: [], truncated: false,
                    elapsedMilliseconds: milliseconds, retryAfterSeconds: nil)
                #expect(try await store.recordOutcome(observation, for: job, retryAt: nil))
            }
            // The two attempts left are cancelled unsent: they are not deliveries.
            _ = try await store.setSubscriptionEnabled(
                id: subscription.id, applicationID: application.id, isEnabled: false)

            let today = DailyTally.start(ofDay: DailyTally.day(of: Date()))
            let week = today.addingTimeInterval(-6 * 86_400)
            func read() async throws -> ([EventsPerDay], [DeliveriesPerDay]) {
                (
                    try await store.eventsPerDay(applicationIDs: [application.id], from: week, to: today),
                    try await store.deliveriesPerDay(applicationID: application.id, from: week, to: today)
                )
            }
            let (events, deliveries) = try await read()
            #expect(events == [EventsPerDay(applicationID: application.id, day: today, amount: 8)])
            // Sorted buckets: 5, 99, 100, 110, 1300, 16000: the median is the 3rd, the 95th percentile the 6th.
            #expect(
                deliveries == [
                    DeliveriesPerDay(
                        day: today, succeeded: 5, failed: 1, medianMilliseconds: 100, p95Milliseconds: 16_000)
                ])
            #expect(
                try await store.eventsPerDay(
                    applicationIDs: [application.id], from: week, to: today.addingTimeInterval(-86_400)
                ).isEmpty)

            if let sqlite = store as? SQLiteStore {
                try await sqlite.recountDailyTallies()
            } else if let postgres = store as? PostgresStore {
                try await postgres.recountDailyTallies()
            } else {
                Issue.record("no recount for \(backend)")
            }
            let (recountedEvents, recountedDeliveries) = try await read()
            #expect(recountedEvents == events)
            #expect(recountedDeliveries == deliveries)

            // Retention deletes the events; the day's count stays.
            let deleted = try await store.deleteExpiredEvents(
                defaultRetentionDays: 1, now: Date().addingTimeInterval(3 * 86_400), limit: 100)
            #expect(deleted == 8)
            #expect(try await store.eventsPerDay(applicationIDs: [application.id], from: week, to: today) == events)
        }
    }

    @Test func aQueueCountedPastTheLimitSaysSo() {
        let limit = ApplicationQueue.countLimit
        let whole = ApplicationQueue(countedDue: 3, countedLater: 5, leasedAmongLater: 2, oldestDueAt: nil)
        #expect(whole == ApplicationQueue(due: 3, inFlight: 2, waiting: 3, oldestDueAt: nil))
        let long = ApplicationQueue(
            countedDue: limit + 1, countedLater: limit + 1, leasedAmongLater: 7, oldestDueAt: nil)
        #expect(long.due == limit && !long.dueIsCounted)
        #expect(long.inFlight == 7 && long.waiting == limit - 7 && !long.laterAreCounted)
    }
}
