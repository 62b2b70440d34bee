import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// An organization's members through Hook0's `/invite` routes (invite, change role, revoke), and Ferry's pending
/// invitations of people who have no account yet (`/invitations`).
struct MemberController<Store: TenantStore & IdentityStore> {
    let store: Store
    let access: AccessControl<Store>
    let membership: Membership<Store>

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.post("organizations/:organization_id/invite") { request, context in
            try await invite(
                request, caller: try await context.caller(),
                organizationID: try Query.pathUUID(context, "organization_id"))
        }
        group.put("organizations/:organization_id/invite") { request, context in
            try await changeRole(
                request, caller: try await context.caller(),
                organizationID: try Query.pathUUID(context, "organization_id"))
        }
        group.delete("organizations/:organization_id/invite") { request, context in
            try await revoke(
                request, caller: try await context.caller(),
                organizationID: try Query.pathUUID(context, "organization_id"))
        }
        group.get("organizations/:organization_id/invitations") { _, context in
            let organization = try await access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await context.caller(), .organizationInvite)
            let pending = try await store.invitations(organizationID: organization.id, at: Date())
            return JSONBody.response(.array(pending.map(Representation.invitation)))
        }
        group.delete("organizations/:organization_id/invitations/:invitation_id") { _, context in
            let organization = try await access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await context.caller(), .organizationRevoke)
            guard
                try await store.deleteInvitation(
                    id: try Query.pathUUID(context, "invitation_id"), organizationID: organization.id)
            else { throw DomainError.notFound }
            return JSONBody.noContent()
        }
        group.post("organizations/:organization_id/invitations/:invitation_id/resend") { _, context in
            let organization = try await access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await context.caller(), .organizationInvite)
            let renewed = try await membership.resendInvitation(
                try Query.pathUUID(context, "invitation_id"), of: organization)
            return JSONBody.response(Representation.invitation(renewed))
        }
    }

    /// Hook0 adds an existing account at once and answers 404 for an unknown address; Ferry creates a pending
    /// invitation for it instead and mails a single-use link that registers and joins. Both answer Hook0's echo.
    private func invite(_ request: Request, caller: Caller, organizationID: UUID) async throws -> Response {
        let organization = try await access.organization(organizationID, for: caller, .organizationInvite)
        let body = try await JSONBody.decode(InviteBody.self, from: request)
        let role = try OrganizationRole.parse(body.role)
        try await membership.invite(body.email, as: role, to: organization)
        return JSONBody.response(.object(["email": .string(body.email), "role": .string(role.rawValue)]))
    }

    private func changeRole(_ request: Request, caller: Caller, organizationID: UUID) async throws -> Response {
        try await access.organization(organizationID, for: caller, .organizationEditRole)
        let body = try await JSONBody.decode(RoleChangeBody.self, from: request)
        let role = try OrganizationRole.parse(body.role)
        try await membership.changeRole(of: body.userID.value, to: role, in: organizationID, by: caller)
        return JSONBody.response(
            .object(["user_id": Representation.uuid(body.userID.value), "role": .string(role.rawValue)]))
    }

    /// Hook0's revoke, echoing the body.
    private func revoke(_ request: Request, caller: Caller, organizationID: UUID) async throws -> Response {
        try await access.organization(organizationID, for: caller, .organizationRevoke)
        let body = try await JSONBody.decode(RevokeBody.self, from: request)
        try await membership.remove(body.userID.value, from: organizationID)
        return JSONBody.response(.object(["user_id": Representation.uuid(body.userID.value)]))
    }
}

/// The secret of an invitation link: 32 random bytes, URL-safe base64; only its hash is stored.
enum InvitationSecret {
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// What an invitation secret is stored under.
    static func hash(_ secret: String) -> [UInt8] {
        ServiceTokenFormat.hash("invitation:" + secret)
    }
}
