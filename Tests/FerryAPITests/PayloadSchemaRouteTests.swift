import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Hummingbird
import Testing

@testable import FerryAPI

/// Payload schemas (Ferry's extension): an event type created with `payload_schema` or given one by `PUT`
/// refuses, at ingest, JSON payloads that do not conform (422 `Validation` naming the payload's location and the
/// keyword, nothing stored), on the single and the batch route; an unusable schema is refused where it is wrong;
/// `null` removes it and a Hook0 client's upsert keeps it.
@Suite struct PayloadSchemaRouteTests {
    static let schema =
        #"{"type":"object","required":["amount"],"properties":{"amount":{"type":"integer","minimum":0}}}"#

    private static func event(_ application: String, payload: String, contentType: String = "application/json")
        -> String
    {
        #"{"application_id":"\#(application)","event_type":"billing.invoice.paid","payload":"\#(payload)","#
            + #""payload_content_type":"\#(contentType)","labels":{"tenant":"t1"},"occurred_at":"2026-12-07T12:00:00Z"}"#
    }

    /// The first issue on the `payload` field of a 422 answer.
    private static func payloadIssue(_ json: JSONValue) -> [String: JSONValue]? {
        guard case .object(let problem) = json, case .object(let validation)? = problem["validation"],
            case .array(let issues)? = validation["payload"], case .object(let issue)? = issues.first
        else { return nil }
        return issue
    }

    private static func params(_ issue: [String: JSONValue]?) -> [String: JSONValue] {
        if case .object(let params)? = issue?["params"] { return params }
        return [:]
    }

    @Test(arguments: StoreBackend.available)
    func nonConformingPayloadsAreRefusedAndNothingIsStored(backend: StoreBackend) async throws {
        try await backend.withStore { store in try await Self.exercise(store) }
    }

    private static func exercise<Store: FerryStore>(_ store: Store) async throws {
        let organization = try await store.createOrganization(name: "acme")
        let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
        let app = application.id.lowercased
        let router = buildRouter(store: store, configuration: ControllerTests.configuration())
        let key = RouterHarness.masterKey
        try await RouterHarness.test(router) { client in
            let created = try await RouterHarness.call(
                client, .post, "/api/v1/event_types", token: key,
                body: #"{"application_id":"\#(app)","service":"billing","resource_type":"invoice","verb":"paid","#
                    + #""payload_schema":\#(Self.schema)}"#)
            #expect(created.status == 201)
            guard case .object(let createdFields) = created.json else {
                Issue.record("no event type: \(created.json)")
                return
            }
            #expect(
                createdFields["payload_schema"]
                    == (try JSONDecoder().decode(JSONValue.self, from: Data(Self.schema.utf8))))

            let refused = try await RouterHarness.call(
                client, .post, "/api/v1/event", token: key, body: Self.event(app, payload: #"{\"amount\":-1}"#))
            #expect(refused.status == 422 && refused.string("id") == "Validation", "\(refused.json)")
            let issue = Self.payloadIssue(refused.json)
            #expect(issue?["code"] == .string("schema"))
            #expect(Self.params(issue)["instance_location"] == .string("/amount"))
            #expect(Self.params(issue)["keyword"] == .string("minimum"))
            #expect(Self.params(issue)["keyword_location"] == .string("/properties/amount/minimum"))
            let missing = try await RouterHarness.call(
                client, .post, "/api/v1/event", token: key, body: Self.event(app, payload: #"{\"total\":3}"#))
            #expect(Self.params(Self.payloadIssue(missing.json))["keyword"] == .string("required"))
            #expect(try await store.events(applicationID: application.id, limit: 10).isEmpty, "nothing stored")

            let accepted = try await RouterHarness.call(
                client, .post, "/api/v1/event", token: key, body: Self.event(app, payload: #"{\"amount\":5}"#))
            #expect(accepted.status == 201)
            let text = try await RouterHarness.call(
                client, .post, "/api/v1/event", token: key,
                body: Self.event(app, payload: "not json at all", contentType: "text/plain"))
            #expect(text.status == 201, "a text payload is not JSON and not checked")

            let batch = try await RouterHarness.call(
                client, .post, "/api/v1/event/batch", token: key,
                body: #"{"events":[\#(Self.event(app, payload: #"{\"amount\":1.5}"#)),"#
                    + #"\#(Self.event(app, payload: #"{\"amount\":2}"#))]}"#)
            guard case .object(let batchFields) = batch.json, case .array(let results)? = batchFields["results"],
                results.count == 2, case .object(let first) = results[0], case .object(let second) = results[1]
            else {
                Issue.record("no batch results: \(batch.json)")
                return
            }
            #expect(first["status"] == .number(422) && second["status"] == .number(201))
            if case .object(let problem)? = first["problem"] {
                #expect(Self.params(Self.payloadIssue(.object(problem)))["keyword"] == .string("type"))
            }
            #expect(try await store.events(applicationID: application.id, limit: 10).count == 3)

            // A Hook0 client's upsert of the same type sends no schema: the schema stays.
            let upserted = try await RouterHarness.call(
                client, .post, "/api/v1/event_types", token: key,
                body: #"{"application_id":"\#(app)","service":"billing","resource_type":"invoice","verb":"paid"}"#)
            if case .object(let fields) = upserted.json { #expect(fields["payload_schema"] != nil) }

            let path = "/api/v1/event_types/billing.invoice.paid?application_id=\(app)"
            let unusable = try await RouterHarness.call(
                client, .put, path, token: key, body: #"{"payload_schema":{"properties":{"a":{"type":"strin"}}}}"#)
            #expect(unusable.status == 422)
            if case .object(let problem) = unusable.json, case .object(let validation)? = problem["validation"],
                case .array(let issues)? = validation["payload_schema"], case .object(let schemaIssue)? = issues.first
            {
                #expect(Self.params(schemaIssue)["schema_location"] == .string("/properties/a/type"))
            } else {
                Issue.record("no payload_schema issue: \(unusable.json)")
            }
            let withoutKey = try await RouterHarness.call(client, .put, path, token: key, body: "{}")
            #expect(withoutKey.status == 400 || withoutKey.status == 422, "payload_schema is required")

            let replaced = try await RouterHarness.call(
                client, .put, path, token: key, body: #"{"payload_schema":{"maxProperties":1}}"#)
            #expect(replaced.status == 200)
            let tooMany = try await RouterHarness.call(
                client, .post, "/api/v1/event", token: key, body: Self.event(app, payload: #"{\"a\":1,\"b\":2}"#))
            #expect(Self.params(Self.payloadIssue(tooMany.json))["keyword"] == .string("maxProperties"))

            let removed = try await RouterHarness.call(
                client, .put, path, token: key, body: #"{"payload_schema":null}"#)
            #expect(removed.status == 200)
            if case .object(let fields) = removed.json { #expect(fields["payload_schema"] == nil) }
            let free = try await RouterHarness.call(
                client, .post, "/api/v1/event", token: key, body: Self.event(app, payload: #"{\"amount\":-1}"#))
            #expect(free.status == 201, "without a schema anything JSON goes")

            let unknown = try await RouterHarness.call(
                client, .put, "/api/v1/event_types/billing.invoice.voided?application_id=\(app)", token: key,
                body: #"{"payload_schema":true}"#)
            #expect(unknown.status == 404)
        }
    }
}
