import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Hummingbird
import Testing

@testable import FerryAPI

/// A subscription's own retry settings through the API: written and shown in seconds, refused with a
/// `Validation` problem outside the limits, and dropped by a full replace that leaves them out (as Hook0 clients do).
@Suite struct SubscriptionRetryTests {
    @Test func retrySettingsAreWrittenShownValidatedAndReplaced() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let router = buildRouter(store: store, configuration: ControllerTests.configuration())
            let base = """
                {"application_id":"\(application.id.lowercased)","is_enabled":true,
                 "event_types":["billing.invoice.paid"],"labels":{"tenant":"t1"},
                 "target":{"type":"http","method":"POST","url":"https://hooks.example.com/a","headers":{}}
                """
            try await RouterHarness.test(router) { client in
                let created = try await RouterHarness.call(
                    client, .post, "/api/v1/subscriptions", token: RouterHarness.masterKey,
                    body: base + #","retry_schedule":[10,300,7200],"max_retries":3}"#)
                #expect(created.status == 201)
                guard case .object(let fields) = created.json else {
                    Issue.record("no subscription: \(created.json)")
                    return
                }
                #expect(fields["retry_schedule"] == .array([10, 300, 7200]))
                #expect(fields["max_retries"] == .number(3))
                let id = try #require(created.string("subscription_id"))

                let refused = try await RouterHarness.call(
                    client, .post, "/api/v1/subscriptions", token: RouterHarness.masterKey,
                    body: base + #","retry_schedule":[604801],"max_retries":101}"#)
                #expect(refused.status == 422 && refused.string("id") == "Validation")
                guard case .object(let problem) = refused.json, case .object(let validation)? = problem["validation"]
                else {
                    Issue.record("no validation: \(refused.json)")
                    return
                }
                #expect(validation["retry_schedule"] != nil && validation["max_retries"] != nil, "\(validation)")

                let replaced = try await RouterHarness.call(
                    client, .put, "/api/v1/subscriptions/\(id)", token: RouterHarness.masterKey, body: base + "}")
                guard case .object(let after) = replaced.json else { return }
                #expect(after["retry_schedule"] == .null && after["max_retries"] == .null)
            }
        }
    }
}
