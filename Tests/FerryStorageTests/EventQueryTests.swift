import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

/// Listing an application's events with the dashboard's filters, on every backend: event type, one label, the
/// reception range, and where the deliveries stand.
@Suite struct EventQueryTests {
    @Test(arguments: StoreBackend.available)
    func eventsAreFilteredByTypeLabelTimeAndDelivery(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            try await Fixtures.eventType(
                in: store, applicationID: application.id, name: ("billing", "invoice", "voided"))
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            let delivered = try await store.ingest(Fixtures.event(applicationID: application.id))
            let failing = try await store.ingest(Fixtures.event(applicationID: application.id))
            let waiting = try await store.ingest(Fixtures.event(applicationID: application.id))
            var old = Fixtures.event(
                applicationID: application.id, type: "billing.invoice.voided", labels: ["tenant": "t\"2"])
            old.receivedAt = Date().addingTimeInterval(-3 * 86_400)
            let unrouted = try await store.ingest(old)
            for status in [200, 500] {
                let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(60)).first)
                #expect(job.eventID == (status == 200 ? delivered.id : failing.id))
                let answer = AttemptObservation.answered(
                    status: status, headers: [:], body: [], truncated: false, elapsedMilliseconds: 1,
                    retryAfterSeconds: nil)
                #expect(try await store.recordOutcome(answer, for: job, retryAt: nil))
            }
            func ids(_ query: EventQuery) async throws -> [UUID] { try await store.events(query).map(\.id) }
            let all = EventQuery(applicationID: application.id)
            #expect(try await ids(all) == [waiting.id, failing.id, delivered.id, unrouted.id])
            var query = all
            query.eventType = "billing.invoice.voided"
            #expect(try await ids(query) == [unrouted.id])
            query = all
            query.label = EventLabel(key: "tenant", value: "t\"2")
            #expect(try await ids(query) == [unrouted.id])
            query.label = EventLabel(key: "tenant", value: "t1")
            #expect(try await ids(query) == [waiting.id, failing.id, delivered.id])
            query.label = EventLabel(key: "other", value: "t1")
            #expect(try await ids(query).isEmpty)
            query = all
            query.to = Date().addingTimeInterval(-86_400)
            #expect(try await ids(query) == [unrouted.id])
            query = all
            query.from = Date().addingTimeInterval(-86_400)
            #expect(try await ids(query) == [waiting.id, failing.id, delivered.id])
            for (filter, expected) in [
                (EventDeliveryFilter.delivered, [delivered.id]), (.failing, [failing.id]),
                (.inProgress, [waiting.id]), (.unrouted, [unrouted.id]),
            ] {
                query = all
                query.delivery = filter
                #expect(try await ids(query) == expected, "\(filter)")
            }
            query = all
            query.limit = 2
            let first = try await store.events(query)
            query.before = first.last.map { EventCursor(receivedAt: $0.receivedAt, id: $0.id) }
            #expect(try await ids(query) == [delivered.id, unrouted.id])
        }
    }
}
