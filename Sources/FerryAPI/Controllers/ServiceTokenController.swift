import Biscuit
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/service_token`: organization-wide Biscuit tokens. The token is shown once, at creation; only the hash of its
/// root block's revocation id is kept.
struct ServiceTokenController<Store: TenantStore> {
    let store: Store
    let access: AccessControl<Store>
    let issuer: TokenIssuer
    /// Reads the token a client sends to be attenuated.
    let tokens: VerifiedTokens

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("service_token") { request, context in
            let organization = try await access.organization(
                namedByQueryOf: request, for: try await context.caller(), .serviceTokenList)
            let tokens = try await store.serviceTokens(organizationID: organization.id)
            return JSONBody.response(.array(tokens.map { Representation.serviceToken($0, bearer: nil) }))
        }
        group.post("service_token") { request, context in
            let caller = try await context.caller()
            let body = try await JSONBody.decode(ServiceTokenBody.self, from: request)
            let organization = try await access.organization(
                body.organizationID.value, for: caller, .serviceTokenCreate)
            try ResourceRules.validateLabelName(body.name)
            let creator: UUID?
            if case .person(let userID, _, _) = RequestAuthorizer.identity(of: caller) {
                creator = userID
            } else {
                creator = nil
            }
            let (token, bearer) = try await ServiceTokenIssuance.issue(
                organizationID: organization.id, name: body.name, createdBy: creator, store: store, issuer: issuer)
            return JSONBody.response(Representation.serviceToken(token, bearer: bearer), status: .created)
        }
        group.get("service_token/:token_id") { request, context in
            let id = try Query.pathUUID(context, "token_id")
            let organization = try await access.organization(
                namedByQueryOf: request, for: try await context.caller(), .serviceTokenGet)
            guard let token = try await store.serviceToken(id: id, organizationID: organization.id) else {
                throw DomainError.notFound
            }
            return JSONBody.response(Representation.serviceToken(token, bearer: nil))
        }
        group.put("service_token/:token_id") { request, context in
            let id = try Query.pathUUID(context, "token_id")
            let caller = try await context.caller()
            let body = try await JSONBody.decode(ServiceTokenBody.self, from: request)
            let organization = try await access.organization(
                body.organizationID.value, for: caller, .serviceTokenEdit,
                facts: [AuthorizationRequest.serviceTokenID(id)])
            try ResourceRules.validateLabelName(body.name)
            guard
                let token = try await store.renameServiceToken(
                    id: id, organizationID: organization.id, name: body.name)
            else { throw DomainError.notFound }
            return JSONBody.response(Representation.serviceToken(token, bearer: nil))
        }
        group.delete("service_token/:token_id") { request, context in
            let id = try Query.pathUUID(context, "token_id")
            let organization = try await access.organization(
                try Query.uuid(request, "organization_id"), for: try await context.caller(), .serviceTokenDelete,
                facts: [AuthorizationRequest.serviceTokenID(id)])
            guard try await store.revokeServiceToken(id: id, organizationID: organization.id) else {
                throw DomainError.notFound
            }
            return JSONBody.noContent()
        }
        group.post("service_token/:token_id/attenuate") { request, context in
            try await attenuate(
                request, caller: try await context.caller(), id: try Query.pathUUID(context, "token_id"))
        }
        group.post("service_token/:token_id/denied_blocks") { request, context in
            let id = try Query.pathUUID(context, "token_id")
            let caller = try await context.caller()
            let body = try await JSONBody.decode(DenyBlockBody.self, from: request)
            let organization = try await access.organization(
                body.organizationID.value, for: caller, .serviceTokenEdit,
                facts: [AuthorizationRequest.serviceTokenID(id)])
            guard try await store.serviceToken(id: id, organizationID: organization.id) != nil else {
                throw DomainError.notFound
            }
            try ResourceRules.validateRevocationID(body.revocationID)
            try await store.denyBlock(revocationID: body.revocationID.lowercased(), serviceTokenID: id)
            return JSONBody.noContent()
        }
    }

    /// Ferry's server-side attenuation: appends one block of checks to the given service token (which the client
    /// sends, since only a hash of it is stored) and answers the new token. The same block appended offline with
    /// biscuit-python gives the same rights.
    private func attenuate(_ request: Request, caller: Caller, id: UUID) async throws -> Response {
        let body = try await JSONBody.decode(AttenuationBody.self, from: request)
        let organization = try await access.organization(
            body.organizationID.value, for: caller, .serviceTokenEdit, facts: [AuthorizationRequest.serviceTokenID(id)])
        guard let stored = try await store.serviceToken(id: id, organizationID: organization.id) else {
            throw DomainError.notFound
        }
        var errors = ValidationErrors()
        guard let token = tokens.verified(body.biscuit), let root = token.revocationIDs.first,
            let holder = try await store.liveServiceToken(
                tokenHash: ServiceTokenIssuance.lookupHash(rootRevocationID: root)),
            holder.id == stored.id
        else {
            errors.add(
                "biscuit", ValidationIssue(code: "not_this_token", message: "is not a token of this service token"))
            throw DomainError.validation(errors)
        }
        let block: Attenuation.Block
        switch Attenuation.block(
            application: body.applicationID?.value, expiresAt: body.expiresAt, preset: body.preset,
            actions: body.actions, datalog: body.datalog)
        {
        case .success(let built): block = built
        case .failure(let failure):
            errors.add(failure.field, ValidationIssue(code: failure.code, message: failure.message))
            throw DomainError.validation(errors)
        }
        let attenuated: Biscuit
        do {
            attenuated = try token.appending(source: block.source, parameters: block.parameters)
        } catch {
            errors.add("datalog", ValidationIssue(code: "datalog", message: "\(error)"))
            throw DomainError.validation(errors)
        }
        return JSONBody.response(
            .object([
                "biscuit": .string(try attenuated.base64()), "block": .string(block.source),
                "revocation_ids": .array(attenuated.revocationIDs.map(JSONValue.string)),
            ]), status: .created)
    }
}
