import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Hummingbird
import Testing

@testable import FerryAPI

/// A subscription's circuit breaker as the API shows it (Ferry extension fields), and closed by a new target URL.
@Suite struct CircuitStatusTests {
    @Test func theCircuitIsShownAndANewTargetClosesIt() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let router = buildRouter(store: store, configuration: ControllerTests.configuration())
            @Sendable func body(_ url: String) -> String {
                """
                {"application_id":"\(application.id.lowercased)","is_enabled":true,
                 "event_types":["billing.invoice.paid"],"labels":{"tenant":"t1"},
                 "target":{"type":"http","method":"POST","url":"\(url)","headers":{}}}
                """
            }
            try await RouterHarness.test(router) { client in
                let created = try await RouterHarness.call(
                    client, .post, "/api/v1/subscriptions", token: RouterHarness.masterKey,
                    body: body("https://hooks.example.com/a"))
                #expect(created.status == 201)
                #expect(created.string("circuit_state") == "closed")
                let id = try #require(created.string("subscription_id").flatMap(UUID.init(uuidString:)))
                let path = "/api/v1/subscriptions/\(id.lowercased)?application_id=\(application.id.lowercased)"

                let opened = Date()
                #expect(
                    try await store.openCircuit(
                        subscriptionID: id, at: opened, probeAt: opened.addingTimeInterval(30)))
                let open = try await RouterHarness.call(client, .get, path, token: RouterHarness.masterKey)
                #expect(open.string("circuit_state") == "open")
                #expect(open.string("circuit_opened_at").flatMap(Timestamp.parse) != nil)
                let probe = try #require(open.string("circuit_next_probe_at").flatMap(Timestamp.parse))
                #expect(abs(probe.timeIntervalSince(opened) - 30) < 1)

                let moved = try await RouterHarness.call(
                    client, .put, "/api/v1/subscriptions/\(id.lowercased)", token: RouterHarness.masterKey,
                    body: body("https://hooks.example.com/b"))
                #expect(moved.status == 200 && moved.string("circuit_state") == "closed")
                guard case .object(let fields) = moved.json else { return }
                #expect(fields["circuit_opened_at"] == .null && fields["circuit_next_probe_at"] == .null)
            }
        }
    }
}
