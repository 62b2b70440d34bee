import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

/// `ingest(batch:)` on every backend: each event gets its own outcome, refused events leave no trace, the others
/// are stored and fanned out exactly as single ingest does, and a repeated id within the batch is refused.
@Suite struct BatchIngestTests {
    @Test(arguments: StoreBackend.available)
    func eachEventOfABatchIsStoredOrRefusedAlone(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            let (_, deleted) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            try await Fixtures.eventType(in: store, applicationID: deleted.id)
            _ = try await store.deleteApplication(id: deleted.id)
            let subscription = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook", labels: ["tenant": "t1"]),
                secret: UUID())
            let earlier = Fixtures.event(applicationID: application.id)
            _ = try await store.ingest(earlier)

            let first = Fixtures.event(applicationID: application.id)
            let unknownType = Fixtures.event(applicationID: application.id, type: "billing.invoice.voided")
            let unmatched = Fixtures.event(applicationID: application.id, labels: ["tenant": "t2"])
            let repeatedInBatch = Fixtures.event(applicationID: application.id, id: first.id)
            let alreadyStored = Fixtures.event(applicationID: application.id, id: earlier.id)
            let ofDeletedApplication = Fixtures.event(applicationID: deleted.id)
            let last = Fixtures.event(applicationID: application.id)
            let batch = [first, unknownType, unmatched, repeatedInBatch, alreadyStored, ofDeletedApplication, last]

            let outcomes = try await store.ingest(batch: batch)

            #expect(outcomes.count == batch.count)
            #expect(try outcomes[0].get().id == first.id)
            #expect(Self.refusal(outcomes[1]) == .eventTypeDoesNotExist)
            #expect(try outcomes[2].get().id == unmatched.id)
            #expect(Self.refusal(outcomes[3]) == .eventAlreadyIngested)
            #expect(Self.refusal(outcomes[4]) == .eventAlreadyIngested)
            #expect(Self.refusal(outcomes[5]) == .forbidden)
            #expect(try outcomes[6].get().id == last.id)

            let stored = try await store.events(applicationID: application.id, limit: 100)
            #expect(Set(stored.map(\.id)) == [earlier.id, first.id, unmatched.id, last.id])
            let attempts = try await store.requestAttempts(AttemptQuery(applicationID: application.id, limit: 100))
            #expect(Set(attempts.map(\.eventID)) == [earlier.id, first.id, last.id], "t2 matches no subscription")
            #expect(attempts.allSatisfy { $0.subscriptionID == subscription.id })
            let perDay = try await store.eventsPerDay(
                applicationIDs: [application.id], from: Date().addingTimeInterval(-86_400),
                to: Date().addingTimeInterval(86_400))
            #expect(perDay.map(\.amount).reduce(0, +) == 4, "refused events are not counted")
        }
    }

    @Test(arguments: StoreBackend.available)
    func anEmptyBatchStoresNothing(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let outcomes = try await store.ingest(batch: [])
            #expect(outcomes.isEmpty)
        }
    }

    private static func refusal(_ outcome: Result<Event, any Error>) -> DomainError? {
        if case .failure(let error) = outcome { return error as? DomainError }
        return nil
    }
}
