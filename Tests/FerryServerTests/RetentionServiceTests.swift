import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Logging
import Testing

@testable import FerryServer

/// The retention service's pass: it deletes what expired by the configured default, keeps the rest, and counts
/// what it deleted in `ferry_events_expired_total`.
@Suite struct RetentionServiceTests {
    @Test(arguments: StoreBackend.available)
    func sweepDeletesExpiredEventsInBatchesAndCountsThem(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let old = Date().addingTimeInterval(-8 * 86_400)
            var expired: Set<UUID> = []
            for _ in 0..<7 {
                var event = Fixtures.event(applicationID: application.id)
                event.receivedAt = old
                expired.insert(try await store.ingest(event).id)
            }
            let fresh = try await store.ingest(Fixtures.event(applicationID: application.id))
            let telemetry = ProcessTelemetry()
            await Self.sweep(store, telemetry: telemetry)
            let left = try await store.events(applicationID: application.id, limit: 100)
            #expect(left.map(\.id) == [fresh.id])
            let exposition = String(decoding: telemetry.exposition(), as: UTF8.self)
            #expect(exposition.contains("ferry_events_expired_total 7"), "\(exposition)")
        }
    }

    /// One pass of a service keeping events 7 days, deleting 3 at a time.
    static func sweep(_ store: some FerryStore, telemetry: ProcessTelemetry) async {
        let service = RetentionService(
            store: store, defaultRetentionDays: 7, interval: .seconds(3600), batchSize: 3,
            metrics: telemetry.metrics, logger: Logger(label: "retention-test"))
        await service.sweep()
    }
}
