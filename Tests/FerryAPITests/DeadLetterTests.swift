import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Hummingbird
import Testing

@testable import FerryAPI

/// The dead letters through the API: listed by reason, counted before anything is sent (`dry_run`), recovered
/// once however many times recovery runs, and one attempt sent again to its own subscription only.
@Suite struct DeadLetterTests {
    @Test func deadLettersAreListedRecoveredOnceAndRetriedOneByOne() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let subscription = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            let started = Date().addingTimeInterval(-1)
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))
            let job = try #require(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).first)
            #expect(
                try await store.recordOutcome(
                    .answered(
                        status: 503, headers: [:], body: [], truncated: false, elapsedMilliseconds: 3,
                        retryAfterSeconds: nil),
                    for: job, retryAt: nil))
            let app = application.id.lowercased
            let since = Timestamp.format(started)
            let router = buildRouter(store: store, configuration: ControllerTests.configuration())
            try await RouterHarness.test(router) { client in
                func deadLetters(_ query: String = "") async throws -> RouterHarness.Answer {
                    try await RouterHarness.call(
                        client, .get, "/api/v1/dead_letters?application_id=\(app)\(query)",
                        token: RouterHarness.masterKey)
                }
                #expect(try await deadLetters().array.count == 1)
                #expect(try await deadLetters("&reason=5xx").array.count == 1)
                #expect(try await deadLetters("&reason=no_answer").array.isEmpty)
                #expect(try await deadLetters("&subscription_id=\(UUID().lowercased)").array.isEmpty)
                let badReason = try await deadLetters("&reason=teapot")
                #expect(badReason.status == 400)
                #expect(badReason.string("detail")?.contains("`reason`") == true)

                func recover(_ extra: String) async throws -> RouterHarness.Answer {
                    try await RouterHarness.call(
                        client, .post, "/api/v1/dead_letters/recover", token: RouterHarness.masterKey,
                        body: #"{"application_id":"\#(app)","since":"\#(since)"\#(extra)}"#)
                }
                let preview = try await recover(#","dry_run":true"#)
                #expect(preview.status == 200)
                #expect(preview.json.number("matching") == 1 && preview.json.number("recovered") == 0)
                #expect(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).isEmpty)

                let first = try await recover("")
                #expect(first.json.number("recovered") == 1 && first.json.number("remaining") == 0, "\(first.json)")
                let second = try await recover("")
                #expect(second.json.number("matching") == 0 && second.json.number("recovered") == 0)
                let resent = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
                #expect(resent.map(\.eventID) == [job.eventID], "recovery sent the event once")
                #expect(try await deadLetters().array.isEmpty)

                let backwards = try await recover(#","until":"2000-01-01T00:00:00Z""#)
                #expect(backwards.status == 400 && backwards.string("id") == "InvalidDateRange")

                let retried = try await RouterHarness.call(
                    client, .post, "/api/v1/request_attempts/\(job.attemptID.lowercased)/retry",
                    token: RouterHarness.masterKey, body: #"{"application_id":"\#(app)"}"#)
                #expect(retried.status == 201)
                let retriedID = try #require(retried.string("request_attempt_id").flatMap(UUID.init(uuidString:)))
                let queued = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
                #expect(queued.map(\.attemptID) == [retriedID])
                #expect(queued.map(\.subscriptionID) == [subscription.id])

                let unknown = try await RouterHarness.call(
                    client, .post, "/api/v1/request_attempts/\(UUID().lowercased)/retry",
                    token: RouterHarness.masterKey, body: #"{"application_id":"\#(app)"}"#)
                #expect(unknown.status == 404)
            }
        }
    }
}

extension JSONValue {
    /// The number member `key` of an object.
    fileprivate func number(_ key: String) -> Double? {
        if case .object(let object) = self, case .number(let value)? = object[key] { return value }
        return nil
    }
}
