import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Hummingbird
import Testing

@testable import FerryAPI

/// Problems that say what is wrong: a missing query parameter is named as one (Hook0's id kept), an event without
/// labels is told how many it needs, and an attempt cancelled unsent says so beside Hook0's `failed` status.
@Suite struct APIMessageTests {
    @Test func queryLabelAndCancellationMessagesSayWhatHappened() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let subscription = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))
            _ = try await store.setSubscriptionEnabled(
                id: subscription.id, applicationID: application.id, isEnabled: false)
            let router = buildRouter(store: store, configuration: ControllerTests.configuration())
            try await RouterHarness.test(router) { client in
                let missing = try await RouterHarness.call(
                    client, .get, "/api/v1/request_attempts", token: RouterHarness.masterKey)
                #expect(missing.status == 400)
                #expect(missing.string("id") == "JsonPayload")
                #expect(missing.string("title") == "Invalid query parameter")
                #expect(missing.string("detail") == "the query parameter `application_id` is missing (a UUID)")

                let unlabelled = try await RouterHarness.call(
                    client, .post, "/api/v1/event", token: RouterHarness.masterKey,
                    body: """
                        {"application_id":"\(application.id.lowercased)","event_type":"billing.invoice.paid",
                         "payload":"{}","payload_content_type":"application/json","labels":{},
                         "occurred_at":"2026-12-03T12:00:00Z"}
                        """)
                #expect(unlabelled.status == 422)
                #expect(unlabelled.json.encodedText.contains("must have between 1 and 10 entries"))

                let attempts = try await RouterHarness.call(
                    client, .get, "/api/v1/request_attempts?application_id=\(application.id.lowercased)",
                    token: RouterHarness.masterKey)
                let attempt = try #require(attempts.array.first)
                guard case .object(let fields) = attempt, case .object(let status)? = fields["status"] else {
                    Issue.record("no status in \(attempt)")
                    return
                }
                #expect(status["type"] == .string("failed"))
                #expect(fields["cancelled"] == .bool(true))
            }
        }
    }
}

extension JSONValue {
    /// The value as JSON text.
    fileprivate var encodedText: String { String(decoding: encoded(), as: UTF8.self) }
}
