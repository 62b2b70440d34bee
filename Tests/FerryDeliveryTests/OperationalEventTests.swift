import FerryCore
import FerryDelivery
import FerryStorage
import FerryTestSupport
import Foundation
import Synchronization
import Testing

/// Ferry's own events about delivery (disabled subscriptions, given-up attempts, circuits) reach the application
/// an organization chose, as ordinary deliveries to its subscriptions.
@Suite struct OperationalEventTests {
    @Test(arguments: StoreBackend.available)
    func disablingsGivenUpAttemptsAndCircuitsAreDeliveredToTheOperationalApplication(backend: StoreBackend)
        async throws
    {
        let flaky = Atomic<Int>(0)
        try await TestReceiver.with { operations in
            try await TestReceiver.with(reply: { request, _ in
                if request.path == "/gone" { return .init(status: 410) }
                if request.path == "/loop" { return .init(status: 500) }
                // The flaky receiver fails twice (opening the circuit), then recovers.
                return .init(status: flaky.add(1, ordering: .relaxed).newValue <= 2 ? 500 : 200)
            }) { receiver in
                try await DeliveryHarness.run(
                    backend: backend, url: receiver.url("/gone"),
                    configure: {
                        $0.retryPolicy = RetryPolicy(schedule: [0.2], maxRetries: 3, jitterRatio: 0)
                        $0.circuitPolicy = CircuitBreakerPolicy(failureThreshold: 2, openFor: .seconds(1))
                    }, operationalEvents: true
                ) { harness in
                    let store = harness.store
                    let (operational, _) = try await store.createApplication(
                        organizationID: harness.application.organizationID, name: "operations")
                    for kind in OperationalEvent.Kind.allCases {
                        _ = try await store.upsertEventType(applicationID: operational.id, kind.eventType)
                    }
                    #expect(
                        try await store.setOperationalApplication(
                            organizationID: harness.application.organizationID, applicationID: operational.id))
                    #expect(
                        try await store.operationalApplication(organizationID: harness.application.organizationID)
                            == operational.id)
                    _ = try await store.createSubscription(
                        Fixtures.draft(
                            applicationID: operational.id, url: operations.url("/ops"),
                            eventTypes: OperationalEvent.Kind.allCases.map(\.rawValue),
                            labels: ["ferry": "operational"]),
                        secret: UUID())
                    // A failing subscription of the operational application itself: no event about it.
                    try await Fixtures.eventType(in: store, applicationID: operational.id)
                    var loop = Fixtures.draft(applicationID: operational.id, url: receiver.url("/loop"))
                    loop.retry = RetryOverride(schedule: nil, maxRetries: 0)
                    _ = try await store.createSubscription(loop, secret: UUID())
                    _ = try await store.ingest(Fixtures.event(applicationID: operational.id))

                    let flakySubscription = try await store.createSubscription(
                        Fixtures.draft(applicationID: harness.application.id, url: receiver.url("/flaky")),
                        secret: UUID())
                    let event = try await harness.send()

                    func received() -> [(type: String, payload: [String: JSONValue], eventID: String)] {
                        operations.requests.compactMap { request in
                            guard
                                case .object(let payload)? = try? JSONDecoder().decode(
                                    JSONValue.self, from: Data(request.body))
                            else { return nil }
                            return (request.headers["x-event-type"] ?? "", payload, request.headers["x-event-id"] ?? "")
                        }
                    }
                    // Generous: beside the whole suite on two cores, the circuit's probe can slip by seconds.
                    let deadline = ContinuousClock.now + .seconds(45)
                    while !Set(received().map(\.type)).isSuperset(of: [
                        "ferry.attempt.given_up", "ferry.subscription.disabled", "ferry.circuit.opened",
                        "ferry.circuit.closed",
                    ]), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    let events = received()
                    let types = events.map(\.type)
                    func first(_ type: String) -> [String: JSONValue] {
                        events.first { $0.type == type }?.payload ?? [:]
                    }

                    let gone = first("ferry.subscription.disabled")
                    #expect(gone["subscription_id"] == .string(harness.subscription.id.lowercased), "\(types)")
                    #expect(gone["reason"] == .string("the target answered 410 Gone"))
                    #expect(gone["application_id"] == .string(harness.application.id.lowercased))
                    let givenUp = first("ferry.attempt.given_up")
                    #expect(
                        givenUp["event_id"] == .string(event.id.lowercased) && givenUp["http_status"] == .number(410))
                    let opened = first("ferry.circuit.opened")
                    #expect(opened["subscription_id"] == .string(flakySubscription.id.lowercased))
                    #expect(opened["consecutive_failures"] == .number(2) && opened["next_probe_at"] != nil)
                    #expect(
                        first("ferry.circuit.closed")["subscription_id"] == .string(flakySubscription.id.lowercased))
                    #expect(
                        !events.contains { $0.payload["application_id"] == .string(operational.id.lowercased) },
                        "no event about the operational application's own subscriptions")
                    let stored = try await store.events(
                        EventQuery(applicationID: operational.id, eventType: "ferry.subscription.disabled", limit: 10))
                    #expect(
                        stored.first?.labels == [
                            "ferry": "operational", "application_id": harness.application.id.lowercased,
                        ])

                    // Stopping them: nothing more is emitted after the 30 s memo of this process, but the choice
                    // itself is cleared at once.
                    #expect(
                        try await store.setOperationalApplication(
                            organizationID: harness.application.organizationID, applicationID: nil))
                    #expect(
                        try await store.operationalApplication(forApplication: harness.application.id) == nil)
                    let (_, stranger) = try await Fixtures.tenant(in: store)
                    #expect(
                        !(try await store.setOperationalApplication(
                            organizationID: harness.application.organizationID, applicationID: stranger.id)),
                        "another organization's application cannot be chosen")
                }
            }
        }
    }
}
