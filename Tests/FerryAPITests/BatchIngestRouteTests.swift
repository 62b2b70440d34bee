import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import FerryAPI

/// `POST /api/v1/event/batch`: every event answered on its own (201 or its problem), in order, the stored ones
/// fanned out as `POST /event` would; the request as a whole refused only when empty, too long, unreadable, keyed
/// or unauthenticated.
@Suite struct BatchIngestRouteTests {
    private static func event(
        _ application: String, type: String = "billing.invoice.paid", payload: String = #"{\"n\":1}"#,
        eventID: String? = nil
    ) -> String {
        let id = eventID.map { #""event_id":"\#($0)","# } ?? ""
        return #"{\#(id)"application_id":"\#(application)","event_type":"\#(type)","payload":"\#(payload)","#
            + #""payload_content_type":"application/json","labels":{"tenant":"t1"},"#
            + #""occurred_at":"2026-12-07T12:00:00Z"}"#
    }

    private static func results(_ answer: RouterHarness.Answer) -> [[String: JSONValue]] {
        guard case .object(let object) = answer.json, case .array(let items)? = object["results"] else { return [] }
        return items.compactMap { item in
            if case .object(let fields) = item { return fields }
            return nil
        }
    }

    private static func status(_ result: [String: JSONValue]) -> Int? {
        if case .number(let value)? = result["status"] { return Int(value) }
        return nil
    }

    private static func problemID(_ result: [String: JSONValue]) -> String? {
        if case .object(let problem)? = result["problem"], case .string(let id)? = problem["id"] { return id }
        return nil
    }

    @Test func eachEventIsAnsweredOnItsOwnAndTheStoredOnesAreFannedOut() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let other = try await store.createOrganization(name: "other")
            let (application, secret) = try await store.createApplication(
                organizationID: organization.id, name: "app")
            let (foreign, _) = try await store.createApplication(organizationID: other.id, name: "foreign")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            try await Fixtures.eventType(in: store, applicationID: foreign.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            let app = application.id.lowercased
            let chosenID = UUIDv7.make().lowercased
            let items = [
                Self.event(app),
                #"{"application_id":"\#(app)","event_type":"billing.invoice.paid"}"#,
                Self.event(app, type: "billing.invoice.voided"),
                Self.event(foreign.id.lowercased),
                Self.event(app, payload: "not json"),
                Self.event(app, eventID: chosenID),
                Self.event(app, eventID: chosenID),
                Self.event(app),
            ]
            let router = buildRouter(store: store, configuration: ControllerTests.configuration())
            try await RouterHarness.test(router) { client in
                let answer = try await RouterHarness.call(
                    client, .post, "/api/v1/event/batch", token: secret.token.lowercased,
                    body: #"{"events":[\#(items.joined(separator: ","))]}"#)
                #expect(answer.status == 200)
                let results = Self.results(answer)
                #expect(results.map(Self.status) == [201, 400, 400, 403, 400, 201, 409, 201])
                #expect(
                    results.map(Self.problemID) == [
                        nil, "JsonPayload", "EventTypeDoesNotExist", "Forbidden", "EventInvalidJsonPayload", nil,
                        "EventAlreadyIngested", nil,
                    ])
                if case .object(let problem)? = results[1]["problem"], case .string(let detail)? = problem["detail"] {
                    #expect(detail.contains("payload"), "the malformed event's problem names its field: \(detail)")
                } else {
                    Issue.record("no problem for the malformed event")
                }
                #expect(results[5]["event_id"] == .string(chosenID))
                #expect(results[0]["application_id"] == .string(app))
                let storedIDs = [0, 5, 7].compactMap { index -> UUID? in
                    guard case .string(let text)? = results[index]["event_id"] else { return nil }
                    return UUID(uuidString: text)
                }
                #expect(storedIDs.count == 3)

                let events = try await store.events(applicationID: application.id, limit: 100)
                #expect(Set(events.map(\.id)) == Set(storedIDs))
                #expect(try await store.events(applicationID: foreign.id, limit: 100).isEmpty)
                let attempts = try await store.requestAttempts(AttemptQuery(applicationID: application.id, limit: 100))
                #expect(Set(attempts.map(\.eventID)) == Set(storedIDs), "one attempt per stored event")
            }
        }
    }

    @Test func aBatchIsRefusedWholeWhenEmptyTooLongUnreadableKeyedOrUnauthenticated() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            var configuration = ControllerTests.configuration()
            configuration.maxBatchEvents = 3
            let router = buildRouter(store: store, configuration: configuration)
            let one = Self.event(application.id.lowercased)
            try await RouterHarness.test(router) { client in
                func send(_ body: String, token: String? = RouterHarness.masterKey, headers: HTTPFields = [:])
                    async throws -> RouterHarness.Answer
                {
                    try await RouterHarness.call(
                        client, .post, "/api/v1/event/batch", token: token, body: body, headers: headers)
                }
                let empty = try await send(#"{"events":[]}"#)
                #expect(empty.status == 400 && empty.string("id") == "JsonPayload")
                let tooLong = try await send(
                    #"{"events":[\#(Array(repeating: one, count: 4).joined(separator: ","))]}"#)
                #expect(tooLong.status == 400 && tooLong.string("detail")?.contains("at most 3") == true)
                let unreadable = try await send(#"{"events":{}}"#)
                #expect(unreadable.status == 400 && unreadable.string("id") == "JsonPayload")
                let keyName = try #require(HTTPField.Name("idempotency-key"))
                let keyed = try await send(#"{"events":[\#(one)]}"#, headers: [keyName: "k1"])
                #expect(keyed.status == 400 && keyed.string("detail")?.contains("event_id") == true)
                let anonymous = try await send(#"{"events":[\#(one)]}"#, token: nil)
                #expect(anonymous.status == 401)
                #expect(try await store.events(applicationID: application.id, limit: 10).isEmpty)

                let full = try await send(#"{"events":[\#(Array(repeating: one, count: 3).joined(separator: ","))]}"#)
                #expect(full.status == 200)
                #expect(Self.results(full).map(Self.status) == [201, 201, 201])
                #expect(try await store.events(applicationID: application.id, limit: 10).count == 3)
            }
        }
    }
}
