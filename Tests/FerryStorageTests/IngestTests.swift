import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

/// Durable ingestion and fan-out, run against every backend.
@Suite struct IngestTests {
    @Test(arguments: StoreBackend.available)
    func fansOutOnlyToEnabledSubscriptionsWhoseTypesAndLabelsMatch(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            try await Fixtures.eventType(
                in: store, applicationID: application.id, name: ("billing", "invoice", "voided"))
            let matching = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook", labels: ["tenant": "t1"]),
                secret: UUID())
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://b.test/hook", labels: ["tenant": "t2"]),
                secret: UUID())
            _ = try await store.createSubscription(
                Fixtures.draft(
                    applicationID: application.id, url: "http://c.test/hook", eventTypes: ["billing.invoice.voided"]),
                secret: UUID())
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://d.test/hook", enabled: false), secret: UUID()
            )
            let event = Fixtures.event(applicationID: application.id, labels: ["tenant": "t1", "region": "eu"])
            _ = try await store.ingest(event)
            let attempts = try await store.requestAttempts(AttemptQuery(applicationID: application.id))
            #expect(attempts.map(\.subscriptionID) == [matching.id])
            #expect(attempts.first?.retryCount == 0)
            #expect(attempts.first?.eventID == event.id)
        }
    }

    /// The backends match labels in SQL (PostgreSQL) or in Swift (SQLite); both must agree with `LabelMatcher`,
    /// including awkward keys and values, and attempt ids must be time-ordered version-7 UUIDs.
    @Test(arguments: StoreBackend.available)
    func fanOutAgreesWithTheLabelMatcher(backend: StoreBackend) async throws {
        let labelSets: [[String: String]] = [
            [:], ["tenant": "t1"], ["tenant": "t1", "region": "eu"], ["tenant": "t2"], ["region": "eu"],
            ["quote\"key": "va\\lue"], ["ünï": "cødé ✓"], ["tenant": "T1"], ["tenant": ""],
        ]
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            var subscriptionLabels: [UUID: [String: String]] = [:]
            for (index, labels) in labelSets.enumerated() {
                let subscription = try await store.createSubscription(
                    Fixtures.draft(applicationID: application.id, url: "http://\(index).test/hook", labels: labels),
                    secret: UUID())
                subscriptionLabels[subscription.id] = labels
            }
            for eventLabels in labelSets {
                let event = Fixtures.event(applicationID: application.id, labels: eventLabels)
                _ = try await store.ingest(event)
                let attempts = try await store.requestAttempts(
                    AttemptQuery(applicationID: application.id, eventID: event.id))
                let expected = Set(
                    subscriptionLabels.filter { LabelMatcher.contains(eventLabels, all: $0.value) }.keys)
                #expect(Set(attempts.map(\.subscriptionID)) == expected, "event labels \(eventLabels)")
                for attempt in attempts {
                    let text = attempt.id.lowercased
                    #expect(Array(text)[14] == "7", "attempt id \(text) is not version 7")
                    let expectedMillis = event.receivedAt.timeIntervalSince1970 * 1000
                    let idMillis = UInt64(String(text.replacingOccurrences(of: "-", with: "").prefix(12)), radix: 16)
                    #expect(abs(Double(idMillis ?? 0) - expectedMillis) <= 1, "attempt id \(text) is not of receipt")
                }
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func eventsArePagedNewestFirstWithACursor(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            let (_, other) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            try await Fixtures.eventType(in: store, applicationID: other.id)
            for _ in 0..<7 { _ = try await store.ingest(Fixtures.event(applicationID: application.id)) }
            _ = try await store.ingest(Fixtures.event(applicationID: other.id))
            let all = try await store.events(applicationID: application.id, limit: 100)
            #expect(all.count == 7)
            var paged: [Event] = []
            var cursor: EventCursor?
            repeat {
                let page = try await store.events(applicationID: application.id, before: cursor, limit: 3)
                #expect(page.count <= 3)
                paged += page
                cursor = page.count == 3 ? page.last.map { EventCursor(receivedAt: $0.receivedAt, id: $0.id) } : nil
            } while cursor != nil
            #expect(paged.map(\.id) == all.map(\.id), "pages hold every event once, newest first")
            let newestFirst = zip(all, all.dropFirst()).allSatisfy {
                ($0.receivedAt, $0.id.uuidString) >= ($1.receivedAt, $1.id.uuidString)
            }
            #expect(newestFirst)
        }
    }

    @Test(arguments: StoreBackend.available)
    func laterSubscriptionsDoNotReceiveOlderEvents(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
            #expect(try await store.requestAttempts(AttemptQuery(applicationID: application.id)).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func duplicateEventIDIsRejectedAndWritesNothing(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
            let event = Fixtures.event(applicationID: application.id)
            _ = try await store.ingest(event)
            await #expect(throws: DomainError.eventAlreadyIngested) {
                _ = try await store.ingest(Fixtures.event(applicationID: application.id, payload: "{}", id: event.id))
            }
            #expect(try await store.requestAttempts(AttemptQuery(applicationID: application.id)).count == 1)
            #expect(try await store.event(id: event.id, applicationID: application.id)?.payload == event.payload)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aDeactivatedEventTypeIsStillIngestedAndDeliveredAsInHook0(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            let type = try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
            #expect(try await store.deactivateEventType(applicationID: application.id, name: type.name))
            let event = Fixtures.event(applicationID: application.id)
            _ = try await store.ingest(event)
            #expect(try await store.event(id: event.id, applicationID: application.id)?.payload == event.payload)
            #expect(try await store.requestAttempts(AttemptQuery(applicationID: application.id)).count == 1)
            let never = Fixtures.event(applicationID: application.id, type: "never.declared.type")
            await #expect(throws: DomainError.eventTypeDoesNotExist) { _ = try await store.ingest(never) }
            #expect(try await store.event(id: never.id, applicationID: application.id) == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func concurrentIngestsAllCommitAndOneFailureDoesNotSpoilTheBatch(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
            let results = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        let type = index % 50 == 0 ? "billing.invoice.unknown" : "billing.invoice.paid"
                        return (try? await store.ingest(Fixtures.event(applicationID: application.id, type: type)))
                            != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 294)
            #expect(try await store.events(applicationID: application.id, limit: 1000).count == 294)
            var attempts = 0
            var cursor: AttemptCursor?
            repeat {
                let page = try await store.requestAttempts(AttemptQuery(applicationID: application.id, after: cursor))
                attempts += page.count
                cursor = page.last.map { AttemptCursor(createdAt: $0.createdAt, id: $0.id) }
            } while cursor != nil
            #expect(attempts == 294)
        }
    }

    /// Concurrent ingests share transactions (group commit on SQLite, batched inserts on PostgreSQL); each caller
    /// must still get its own event's outcome, and a value the database refuses must fail only its own event.
    @Test(arguments: StoreBackend.available)
    func batchedIngestGivesEachCallerItsOwnOutcome(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let first = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook", labels: ["tenant": "t1"]),
                secret: UUID())
            let second = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://b.test/hook", labels: ["tenant": "t2"]),
                secret: UUID())
            let sharedID = UUIDv7.make()
            enum Kind: Sendable { case duplicate, unreadableType, unknownType, tenant1, tenant2 }
            func kind(_ index: Int) -> Kind {
                switch index % 40 {
                case 1: .duplicate
                case 2: .unreadableType
                case 3: .unknownType
                default: index.isMultiple(of: 2) ? .tenant1 : .tenant2
                }
            }
            let outcomes = await withTaskGroup(of: (Kind, UUID, (any Error)?).self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let event: Event
                        switch kind(index) {
                        case .duplicate: event = Fixtures.event(applicationID: application.id, id: sharedID)
                        case .unreadableType:
                            event = Fixtures.event(applicationID: application.id, type: "billing.invoice.pa\u{0}id")
                        case .unknownType: event = Fixtures.event(applicationID: application.id, type: "billing.x.y")
                        case .tenant1: event = Fixtures.event(applicationID: application.id, labels: ["tenant": "t1"])
                        case .tenant2: event = Fixtures.event(applicationID: application.id, labels: ["tenant": "t2"])
                        }
                        do {
                            _ = try await store.ingest(event)
                            return (kind(index), event.id, nil)
                        } catch {
                            return (kind(index), event.id, error)
                        }
                    }
                }
                return await group.reduce(into: [(Kind, UUID, (any Error)?)]()) { $0.append($1) }
            }
            let duplicates = outcomes.filter { $0.0 == .duplicate }
            #expect(duplicates.count == 5)
            #expect(duplicates.filter { $0.2 == nil }.count == 1)
            #expect(duplicates.filter { ($0.2 as? DomainError) == .eventAlreadyIngested }.count == 4)
            #expect(outcomes.filter { $0.0 == .unreadableType && $0.2 == nil }.isEmpty)
            let unknown = outcomes.filter { $0.0 == .unknownType }
            #expect(unknown.allSatisfy { ($0.2 as? DomainError) == .eventTypeDoesNotExist })
            let expectedTarget: [UUID: UUID] = Dictionary(
                uniqueKeysWithValues: outcomes.compactMap { outcome -> (UUID, UUID)? in
                    switch outcome.0 {
                    case .tenant1: (outcome.1, first.id)
                    case .tenant2: (outcome.1, second.id)
                    default: nil
                    }
                })
            #expect(outcomes.filter { [.tenant1, .tenant2].contains($0.0) }.allSatisfy { $0.2 == nil })
            #expect(try await store.events(applicationID: application.id, limit: 1000).count == 186)
            var delivered: [UUID: [UUID]] = [:]
            var cursor: AttemptCursor?
            repeat {
                let page = try await store.requestAttempts(AttemptQuery(applicationID: application.id, after: cursor))
                for attempt in page { delivered[attempt.eventID, default: []].append(attempt.subscriptionID) }
                cursor = page.last.map { AttemptCursor(createdAt: $0.createdAt, id: $0.id) }
            } while cursor != nil
            #expect(delivered[sharedID] == [first.id])
            for (eventID, subscriptionID) in expectedTarget {
                #expect(delivered[eventID] == [subscriptionID])
            }
            #expect(delivered.count == expectedTarget.count + 1)
        }
    }

    @Test(arguments: StoreBackend.available)
    func replayCreatesFreshAttemptsForCurrentlyMatchingSubscriptions(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
            let event = try await store.ingest(Fixtures.event(applicationID: application.id))
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://b.test/hook"), secret: UUID())
            #expect(try await store.replay(eventID: event.id, applicationID: application.id))
            let attempts = try await store.requestAttempts(
                AttemptQuery(applicationID: application.id, eventID: event.id))
            #expect(attempts.count == 3)
            #expect(attempts.allSatisfy { $0.retryCount == 0 })
            #expect(try await !store.replay(eventID: UUID(), applicationID: application.id))
        }
    }
}
