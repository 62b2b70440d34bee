import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/service_token`: organization-wide Biscuit tokens. The token is shown once, at creation; only the hash of its
/// root block's revocation id is kept.
struct ServiceTokenRoutes<Store: FerryStore> {
    let api: APIContext<Store>

    func register(on router: Router<FerryRequestContext>) {
        router.get("/api/v1/service_token") { request, _ in
            let organization = try await api.access.organization(
                try Query.uuid(request, "organization_id"), for: try await api.caller(request), .serviceTokenList)
            let tokens = try await api.store.serviceTokens(organizationID: organization.id)
            return JSONBody.response(.array(tokens.map { Representation.serviceToken($0, bearer: nil) }))
        }
        router.post("/api/v1/service_token") { request, _ in
            let caller = try await api.caller(request)
            let body = try await JSONBody.decode(ServiceTokenBody.self, from: request)
            let organization = try await api.access.organization(
                body.organizationID.value, for: caller, .serviceTokenCreate)
            try Self.validate(name: body.name)
            let (token, bearer) = try await ServiceTokenIssuance.issue(
                organizationID: organization.id, name: body.name, store: api.store,
                issuer: api.configuration.tokenIssuer)
            return JSONBody.response(Representation.serviceToken(token, bearer: bearer), status: .created)
        }
        router.get("/api/v1/service_token/:token_id") { request, context in
            let id = try Query.pathUUID(context, "token_id")
            let organization = try await api.access.organization(
                try Query.uuid(request, "organization_id"), for: try await api.caller(request), .serviceTokenGet)
            guard let token = try await api.store.serviceToken(id: id, organizationID: organization.id) else {
                throw ProblemCatalog.notFound
            }
            return JSONBody.response(Representation.serviceToken(token, bearer: nil))
        }
        router.put("/api/v1/service_token/:token_id") { request, context in
            let id = try Query.pathUUID(context, "token_id")
            let caller = try await api.caller(request)
            let body = try await JSONBody.decode(ServiceTokenBody.self, from: request)
            let organization = try await api.access.organization(
                body.organizationID.value, for: caller, .serviceTokenEdit,
                facts: [AuthorizationRequest.serviceTokenID(id)])
            try Self.validate(name: body.name)
            guard
                let token = try await api.store.renameServiceToken(
                    id: id, organizationID: organization.id, name: body.name)
            else { throw ProblemCatalog.notFound }
            return JSONBody.response(Representation.serviceToken(token, bearer: nil))
        }
        router.delete("/api/v1/service_token/:token_id") { request, context in
            let id = try Query.pathUUID(context, "token_id")
            let organization = try await api.access.organization(
                try Query.uuid(request, "organization_id"), for: try await api.caller(request), .serviceTokenDelete,
                facts: [AuthorizationRequest.serviceTokenID(id)])
            guard try await api.store.revokeServiceToken(id: id, organizationID: organization.id) else {
                throw ProblemCatalog.notFound
            }
            return JSONBody.noContent()
        }
    }

    /// At most 50 characters, and no minimum (Hook0's rule: an empty name is accepted).
    private static func validate(name: String) throws {
        var errors = ValidationErrors()
        Validator.length(name, field: "name", min: 0, max: 50, into: &errors)
        if !errors.isEmpty { throw Problem(DomainError.validation(errors)) }
    }
}
