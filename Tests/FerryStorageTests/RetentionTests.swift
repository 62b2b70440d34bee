import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

@testable import FerrySQLite

/// Retention deletes old events with their attempts and responses, keeps what is pending or still within its
/// application's retention, and frees the space: SQLite's file shrinks, and PostgreSQL reuses the space instead
/// of growing. Run against every backend.
@Suite struct RetentionTests {
    /// The retention pass runs inside the writer: scanning every event there stalled delivery for over a second
    /// on a million-event backlog (found by scripts/bench). The plan must search events by the index.
    @Test func theSQLiteExpiredEventsQuerySearchesEventsByTheirIndex() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-plan-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStore.open(path: directory.appendingPathComponent("plan.sqlite").path)
        let plan = try await store.queryPlan(SQLiteStore.expiredEventsQuery, arguments: [0, 30, 500])
        try await store.close()
        #expect(plan.contains { $0.hasPrefix("SEARCH e USING INDEX event_application_received") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN e") }, "\(plan)")
    }

    @Test(arguments: StoreBackend.available)
    func expiredEventsAreDeletedAndTheSpaceIsFreed(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (organization, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
            let (kept, _) = try await store.createApplication(organizationID: organization.id, name: "long keeper")
            try await Fixtures.eventType(in: store, applicationID: kept.id)
            #expect(try await store.setApplicationRetention(id: kept.id, days: 400)?.retentionDays == 400)

            // 400 events of 16 KB each (random, so PostgreSQL cannot compress them away), every delivery finished
            // with a stored response of 16 KB, except one left pending.
            let pending = try await Self.fill(store, applicationID: application.id, events: 400, leavePending: true)
            let keptEvent = try await store.ingest(Fixtures.event(applicationID: kept.id, payload: Self.payload()))
            try await store.reclaimSpace()
            let before = try await store.storageBytes()

            let tooEarly = try await store.deleteExpiredEvents(
                defaultRetentionDays: 30, now: Date().addingTimeInterval(29 * 86_400), limit: 100)
            #expect(tooEarly == 0)

            let later = Date().addingTimeInterval(31 * 86_400)
            var deleted = 0
            var batches = 0
            while true {
                let count = try await store.deleteExpiredEvents(defaultRetentionDays: 30, now: later, limit: 100)
                deleted += count
                batches += 1
                if count < 100 { break }
            }
            #expect(deleted == 399)
            #expect(batches == 4)
            try await store.reclaimSpace()
            let after = try await store.storageBytes()
            let remaining = try await store.events(applicationID: application.id, limit: 1000)
            #expect(remaining.map(\.id) == [pending?.eventID])
            #expect(try await store.event(id: keptEvent.id, applicationID: kept.id) != nil)

            switch backend {
            case .sqlite:
                print("retention (sqlite): \(deleted) events deleted, database \(before) → \(after) bytes")
                #expect(after * 3 < before, "the database went from \(before) to \(after) bytes")
            case .postgres:
                // PostgreSQL keeps the files, and the rows left at their ends stop `VACUUM` from cutting them, but
                // the freed space is reused: as much data again fits without the tables growing.
                _ = try await Self.fill(store, applicationID: application.id, events: 399, leavePending: false)
                let refilled = try await store.storageBytes()
                print(
                    "retention (postgres): \(deleted) events deleted, tables \(before) → \(after) bytes after "
                        + "VACUUM, \(refilled) bytes after as many events again")
                #expect(refilled * 10 < before * 12, "the tables grew from \(before) to \(refilled) bytes")
                _ = try await store.deleteExpiredEvents(defaultRetentionDays: 30, now: later, limit: 1000)
            }

            if let pending {
                #expect(
                    try await store.recordOutcome(.failed(.timeout, elapsedMilliseconds: 1), for: pending, retryAt: nil)
                )
            }
            #expect(try await store.deleteExpiredEvents(defaultRetentionDays: 30, now: later, limit: 100) == 1)
            #expect(try await store.events(applicationID: application.id, limit: 10).isEmpty)
            #expect(try await store.setApplicationRetention(id: kept.id, days: nil)?.retentionDays == nil)
            #expect(try await store.deleteExpiredEvents(defaultRetentionDays: 30, now: later, limit: 100) == 1)
        }
    }

    /// 16 KB of random text.
    static func payload() -> String {
        Data((0..<12_288).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// Ingests `events` events and records a 16 KB answer for each delivery; returns the one left pending.
    static func fill(_ store: any FerryStore, applicationID: UUID, events: Int, leavePending: Bool) async throws
        -> DeliveryJob?
    {
        for _ in 0..<events {
            _ = try await store.ingest(Fixtures.event(applicationID: applicationID, payload: payload()))
        }
        var jobs = try await store.claimDueJobs(limit: events + 10, leaseFor: .seconds(120))
        #expect(jobs.count == events)
        let pending = leavePending ? jobs.popLast() : nil
        for job in jobs {
            let answer = AttemptObservation.answered(
                status: 200, headers: ["x": "y"], body: Array(payload().utf8), truncated: false,
                elapsedMilliseconds: 1, retryAfterSeconds: nil)
            #expect(try await store.recordOutcome(answer, for: job, retryAt: nil))
        }
        return pending
    }
}
