import Biscuit
import FerryAPI
import FerryCore
import FerryIdentity
import FerrySQLite
import FerryServer
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Testing

/// The HTTP API through the real router: status codes, problem bodies, authorization and pagination.
@Suite struct APITests {
    @Test(arguments: StoreBackend.available)
    func eventTypeNamesAreFoundThroughTheirPercentEncodedPath(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let tenant = try await api.tenant()
            let created = try await api.call(
                .post, "/api/v1/event_types", token: tenant.token,
                body: [
                    "application_id": .string(tenant.application), "service": "café", "resource_type": "a?b",
                    "verb": "x/y z",
                ])
            #expect(created.status == 201 && created.string("event_type_name") == "café.a?b.x/y z")
            let segment = try #require(
                "café.a?b.x/y z".addingPercentEncoding(
                    withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-_~"))))
            let path = "/api/v1/event_types/\(segment)?application_id=\(tenant.application)"
            let found = try await api.call(.get, path, token: tenant.token)
            #expect(found.status == 200 && found.string("event_type_name") == "café.a?b.x/y z")
            #expect(try await api.call(.delete, path, token: tenant.token).status == 204)
        }
    }

    @Test(arguments: StoreBackend.available)
    func applicationRetentionIsSetShownAndCleared(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let tenant = try await api.tenant()
            let path = "/api/v1/applications/\(tenant.application)"
            let defaults = try await api.call(.get, path, token: tenant.token)
            #expect(defaults["quotas"]?["days_of_events_retention_limit"] == .number(30))
            let updated = try await api.call(
                .put, path, token: tenant.token,
                body: [
                    "organization_id": .string(tenant.organization), "name": "acme app",
                    "days_of_events_retention_limit": 7,
                ])
            #expect(updated.status == 200 && updated["days_of_events_retention_limit"] == .number(7))
            let info = try await api.call(.get, path, token: tenant.token)
            #expect(info["quotas"]?["days_of_events_retention_limit"] == .number(7))
            let renamedOnly = try await api.call(
                .put, path, token: tenant.token,
                body: ["organization_id": .string(tenant.organization), "name": "renamed"])
            #expect(renamedOnly["days_of_events_retention_limit"] == .number(7))
            let invalid = try await api.call(
                .put, path, token: tenant.token,
                body: [
                    "organization_id": .string(tenant.organization), "name": "acme app",
                    "days_of_events_retention_limit": 0,
                ])
            #expect(invalid.status == 422 && invalid.string("id") == "Validation")
            let cleared = try await api.call(
                .put, path, token: tenant.token,
                body: [
                    "organization_id": .string(tenant.organization), "name": "acme app",
                    "days_of_events_retention_limit": .null,
                ])
            #expect(cleared.status == 200 && cleared["days_of_events_retention_limit"] == .null)
            let quotas = try await api.call(.get, "/api/v1/quotas")
            #expect(quotas["limits"]?["global_days_of_events_retention_limit"] == .number(30))
        }
    }

    @Test(arguments: StoreBackend.available)
    func ingestAnswers201ThenRejectsTheSameIDWith409(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let tenant = try await api.tenant()
            let created = try await api.call(
                .post, "/api/v1/event_types/", token: tenant.token,
                body: .object([
                    "application_id": .string(tenant.application), "service": "billing", "resource_type": "invoice",
                    "verb": "paid",
                ]))
            #expect(created.status == 201 && created.string("event_type_name") == "billing.invoice.paid")
            let id = UUIDv7.make().lowercased
            let first = try await api.call(
                .post, "/api/v1/event", token: tenant.token,
                body: APIClient.eventBody(application: tenant.application, id: id))
            #expect(first.status == 201)
            #expect(first.string("event_id") == id && first.string("application_id") == tenant.application)
            #expect(first.string("received_at")?.hasSuffix("Z") == true)
            let again = try await api.call(
                .post, "/api/v1/event/", token: tenant.token,
                body: APIClient.eventBody(application: tenant.application, id: id))
            #expect(again.status == 409 && again.string("id") == "EventAlreadyIngested")
            #expect(again.headers[.contentType] == "application/problem+json")
            let event = try await api.call(
                .get, "/api/v1/events/\(id)?application_id=\(tenant.application)", token: tenant.token)
            #expect(event.status == 200)
            #expect(event.string("payload") == Data(#"{"amount":42}"#.utf8).base64EncodedString())
        }
    }

    @Test(arguments: StoreBackend.available)
    func badInputGetsTheContractsProblems(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let tenant = try await api.tenant()
            let noAuth = try await api.call(.get, "/api/v1/organizations")
            #expect(noAuth.status == 401 && noAuth.string("id") == "AuthNoAuthorizationHeader")
            let badToken = try await api.call(.get, "/api/v1/organizations", token: "fst_nope")
            #expect(badToken.status == 403 && badToken.string("id") == "AuthInvalidBiscuit")
            let malformed = try await api.call(.post, "/api/v1/event", token: tenant.token, rawBody: "{not json")
            #expect(malformed.status == 400 && malformed.string("id") == "JsonPayload")
            #expect(malformed["validation"] == .null)
            let noLabels = try await api.call(
                .post, "/api/v1/event", token: tenant.token,
                body: APIClient.eventBody(application: tenant.application, labels: [:]))
            #expect(noLabels.status == 422 && noLabels.string("id") == "Validation")
            if case .object(let validation)? = noLabels["validation"] {
                #expect(validation["labels"] != nil)
            } else {
                Issue.record("422 must carry a validation object")
            }
            let unknownType = try await api.call(
                .post, "/api/v1/event", token: tenant.token, body: APIClient.eventBody(application: tenant.application))
            #expect(unknownType.status == 400 && unknownType.string("id") == "EventTypeDoesNotExist")
            let missing = try await api.call(.get, "/api/v1/no/such/route", token: tenant.token)
            #expect(missing.status == 404 && missing.string("id") == "NotFound")
            let ambiguous = try await api.call(
                .post, "/api/v1/subscriptions", token: tenant.token,
                body: .object([
                    "application_id": .string(tenant.application), "is_enabled": true, "event_types": .array(["a.b.c"]),
                    "target": .object([
                        "type": "http", "method": "POST", "url": "https://example.com", "headers": .object([:]),
                    ]),
                ]))
            #expect(ambiguous.status == 400 && ambiguous.string("id") == "LabelsAmbiguity")
            let lowercaseMethod = try await api.call(
                .post, "/api/v1/subscriptions", token: tenant.token,
                body: .object([
                    "application_id": .string(tenant.application), "is_enabled": true, "event_types": .array(["a.b.c"]),
                    "labels": .object(["k": "v"]),
                    "target": .object([
                        "type": "http", "method": "post", "url": "https://example.com", "headers": .object([:]),
                    ]),
                ]))
            #expect(lowercaseMethod.status == 422)
            if case .object(let validation)? = lowercaseMethod["validation"],
                case .object(let target)? = validation["target"]
            {
                #expect(target["method"] != nil)
            } else {
                Issue.record("method error must nest under target")
            }
        }
    }

    /// Service tokens are Hook0-shaped Biscuits; attenuated children carry exactly their restrictions to every
    /// route, die with their root, and a token signed by another key, or too costly to authorize, is refused.
    @Test(arguments: StoreBackend.available)
    func serviceTokensAreBiscuitsAndAttenuationHoldsOnEveryRoute(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let tenant = try await api.tenant()
            let instance = try await api.call(.get, "/api/v1/instance")
            let rootKey = try PublicKey("ed25519/" + (instance.string("biscuit_public_key") ?? ""))
            let root = try Biscuit(base64: tenant.token, rootKey: rootKey)
            let facts = Set(root.blocks[0].content.facts)
            let organization = try #require(UUID(uuidString: tenant.organization))
            #expect(facts.contains(Fact("type", [.string("service_access")])))
            #expect(facts.contains(Fact("version", [.integer(1)])))
            #expect(facts.contains(Fact("organization_id", [TokenIssuer.term(organization)])))
            let applications = "/api/v1/applications?organization_id=\(tenant.organization)"
            let eventTypes = "/api/v1/event_types?application_id=\(tenant.application)"

            let readOnly = try root.appending(
                source: #"check if action($a), ["application:list", "event_type:list"].contains($a);"#
            ).base64()
            #expect(try await api.call(.get, applications, token: readOnly).status == 200)
            #expect(try await api.call(.get, eventTypes, token: readOnly).status == 200)
            let write = try await api.call(
                .post, "/api/v1/event_types", token: readOnly,
                body: [
                    "application_id": .string(tenant.application), "service": "a", "resource_type": "b", "verb": "c",
                ])
            #expect(write.status == 403 && write.string("id") == "Forbidden")

            let otherApplication = try root.appending(
                source: "check if application_id({app});", parameters: ["app": TokenIssuer.term(UUID())]
            ).base64()
            #expect(try await api.call(.get, eventTypes, token: otherApplication).status == 403)
            #expect(try await api.call(.get, applications, token: otherApplication).status == 403)

            let hostile = try root.appending(
                source: """
                    check if [\((0..<300).map(String.init).joined(separator: ","))].any($x ->
                        [\((0..<300).map(String.init).joined(separator: ","))].any($y ->
                            [\((0..<300).map(String.init).joined(separator: ","))].any($z -> $x + $y + $z == -1)));
                    """
            ).base64()
            let overBudget = try await api.call(.get, applications, token: hostile)
            #expect(overBudget.status == 503 && overBudget.string("id") == "ServiceUnavailable")

            let forged = try TokenIssuer.ephemeral().serviceAccess(
                tokenID: UUID(), organizationID: organization, createdAt: Date()
            ).base64()
            let refused = try await api.call(.get, applications, token: forged)
            #expect(refused.status == 403 && refused.string("id") == "AuthInvalidBiscuit")

            let legacyBearer = "fst_" + String(repeating: "L", count: 43)
            try await store.createServiceToken(
                ServiceToken(
                    id: UUID(), organizationID: organization, name: "legacy", displayHint: "fst_LLLLLL…",
                    createdAt: Date()),
                tokenHash: ServiceTokenFormat.hash(legacyBearer))
            #expect(try await api.call(.get, applications, token: legacyBearer).status == 200)

            let listed = try await api.call(
                .get, "/api/v1/service_token?organization_id=\(tenant.organization)", token: tenant.token)
            let rootID = try #require(
                listed.array.first { $0["name"] == .string("ci") }.flatMap { item -> String? in
                    if case .string(let id)? = item["token_id"] { return id }
                    return nil
                })
            #expect(!listed.text.contains(tenant.token), "a listing showed a usable token")
            let revoked = try await api.call(
                .delete, "/api/v1/service_token/\(rootID)?organization_id=\(tenant.organization)",
                token: APIClient.masterKey)
            #expect(revoked.status == 204)
            for token in [tenant.token, readOnly] {
                let dead = try await api.call(.get, applications, token: token)
                #expect(dead.status == 403 && dead.string("id") == "AuthInvalidBiscuit")
            }
        }
    }

    /// The places where Ferry once differed from Hook0's own validators and handlers (issue 13, item 7).
    @Test(arguments: StoreBackend.available)
    func hook0sOwnRulesHoldWhereFerryOnceSlipped(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let tenant = try await api.tenant()
            let typePath = "/api/v1/event_types/billing.invoice.paid?application_id=\(tenant.application)"
            _ = try await api.call(
                .post, "/api/v1/event_types", token: tenant.token,
                body: [
                    "application_id": .string(tenant.application), "service": "billing", "resource_type": "invoice",
                    "verb": "paid",
                ])

            // Label values are limited in bytes: 26 × "é" is 26 characters but 52 bytes.
            let wideLabel = try await api.call(
                .post, "/api/v1/event", token: tenant.token,
                body: APIClient.eventBody(
                    application: tenant.application, labels: ["env": String(repeating: "é", count: 26)]))
            #expect(wideLabel.status == 422 && wideLabel.string("id") == "Validation")
            #expect(wideLabel["validation"]?["labels"]?.arrayFirst?["code"] == .string("labels-property-length"))
            let noLabels = try await api.call(
                .post, "/api/v1/event", token: tenant.token,
                body: APIClient.eventBody(application: tenant.application, labels: [:]))
            #expect(noLabels["validation"]?["labels"]?.arrayFirst?["code"] == .string("labels-size"))
            let controlType = try await api.call(
                .post, "/api/v1/event_types", token: tenant.token,
                body: [
                    "application_id": .string(tenant.application), "service": "a\u{7}", "resource_type": "b",
                    "verb": "c",
                ])
            #expect(controlType["validation"]?["service"]?.arrayFirst?["code"] == .string("non_control_character"))

            // An event of a deleted event type is still ingested (and a subscription may still name the type).
            #expect(try await api.call(.delete, typePath, token: tenant.token).status == 204)
            #expect(try await api.call(.get, typePath, token: tenant.token).status == 404)
            let subscription = try await api.call(
                .post, "/api/v1/subscriptions", token: tenant.token,
                body: .object([
                    "application_id": .string(tenant.application), "is_enabled": true,
                    "event_types": .array(["billing.invoice.paid"]), "labels": .object(["tenant": "t1"]),
                    "target": .object([
                        "type": "http", "method": "POST", "url": "https://example.com/hook", "headers": .object([:]),
                    ]),
                ]))
            #expect(subscription.status == 201, "\(subscription.text)")
            let ofDeletedType = try await api.call(
                .post, "/api/v1/event", token: tenant.token, body: APIClient.eventBody(application: tenant.application))
            #expect(ofDeletedType.status == 201, "\(ofDeletedType.text)")
            let attempts = try await api.call(
                .get, "/api/v1/request_attempts?application_id=\(tenant.application)", token: tenant.token)
            #expect(attempts.array.count == 1)

            // An empty application name is Hook0's 422 Validation (its validator runs first); only spaces is 400.
            let unnamed = try await api.call(
                .post, "/api/v1/applications", token: tenant.token,
                body: ["organization_id": .string(tenant.organization), "name": ""])
            #expect(unnamed.status == 422 && unnamed.string("id") == "Validation")
            #expect(unnamed["validation"]?["name"]?.arrayFirst?["code"] == .string("length"))
            let blank = try await api.call(
                .post, "/api/v1/applications", token: tenant.token,
                body: ["organization_id": .string(tenant.organization), "name": "   "])
            #expect(blank.status == 400 && blank.string("id") == "ApplicationNameMissing")

            // Service tokens and application secrets may have an empty name.
            let emptyToken = try await api.call(
                .post, "/api/v1/service_token", token: APIClient.masterKey,
                body: ["organization_id": .string(tenant.organization), "name": ""])
            #expect(emptyToken.status == 201, "\(emptyToken.text)")
            let emptySecret = try await api.call(
                .post, "/api/v1/application_secrets", token: tenant.token,
                body: ["application_id": .string(tenant.application), "name": ""])
            #expect(emptySecret.status == 201, "\(emptySecret.text)")

            // A method no route takes: 405 with Allow, under an id Hook0's clients know.
            let wrongMethod = try await api.call(.patch, "/api/v1/event_types", token: tenant.token)
            #expect(wrongMethod.status == 405 && wrongMethod.string("id") == "NotFound")
            #expect(wrongMethod.headers[.allow]?.contains("POST") == true)

            // Hook0's public list of settings, without credentials.
            let settings = try await api.call(.get, "/api/v1/environment_variables")
            #expect(settings.status == 200)
            let listen = settings.array.first { $0["name"] == .string("listen") }
            #expect(listen?["env_var"] == .string("FERRY_LISTEN"))
            #expect(listen?["default"] == .string("127.0.0.1:8080"))
            #expect(listen?["sensitive"] == .bool(false) && listen?["required"] == .bool(false))
            let masterKey = settings.array.first { $0["name"] == .string("master_api_key") }
            #expect(masterKey?["sensitive"] == .bool(true) && masterKey?["default"] == .null)
            #expect(settings.array.count == FerrySetting.all.count)
            #expect(!settings.text.contains(APIClient.masterKey), "a value in effect was listed")
        }
    }

    @Test(arguments: StoreBackend.available)
    func tenantsCannotReachEachOthersResources(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let alice = try await api.tenant(name: "alice")
            let bob = try await api.tenant(name: "bob")
            let crossApplication = try await api.call(
                .get, "/api/v1/applications/\(bob.application)", token: alice.token)
            #expect(crossApplication.status == 403 && crossApplication.string("id") == "Forbidden")
            #expect(!crossApplication.text.contains("bob"))
            let crossOrganization = try await api.call(
                .get, "/api/v1/applications?organization_id=\(bob.organization)", token: alice.token)
            #expect(crossOrganization.status == 403)
            let listed = try await api.call(.get, "/api/v1/organizations", token: alice.token)
            #expect(
                listed.array.count == 1 && listed.text.contains(alice.organization)
                    && !listed.text.contains(bob.organization))
            let secrets = try await store.applicationSecrets(
                applicationID: try #require(UUID(uuidString: alice.application)))
            let secret = try #require(secrets.first).token.lowercased
            let ownWithSecret = try await api.call(
                .get, "/api/v1/event_types?application_id=\(alice.application)", token: secret)
            #expect(ownWithSecret.status == 200)
            let otherWithSecret = try await api.call(
                .get, "/api/v1/event_types?application_id=\(bob.application)", token: secret)
            #expect(otherWithSecret.status == 403)
            let organizationWideWithSecret = try await api.call(
                .get, "/api/v1/applications?organization_id=\(alice.organization)", token: secret)
            #expect(organizationWideWithSecret.status == 403)
            let createOrganization = try await api.call(
                .post, "/api/v1/organizations", token: alice.token, body: .object(["name": "evil"]))
            #expect(createOrganization.status == 403)
        }
    }

    @Test(arguments: StoreBackend.available)
    func requestAttemptsPaginateWithLinkHeaders(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let tenant = try await api.tenant()
            _ = try await api.call(
                .post, "/api/v1/event_types", token: tenant.token,
                body: .object([
                    "application_id": .string(tenant.application), "service": "billing", "resource_type": "invoice",
                    "verb": "paid",
                ]))
            let subscription = try await api.call(
                .post, "/api/v1/subscriptions", token: tenant.token,
                body: .object([
                    "application_id": .string(tenant.application), "is_enabled": true,
                    "event_types": .array(["billing.invoice.paid"]), "labels": .object(["tenant": "t1"]),
                    "target": .object([
                        "type": "http", "method": "POST", "url": "https://example.com/hook",
                        "headers": .object(["X-Token": "abc"]),
                    ]),
                ]))
            #expect(subscription.status == 201)
            #expect(subscription.string("standard_webhooks_secret")?.hasPrefix("whsec_") == true)
            if case .object(let target)? = subscription["target"], case .object(let headers)? = target["headers"] {
                #expect(headers == ["x-token": "abc"])
            }
            for _ in 0..<60 {
                let answer = try await api.call(
                    .post, "/api/v1/event", token: tenant.token,
                    body: APIClient.eventBody(application: tenant.application))
                #expect(answer.status == 201)
            }
            var path = "/api/v1/request_attempts?application_id=\(tenant.application)"
            var counts: [Int] = []
            var ids = Set<String>()
            while counts.count < 5 {
                let page = try await api.call(.get, path, token: tenant.token)
                #expect(page.status == 200)
                counts.append(page.array.count)
                for item in page.array {
                    if case .object(let object) = item, case .string(let id)? = object["request_attempt_id"] {
                        ids.insert(id)
                    }
                }
                let linkName = try #require(HTTPField.Name("link"))
                guard let link = page.headers[linkName], page.array.count > 0 else { break }
                #expect(
                    link.hasPrefix("<http://ferry.test/api/v1/request_attempts?") && link.hasSuffix(">; rel=\"next\""))
                let url = String(link.dropFirst().prefix { $0 != ">" })
                path = String(url.dropFirst("http://ferry.test".count))
            }
            #expect(counts == [50, 10, 0])
            #expect(ids.count == 60)
        }
    }

    @Test(arguments: StoreBackend.available)
    func publicEndpointsAnswerWithoutCredentials(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let errors = try await api.call(.get, "/api/v1/errors")
            #expect(errors.status == 200 && errors.array.count >= 20)
            let types = try await api.call(.get, "/api/v1/payload_content_types")
            #expect(types.json == .array(["text/plain", "application/json", "application/octet-stream+base64"]))
            let health = try await api.call(.get, "/api/v1/health")
            #expect(health.status == 200 && health.string("database") == "ok")
            let document = try await api.call(.get, "/api/v1/swagger.json")
            #expect(document.status == 200 && document.string("openapi")?.hasPrefix("3.") == true)
            if case .object(let paths)? = document["paths"] {
                #expect(paths["/api/v1/event"] != nil && paths["/api/v1/request_attempts"] != nil)
            } else {
                Issue.record("OpenAPI document has no paths")
            }
        }
    }
}

extension JSONValue {
    /// A member of an object, or nil.
    fileprivate subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The first item of an array, or nil.
    fileprivate var arrayFirst: JSONValue? {
        if case .array(let items) = self { return items.first }
        return nil
    }
}
