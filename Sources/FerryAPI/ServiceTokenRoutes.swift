import Biscuit
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
        router.post("/api/v1/service_token/:token_id/attenuate") { request, context in
            try await attenuate(request, id: try Query.pathUUID(context, "token_id"))
        }
        router.post("/api/v1/service_token/:token_id/denied_blocks") { request, context in
            let id = try Query.pathUUID(context, "token_id")
            let caller = try await api.caller(request)
            let body = try await JSONBody.decode(DenyBlockBody.self, from: request)
            let organization = try await api.access.organization(
                body.organizationID.value, for: caller, .serviceTokenEdit,
                facts: [AuthorizationRequest.serviceTokenID(id)])
            guard try await api.store.serviceToken(id: id, organizationID: organization.id) != nil else {
                throw ProblemCatalog.notFound
            }
            guard body.revocationID.count == 128, body.revocationID.allSatisfy(\.isHexDigit) else {
                var errors = ValidationErrors()
                errors.add("revocation_id", ValidationIssue(code: "revocation_id", message: "128 hexadecimal digits"))
                throw Problem(DomainError.validation(errors))
            }
            try await api.store.denyBlock(revocationID: body.revocationID.lowercased(), serviceTokenID: id)
            return JSONBody.noContent()
        }
    }

    /// Ferry's server-side attenuation: appends one block of checks to the given service token (which the client
    /// sends, since only a hash of it is stored) and answers the new token. The same block appended offline with
    /// biscuit-python gives the same rights.
    private func attenuate(_ request: Request, id: UUID) async throws -> Response {
        let caller = try await api.caller(request)
        let body = try await JSONBody.decode(AttenuationBody.self, from: request)
        let organization = try await api.access.organization(
            body.organizationID.value, for: caller, .serviceTokenEdit, facts: [AuthorizationRequest.serviceTokenID(id)])
        guard let stored = try await api.store.serviceToken(id: id, organizationID: organization.id) else {
            throw ProblemCatalog.notFound
        }
        var errors = ValidationErrors()
        guard let token = api.authenticator.parse(body.biscuit), let root = token.revocationIDs.first,
            let holder = try await api.store.liveServiceToken(
                tokenHash: ServiceTokenIssuance.lookupHash(rootRevocationID: root)),
            holder.id == stored.id
        else {
            errors.add(
                "biscuit", ValidationIssue(code: "not_this_token", message: "is not a token of this service token"))
            throw Problem(DomainError.validation(errors))
        }
        let block: Attenuation.Block
        switch Attenuation.block(
            application: body.applicationID?.value, expiresAt: body.expiresAt, preset: body.preset,
            actions: body.actions, datalog: body.datalog)
        {
        case .success(let built): block = built
        case .failure(let failure):
            errors.add(failure.field, ValidationIssue(code: failure.code, message: failure.message))
            throw Problem(DomainError.validation(errors))
        }
        let attenuated: Biscuit
        do {
            attenuated = try token.appending(source: block.source, parameters: block.parameters)
        } catch {
            errors.add("datalog", ValidationIssue(code: "datalog", message: "\(error)"))
            throw Problem(DomainError.validation(errors))
        }
        return JSONBody.response(
            .object([
                "biscuit": .string(try attenuated.base64()), "block": .string(block.source),
                "revocation_ids": .array(attenuated.revocationIDs.map(JSONValue.string)),
            ]), status: .created)
    }

    /// At most 50 characters, and no minimum (Hook0's rule: an empty name is accepted).
    private static func validate(name: String) throws {
        var errors = ValidationErrors()
        Validator.length(name, field: "name", min: 0, max: 50, into: &errors)
        if !errors.isEmpty { throw Problem(DomainError.validation(errors)) }
    }
}
