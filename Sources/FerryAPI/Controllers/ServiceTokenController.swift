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

    /// Ferry's server-side attenuation (`ServiceTokenAttenuator`).
    private func attenuate(_ request: Request, caller: Caller, id: UUID) async throws -> Response {
        let body = try await JSONBody.decode(AttenuationBody.self, from: request)
        let organization = try await access.organization(
            body.organizationID.value, for: caller, .serviceTokenEdit, facts: [AuthorizationRequest.serviceTokenID(id)])
        guard let stored = try await store.serviceToken(id: id, organizationID: organization.id) else {
            throw DomainError.notFound
        }
        let attenuated = try await ServiceTokenAttenuator(store: store, tokens: tokens).attenuate(
            body.biscuit, of: stored,
            with: AttenuationRestrictions(
                applicationID: body.applicationID?.value, expiresAt: body.expiresAt, preset: body.preset,
                actions: body.actions, datalog: body.datalog))
        return JSONBody.response(
            .object([
                "biscuit": .string(attenuated.bearer), "block": .string(attenuated.block),
                "revocation_ids": .array(attenuated.revocationIDs.map(JSONValue.string)),
            ]), status: .created)
    }
}
