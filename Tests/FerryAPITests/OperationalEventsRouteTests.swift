import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Hummingbird
import Testing

@testable import FerryAPI

/// Choosing the application that receives an organization's operational events, and the events a person's
/// enabling or disabling of a subscription emits there.
@Suite struct OperationalEventsRouteTests {
    @Test func theChoiceIsValidatedCreatesTheEventTypesAndReplacesEmitStateChanges() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
            let (operations, _) = try await store.createApplication(organizationID: organization.id, name: "ops")
            let (_, foreign) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let router = buildRouter(store: store, configuration: ControllerTests.configuration())
            let path = "/api/v1/organizations/\(organization.id.lowercased)/operational_events"
            try await RouterHarness.test(router) { client in
                let none = try await RouterHarness.call(client, .get, path, token: RouterHarness.masterKey)
                #expect(none.status == 200)
                guard case .object(let noneFields) = none.json else { return }
                #expect(noneFields["application_id"] == .null)

                let refused = try await RouterHarness.call(
                    client, .put, path, token: RouterHarness.masterKey,
                    body: #"{"application_id":"\#(foreign.id.lowercased)"}"#)
                #expect(refused.status == 422 && refused.string("id") == "Validation")
                let chosen = try await RouterHarness.call(
                    client, .put, path, token: RouterHarness.masterKey,
                    body: #"{"application_id":"\#(operations.id.lowercased)"}"#)
                #expect(chosen.status == 200 && chosen.string("application_id") == operations.id.lowercased)
                let types = try await store.eventTypes(applicationID: operations.id).map(\.name)
                #expect(Set(types) == Set(OperationalEvent.Kind.allCases.map(\.rawValue)))

                let body = """
                    {"application_id":"\(application.id.lowercased)","is_enabled":true,
                     "event_types":["billing.invoice.paid"],"labels":{"tenant":"t1"},
                     "target":{"type":"http","method":"POST","url":"https://hooks.example.com/a","headers":{}}}
                    """
                let created = try await RouterHarness.call(
                    client, .post, "/api/v1/subscriptions", token: RouterHarness.masterKey, body: body)
                let id = try #require(created.string("subscription_id"))
                for enabled in [false, false, true] {
                    let replaced = try await RouterHarness.call(
                        client, .put, "/api/v1/subscriptions/\(id)", token: RouterHarness.masterKey,
                        body: body.replacingOccurrences(of: #""is_enabled":true"#, with: #""is_enabled":\#(enabled)"#))
                    #expect(replaced.status == 200)
                }
                let emitted = try await store.events(EventQuery(applicationID: operations.id, limit: 10))
                #expect(
                    emitted.map(\.eventType).sorted() == ["ferry.subscription.disabled", "ferry.subscription.enabled"],
                    "one event per change, none for a replace that changes nothing")
                let disabled = try #require(emitted.first { $0.eventType == "ferry.subscription.disabled" })
                let payload = try JSONDecoder().decode(JSONValue.self, from: Data(disabled.payload))
                guard case .object(let fields) = payload else { return }
                #expect(fields["reason"] == .string(Subscription.disabledByRequest))
                #expect(fields["subscription_id"] == .string(id))
                #expect(disabled.labels["application_id"] == application.id.lowercased)

                let stopped = try await RouterHarness.call(
                    client, .put, path, token: RouterHarness.masterKey, body: #"{"application_id":null}"#)
                guard case .object(let stoppedFields) = stopped.json else { return }
                #expect(stopped.status == 200 && stoppedFields["application_id"] == .null)
            }
        }
    }
}
