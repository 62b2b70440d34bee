import FerryCore
import FerryIdentity
import FerryStorage
import Foundation

/// Who belongs to an organization, as its editors change it: inviting (an existing account joins at once; an
/// address without one gets a pending invitation and its mail, a single-use link that registers and joins),
/// sending an invitation again, changing a role and removing a member. The rules of Hook0's `/invite` routes and
/// Ferry's `/invitations`, in one place for the API and the dashboard; the caller has been authorized already.
public struct Membership<Store: TenantStore & IdentityStore>: Sendable {
    let store: Store
    let mail: AccountMail

    /// The shortest time between two sendings of one invitation.
    public static var resendInterval: TimeInterval { 60 }

    public init(store: Store, publicURL: String) {
        self.store = store
        mail = AccountMail(publicURL: publicURL)
    }

    /// What an invitation did.
    public enum InvitationOutcome: Sendable, Equatable {
        /// The address has an account, which is now a member.
        case joined
        /// The address has no account: a pending invitation was stored and its mail queued.
        case invited(PendingInvitation)
    }

    /// Invites `email` to `organization` as `role`.
    @discardableResult
    public func invite(_ email: String, as role: OrganizationRole, to organization: Organization, at now: Date = Date())
        async throws -> InvitationOutcome
    {
        try ResourceRules.validateInvitationEmail(email)
        if let (user, _) = try await store.userCredentials(email: email) {
            try await store.addMember(organizationID: organization.id, userID: user.id, role: role)
            return .joined
        }
        let secret = InvitationSecret.random()
        let invitation = PendingInvitation(
            id: UUID(), organizationID: organization.id, email: email.trimmingCharacters(in: .whitespaces),
            role: role, createdAt: now,
            expiresAt: now.addingTimeInterval(Double(AccountMail.invitationLifetime.components.seconds)))
        let outbound = mail.invitation(to: invitation.email, organization: organization, role: role, secret: secret)
        try await store.createInvitation(invitation, secretHash: InvitationSecret.hash(secret), mail: outbound)
        return .invited(invitation)
    }

    /// Sends a pending (or expired, but not accepted) invitation again under the same id, with a new link (the old
    /// one stops working) and a new expiry; at most once a minute per invitation (429 with the wait otherwise), so
    /// an editor cannot flood an address.
    public func resendInvitation(_ id: UUID, of organization: Organization, at now: Date = Date()) async throws
        -> PendingInvitation
    {
        guard let invitation = try await store.invitation(id: id, organizationID: organization.id) else {
            throw DomainError.notFound
        }
        let sinceSent = now.timeIntervalSince(invitation.createdAt)
        guard sinceSent >= Self.resendInterval else {
            throw ProblemCatalog.invitationSentRecently(retryAfter: Int((Self.resendInterval - sinceSent).rounded(.up)))
        }
        let secret = InvitationSecret.random()
        var renewed = invitation
        renewed.createdAt = now
        renewed.expiresAt = now.addingTimeInterval(Double(AccountMail.invitationLifetime.components.seconds))
        let outbound = mail.invitation(
            to: invitation.email, organization: organization, role: invitation.role, secret: secret)
        guard
            try await store.renewInvitation(
                id: id, organizationID: organization.id, secretHash: InvitationSecret.hash(secret), sentAt: now,
                expiresAt: renewed.expiresAt, mail: outbound)
        else { throw DomainError.notFound }
        return renewed
    }

    /// Hook0: a person may not change their own role (403). Ferry adds: the last editor cannot be demoted (403,
    /// from the store). Answers whether the person was a member.
    @discardableResult
    public func changeRole(of userID: UUID, to role: OrganizationRole, in organizationID: UUID, by caller: Caller)
        async throws -> Bool
    {
        if case .person(let me, _, _) = RequestAuthorizer.identity(of: caller), me == userID {
            throw ProblemCatalog.forbidden
        }
        return try await store.setMemberRole(organizationID: organizationID, userID: userID, role: role)
    }

    /// Removes a member; the last editor cannot be removed (403, from the store). Answers whether they were one.
    @discardableResult
    public func remove(_ userID: UUID, from organizationID: UUID) async throws -> Bool {
        try await store.removeMember(organizationID: organizationID, userID: userID)
    }
}
