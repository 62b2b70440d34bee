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
    /// The base of the links in invitation mails.
    let publicURL: String

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
            return try await resend(try Query.pathUUID(context, "invitation_id"), of: organization)
        }
    }

    /// Sends a pending (or expired, but not accepted) invitation again under the same id, with a new link (the old
    /// one stops working) and a new expiry; at most once a minute per invitation, so an editor cannot flood an
    /// address.
    private func resend(_ id: UUID, of organization: Organization) async throws -> Response {
        guard let invitation = try await store.invitation(id: id, organizationID: organization.id) else {
            throw DomainError.notFound
        }
        let now = Date()
        let sinceSent = now.timeIntervalSince(invitation.createdAt)
        guard sinceSent >= Self.resendInterval else {
            throw ProblemCatalog.invitationSentRecently(retryAfter: Int((Self.resendInterval - sinceSent).rounded(.up)))
        }
        let secret = InvitationSecret.random()
        var renewed = invitation
        renewed.createdAt = now
        renewed.expiresAt = now.addingTimeInterval(Double(AccountMail.invitationLifetime.components.seconds))
        let mail = AccountMail(publicURL: publicURL).invitation(
            to: invitation.email, organization: organization, role: invitation.role, secret: secret)
        guard
            try await store.renewInvitation(
                id: id, organizationID: organization.id, secretHash: InvitationSecret.hash(secret), sentAt: now,
                expiresAt: renewed.expiresAt, mail: mail)
        else { throw DomainError.notFound }
        return JSONBody.response(Representation.invitation(renewed))
    }

    /// The shortest time between two sendings of one invitation.
    static var resendInterval: TimeInterval { 60 }

    /// Hook0 adds an existing account at once and answers 404 for an unknown address; Ferry creates a pending
    /// invitation for it instead and mails a single-use link that registers and joins. Both answer Hook0's echo.
    private func invite(_ request: Request, caller: Caller, organizationID: UUID) async throws -> Response {
        let organization = try await access.organization(organizationID, for: caller, .organizationInvite)
        let body = try await JSONBody.decode(InviteBody.self, from: request)
        let role = try OrganizationRole.parse(body.role)
        try ResourceRules.validateInvitationEmail(body.email)
        if let (user, _) = try await store.userCredentials(email: body.email) {
            try await store.addMember(organizationID: organization.id, userID: user.id, role: role)
        } else {
            let now = Date()
            let secret = InvitationSecret.random()
            let invitation = PendingInvitation(
                id: UUID(), organizationID: organization.id, email: body.email.trimmingCharacters(in: .whitespaces),
                role: role, createdAt: now,
                expiresAt: now.addingTimeInterval(Double(AccountMail.invitationLifetime.components.seconds)))
            let mail = AccountMail(publicURL: publicURL).invitation(
                to: invitation.email, organization: organization, role: role, secret: secret)
            try await store.createInvitation(
                invitation, secretHash: InvitationSecret.hash(secret), mail: mail)
        }
        return JSONBody.response(.object(["email": .string(body.email), "role": .string(role.rawValue)]))
    }

    /// Hook0: a person may not change their own role (403); a non-member is echoed unchanged. Ferry adds: the
    /// last editor cannot be demoted (403).
    private func changeRole(_ request: Request, caller: Caller, organizationID: UUID) async throws -> Response {
        try await access.organization(organizationID, for: caller, .organizationEditRole)
        let body = try await JSONBody.decode(RoleChangeBody.self, from: request)
        let role = try OrganizationRole.parse(body.role)
        if case .person(let me, _, _) = RequestAuthorizer.identity(of: caller), me == body.userID.value {
            throw ProblemCatalog.forbidden
        }
        _ = try await store.setMemberRole(organizationID: organizationID, userID: body.userID.value, role: role)
        return JSONBody.response(
            .object(["user_id": Representation.uuid(body.userID.value), "role": .string(role.rawValue)]))
    }

    /// Hook0's revoke, echoing the body; the last editor cannot be removed (403).
    private func revoke(_ request: Request, caller: Caller, organizationID: UUID) async throws -> Response {
        try await access.organization(organizationID, for: caller, .organizationRevoke)
        let body = try await JSONBody.decode(RevokeBody.self, from: request)
        _ = try await store.removeMember(organizationID: organizationID, userID: body.userID.value)
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
