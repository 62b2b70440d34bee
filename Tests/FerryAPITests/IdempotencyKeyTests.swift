import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import FerryAPI

/// `Idempotency-Key` on ingest: the same key again gets the first answer and no second event (also when the
/// requests race), another event under a used key is 409, a malformed key 400, and without a key Hook0's rules hold.
@Suite struct IngestIdempotencyTests {
    @Test func aRepeatedKeyAnswersTheFirstAnswerAndMakesNoSecondEvent() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            let app = application.id.lowercased
            @Sendable func body(_ amount: Int) -> String {
                """
                {"application_id":"\(app)","event_type":"billing.invoice.paid","payload":"{\\"amount\\":\(amount)}",
                 "payload_content_type":"application/json","labels":{"tenant":"t1"},"occurred_at":"2026-12-04T12:00:00Z"}
                """
            }
            let keyName = try #require(HTTPField.Name("idempotency-key"))
            let replayedName = try #require(HTTPField.Name("idempotent-replayed"))
            let router = buildRouter(store: store, configuration: ControllerTests.configuration())
            try await RouterHarness.test(router) { client in
                @Sendable func send(_ amount: Int, key: String?) async throws -> RouterHarness.Answer {
                    var headers = HTTPFields()
                    if let key { headers[keyName] = key }
                    return try await RouterHarness.call(
                        client, .post, "/api/v1/event", token: RouterHarness.masterKey, body: body(amount),
                        headers: headers)
                }
                let first = try await send(42, key: "order-42")
                #expect(first.status == 201)
                #expect(first.headers[replayedName] == nil)
                let again = try await send(42, key: "order-42")
                #expect(again.status == 201)
                #expect(again.headers[replayedName] == "true")
                #expect(again.json == first.json, "the first answer, received_at included")

                let racing = try await withThrowingTaskGroup(of: RouterHarness.Answer.self) { group in
                    for _ in 0..<8 { group.addTask { try await send(7, key: "order-7") } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(racing.allSatisfy { $0.status == 201 })
                #expect(Set(racing.compactMap { $0.string("event_id") }).count == 1)
                #expect(racing.filter { $0.headers[replayedName] == nil }.count == 1, "one request made the event")

                let reused = try await send(43, key: "order-42")
                #expect(reused.status == 409 && reused.string("id") == "EventAlreadyIngested")
                #expect(reused.string("detail")?.contains("Idempotency-Key") == true)
                let malformed = try await send(42, key: "two words")
                #expect(malformed.status == 400 && malformed.string("detail")?.contains("Idempotency-Key") == true)
                let unkeyed = try await send(42, key: nil)
                let unkeyedAgain = try await send(42, key: nil)
                #expect(unkeyed.status == 201 && unkeyedAgain.status == 201)
                #expect(unkeyed.string("event_id") != unkeyedAgain.string("event_id"), "no key, no deduplication")

                let events = try await store.events(applicationID: application.id, limit: 100)
                #expect(events.count == 4, "order-42, order-7 and the two without a key")
                let attempts = try await store.requestAttempts(
                    AttemptQuery(applicationID: application.id, limit: 100))
                #expect(attempts.count == 4, "one attempt per event: a repeat fans out nothing")
            }
        }
    }
}
