import Biscuit
import FerryCore
import FerryIdentity
import FerryTestSupport
import Foundation
import HTTPTypes
import Testing

/// Ferry's server-side attenuation (`POST /service_token/{id}/attenuate`) and the per-block deny-list
/// (`POST /service_token/{id}/denied_blocks`), through the real router on both backends.
@Suite struct AttenuationTests {
    /// Attenuates the tenant's token with `restrictions`; returns the answer.
    static func attenuate(
        _ api: APIClient, _ tenant: (organization: String, application: String, token: String), tokenID: String,
        _ restrictions: [String: JSONValue]
    ) async throws -> APIClient.Answer {
        var body = restrictions
        body["organization_id"] = .string(tenant.organization)
        body["biscuit"] = .string(tenant.token)
        return try await api.call(
            .post, "/api/v1/service_token/\(tokenID)/attenuate", token: APIClient.masterKey, body: .object(body))
    }

    static func tokenID(_ api: APIClient, organization: String) async throws -> String {
        let listed = try await api.call(
            .get, "/api/v1/service_token?organization_id=\(organization)", token: APIClient.masterKey)
        guard case .object(let first)? = listed.array.first, case .string(let id)? = first["token_id"] else {
            throw ExpectationFailedError(expectation: "a listed token")
        }
        return id
    }

    struct ExpectationFailedError: Error {
        var expectation: String
    }

    @Test(arguments: StoreBackend.available)
    func presetsApplicationsExpiriesAndDatalogAreEnforcedOnTheRoutes(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let tenant = try await api.tenant()
            let id = try await Self.tokenID(api, organization: tenant.organization)
            let eventTypes = "/api/v1/event_types?application_id=\(tenant.application)"
            let applications = "/api/v1/applications?organization_id=\(tenant.organization)"
            let created = try await api.call(
                .post, "/api/v1/event_types", token: tenant.token,
                body: [
                    "application_id": .string(tenant.application), "service": "billing", "resource_type": "invoice",
                    "verb": "paid",
                ])
            #expect(created.status == 201)
            let event = APIClient.eventBody(application: tenant.application)

            let readOnly = try #require(
                try await Self.attenuate(api, tenant, tokenID: id, ["preset": "read_only"]).string("biscuit"))
            #expect(try await api.call(.get, eventTypes, token: readOnly).status == 200)
            #expect(try await api.call(.post, "/api/v1/event", token: readOnly, body: event).status == 403)

            let ingestOnly = try await Self.attenuate(api, tenant, tokenID: id, ["preset": "ingest_only"])
            #expect(ingestOnly.status == 201)
            #expect(ingestOnly.string("block")?.contains("check if action($action)") == true)
            let ingest = try #require(ingestOnly.string("biscuit"))
            #expect(try await api.call(.get, eventTypes, token: ingest).status == 403)
            #expect(try await api.call(.post, "/api/v1/event", token: ingest, body: event).status == 201)

            let oneApplication = try #require(
                try await Self.attenuate(api, tenant, tokenID: id, ["application_id": .string(tenant.application)])
                    .string("biscuit"))
            #expect(try await api.call(.get, eventTypes, token: oneApplication).status == 200)
            #expect(try await api.call(.get, applications, token: oneApplication).status == 403)

            let expired = try #require(
                try await Self.attenuate(api, tenant, tokenID: id, ["expires_at": "2020-01-01T00:00:00Z"])
                    .string("biscuit"))
            #expect(try await api.call(.get, eventTypes, token: expired).status == 403)

            let custom = try #require(
                try await Self.attenuate(
                    api, tenant, tokenID: id, ["datalog": #"check if action("application:list");"#]
                ).string("biscuit"))
            #expect(try await api.call(.get, applications, token: custom).status == 200)
            #expect(try await api.call(.get, eventTypes, token: custom).status == 403)

            for bad: [String: JSONValue] in [
                [:], ["preset": "everything"], ["actions": ["event:delete_all"]], ["datalog": "check if ("],
            ] {
                let refused = try await Self.attenuate(api, tenant, tokenID: id, bad)
                #expect(refused.status == 422, "\(bad)")
            }
            // The biscuit must be a token of this service token.
            let other = try await api.tenant(name: "other")
            let otherID = try await Self.tokenID(api, organization: other.organization)
            let mismatched = try await api.call(
                .post, "/api/v1/service_token/\(otherID)/attenuate", token: APIClient.masterKey,
                body: [
                    "organization_id": .string(other.organization), "biscuit": .string(tenant.token),
                    "preset": "read_only",
                ])
            #expect(mismatched.status == 422)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aDenyListedChildIsRefusedAloneItsRootAndSiblingsWork(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let tenant = try await api.tenant()
            let id = try await Self.tokenID(api, organization: tenant.organization)
            let eventTypes = "/api/v1/event_types?application_id=\(tenant.application)"
            let first = try await Self.attenuate(api, tenant, tokenID: id, ["preset": "read_only"])
            let second = try await Self.attenuate(api, tenant, tokenID: id, ["preset": "read_only"])
            let child = try #require(first.string("biscuit"))
            let sibling = try #require(second.string("biscuit"))
            guard case .array(let ids)? = first["revocation_ids"], case .string(let childBlock)? = ids.last else {
                Issue.record("no revocation ids in \(first.text)")
                return
            }
            #expect(ids.count == 2)
            let denied = try await api.call(
                .post, "/api/v1/service_token/\(id)/denied_blocks", token: APIClient.masterKey,
                body: ["organization_id": .string(tenant.organization), "revocation_id": .string(childBlock)])
            #expect(denied.status == 204)
            let refused = try await api.call(.get, eventTypes, token: child)
            #expect(refused.status == 403 && refused.string("id") == "AuthInvalidBiscuit")
            #expect(try await api.call(.get, eventTypes, token: sibling).status == 200)
            #expect(try await api.call(.get, eventTypes, token: tenant.token).status == 200)
            // A child attenuated further from the denied one holds the denied block too.
            let rootKey = try PublicKey(
                "ed25519/" + (try await api.call(.get, "/api/v1/instance").string("biscuit_public_key") ?? ""))
            let grandchild = try Biscuit(base64: child, rootKey: rootKey).appending(source: "check if true;").base64()
            #expect(try await api.call(.get, eventTypes, token: grandchild).status == 403)
            let malformed = try await api.call(
                .post, "/api/v1/service_token/\(id)/denied_blocks", token: APIClient.masterKey,
                body: ["organization_id": .string(tenant.organization), "revocation_id": "zz"])
            #expect(malformed.status == 422)
        }
    }
}
