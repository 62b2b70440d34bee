import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Hummingbird
import Testing

@testable import FerryAPI

/// The API side of `ferry listen` that needs no stream: a relayed subscription may name a loopback target (the
/// server never connects to it) and says it is relayed; an answer is recorded only under the lease it came with,
/// as the attempt's response with the local receiver's status and body; a subscription that is not relayed hands
/// nothing over. (The stream itself is tested end to end with the real `ferry listen`, in `ClientCommandTests`.)
@Suite struct RelayTests {
    @Test func answersAreRecordedUnderTheirLeaseOnly() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let plain = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            let app = application.id.lowercased
            let router = buildRouter(store: store, configuration: ControllerTests.configuration())
            try await RouterHarness.test(router) { client in
                let loopback = """
                    {"application_id":"\(app)","is_enabled":true,"event_types":["billing.invoice.paid"],
                     "labels":{"tenant":"t1"},
                     "target":{"type":"http","method":"POST","url":"http://127.0.0.1:3000/hook","headers":{}}
                    """
                let refused = try await RouterHarness.call(
                    client, .post, "/api/v1/subscriptions", token: RouterHarness.masterKey, body: loopback + "}")
                #expect(refused.status == 422, "a loopback target is refused unless the subscription is relayed")
                let created = try await RouterHarness.call(
                    client, .post, "/api/v1/subscriptions", token: RouterHarness.masterKey,
                    body: loopback + #","relayed":true}"#)
                #expect(created.status == 201)
                guard case .object(let fields) = created.json else {
                    Issue.record("no subscription in \(created.json)")
                    return
                }
                #expect(fields["relayed"] == .bool(true))
                let relayedID = try #require(created.string("subscription_id").flatMap(UUID.init(uuidString:)))

                _ = try await store.ingest(Fixtures.event(applicationID: application.id))
                #expect(
                    try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).map(\.subscriptionID) == [plain.id])
                let job = try #require(
                    try await store.claimRelayedJobs(subscriptionID: relayedID, limit: 10, leaseFor: .seconds(60)).first
                )

                let answerPath = "/api/v1/subscriptions/\(relayedID.lowercased)/relay/\(job.attemptID.lowercased)"
                let body = Data(#"{"ok":true}"#.utf8).base64EncodedString()
                func answer(claimToken: UUID, extra: String = "") -> String {
                    """
                    {"application_id":"\(app)","claim_token":"\(claimToken.lowercased)","status":201,
                     "headers":{"Content-Type":"application/json"},"body":"\(body)","elapsed_ms":7\(extra)}
                    """
                }
                let stranger = try await RouterHarness.call(
                    client, .post, answerPath, token: RouterHarness.masterKey, body: answer(claimToken: UUID()))
                #expect(stranger.status == 200)
                #expect(stranger.json == .object(["recorded": .bool(false)]), "an unknown lease records nothing")

                let notRelayed = try await RouterHarness.call(
                    client, .post,
                    "/api/v1/subscriptions/\(plain.id.lowercased)/relay/\(job.attemptID.lowercased)",
                    token: RouterHarness.masterKey, body: answer(claimToken: job.claimToken))
                #expect(notRelayed.status == 400)
                #expect(notRelayed.string("detail")?.contains("is not relayed") == true, "\(notRelayed.json)")

                let badError = try await RouterHarness.call(
                    client, .post, answerPath, token: RouterHarness.masterKey,
                    body: answer(claimToken: job.claimToken, extra: #","error":"E_NOPE""#))
                #expect(badError.status == 400)

                let recorded = try await RouterHarness.call(
                    client, .post, answerPath, token: RouterHarness.masterKey, body: answer(claimToken: job.claimToken))
                #expect(recorded.json == .object(["recorded": .bool(true)]))
                let attempt = try #require(
                    try await store.requestAttempt(id: job.attemptID, applicationID: application.id))
                #expect(attempt.succeededAt != nil)
                let responseID = try #require(attempt.responseID)
                let response = try #require(try await store.response(id: responseID, applicationID: application.id))
                #expect(response.httpCode == 201 && response.body == Array(#"{"ok":true}"#.utf8))
                #expect(response.headers?["content-type"] == "application/json")

                let again = try await RouterHarness.call(
                    client, .post, answerPath, token: RouterHarness.masterKey, body: answer(claimToken: job.claimToken))
                #expect(again.json == .object(["recorded": .bool(false)]), "an attempt is answered once")
            }
        }
    }
}
