import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// An organization's members and pending invitations: invite by address (an account joins at once, an address
/// without one gets a mail), change a role, remove a member, send an invitation again or cancel it. Each change goes
/// through `Membership`, the API's rules, authorized as its route (`organization:invite`, `:edit_role`, `:revoke`).
extension Dashboard {
    func addMemberRoutes(to group: RouterGroup<FerryRequestContext>) {
        let base = "organizations/:organization_id"
        group.get(RouterPath(base + "/members")) { request, context in
            await rendering(context) {
                try await inOrganization(request, context, .organizationGet) { scope in
                    try await membersPage(scope, notice: Notice.of(request))
                }
            }
        }
        group.post(RouterPath(base + "/members")) { request, context in
            await rendering(context) {
                try await postedToOrganization(request, context, authorization: { _ in (.organizationInvite, []) }) {
                    scope, form in
                    let fields = form.decode(InviteForm.self) ?? InviteForm(email: "", role: "viewer")
                    let email = fields.email.trimmingCharacters(in: .whitespaces)
                    guard let role = OrganizationRole(rawValue: fields.role) else {
                        return try await membersPage(scope, errors: ["Role: choose editor or viewer."], form: fields)
                    }
                    let outcome: Membership<Store>.InvitationOutcome
                    do {
                        outcome = try await membership.invite(email, as: role, to: scope.organization)
                    } catch let error as DomainError {
                        return try await membersPage(scope, errors: FormErrors.messages(error), form: fields)
                    }
                    let notice: Notice = outcome == .joined ? .memberAdded : .invitationSent
                    return Self.redirect(to: scope.path + "/members", notice: notice)
                }
            }
        }
        group.post(RouterPath(base + "/members/:user_id/role")) { request, context in
            await rendering(context) {
                try await postedToOrganization(request, context, authorization: { _ in (.organizationEditRole, []) }) {
                    scope, form in
                    guard let userID = UUID(uuidString: context.parameters.get("user_id") ?? ""),
                        let role = form.decode(RoleForm.self).flatMap({ OrganizationRole(rawValue: $0.role) })
                    else { return notFound(scope) }
                    do {
                        guard
                            try await membership.changeRole(
                                of: userID, to: role, in: scope.organization.id, by: scope.signedIn.caller)
                        else { return notFound(scope) }
                    } catch let error as DomainError {
                        return try await membersPage(scope, errors: FormErrors.messages(error), status: .conflict)
                    }
                    return Self.redirect(to: scope.path + "/members", notice: .roleChanged)
                }
            }
        }
        group.post(RouterPath(base + "/members/:user_id/remove")) { request, context in
            await rendering(context) {
                try await postedToOrganization(request, context, authorization: { _ in (.organizationRevoke, []) }) {
                    scope, _ in
                    guard let userID = UUID(uuidString: context.parameters.get("user_id") ?? "") else {
                        return notFound(scope)
                    }
                    do {
                        guard try await membership.remove(userID, from: scope.organization.id) else {
                            return notFound(scope)
                        }
                    } catch let error as DomainError {
                        return try await membersPage(scope, errors: FormErrors.messages(error), status: .conflict)
                    }
                    if userID == scope.signedIn.user.id { return Self.redirect(to: "/", notice: .memberRemoved) }
                    return Self.redirect(to: scope.path + "/members", notice: .memberRemoved)
                }
            }
        }
        group.post(RouterPath(base + "/invitations/:invitation_id/resend")) { request, context in
            await rendering(context) {
                try await postedToOrganization(request, context, authorization: { _ in (.organizationInvite, []) }) {
                    scope, _ in
                    guard let id = UUID(uuidString: context.parameters.get("invitation_id") ?? "") else {
                        return notFound(scope)
                    }
                    do {
                        _ = try await membership.resendInvitation(id, of: scope.organization)
                    } catch let problem as Problem where problem.status == .tooManyRequests {
                        let wait = problem.retryAfter ?? 60
                        return try await membersPage(
                            scope, errors: ["This invitation was sent less than a minute ago: wait \(wait) s."],
                            status: .tooManyRequests)
                    }
                    return Self.redirect(to: scope.path + "/members", notice: .invitationResent)
                }
            }
        }
        group.post(RouterPath(base + "/invitations/:invitation_id/delete")) { request, context in
            await rendering(context) {
                try await postedToOrganization(request, context, authorization: { _ in (.organizationRevoke, []) }) {
                    scope, _ in
                    guard let id = UUID(uuidString: context.parameters.get("invitation_id") ?? ""),
                        try await store.deleteInvitation(id: id, organizationID: scope.organization.id)
                    else { return notFound(scope) }
                    return Self.redirect(to: scope.path + "/members", notice: .invitationCancelled)
                }
            }
        }
    }

    private func membersPage(
        _ scope: OrganizationScope, notice: String? = nil, errors: [String] = [],
        form: InviteForm = InviteForm(email: "", role: "viewer"), status: HTTPResponse.Status? = nil
    ) async throws -> Response {
        let canEditRoles = may(scope, .organizationEditRole)
        let canRemove = may(scope, .organizationRevoke)
        let canInvite = may(scope, .organizationInvite)
        let members = try await store.members(organizationID: scope.organization.id)
            .sorted { ($0.user.email, $0.user.id.lowercased) < ($1.user.email, $1.user.id.lowercased) }
        let invitations =
            canInvite ? try await store.invitations(organizationID: scope.organization.id, at: Date()) : []
        let view = MembersView(
            members: members.map { member in
                let isMe = member.user.id == scope.signedIn.user.id
                return MemberRow(
                    member, path: scope.path, isMe: isMe, canEditRole: canEditRoles && !isMe, canRemove: canRemove)
            },
            invitations: invitations.map { InvitationRow($0, path: scope.path) }, hasInvitations: !invitations.isEmpty,
            canInvite: canInvite, email: form.email,
            roles: ["viewer", "editor"].map { Choice(value: $0, selected: $0 == form.role, id: "invite-" + $0) })
        return organizationPage(
            "members", scope, tab: "members", notice: notice, errors: errors, view,
            status: status ?? (errors.isEmpty ? .ok : .unprocessableContent))
    }
}

/// The invitation form's fields.
struct InviteForm: Decodable, Sendable {
    var email: String
    var role: String
}

/// A role change's field.
struct RoleForm: Decodable {
    var role: String
}

/// `/organizations/{id}/members`.
struct MembersView: Sendable {
    var members: [MemberRow]
    var invitations: [InvitationRow]
    var hasInvitations: Bool
    var canInvite: Bool
    var email: String
    var roles: [Choice]
}

/// One member, with the forms the person may use on them.
struct MemberRow: Sendable {
    var id: String
    var name: String
    var email: String
    var role: String
    var isMe: Bool
    var canEditRole: Bool
    var canRemove: Bool
    var rolePath: String
    var removePath: String
    var roles: [Choice]

    init(_ member: Member, path: String, isMe: Bool, canEditRole: Bool, canRemove: Bool) {
        id = member.user.id.lowercased
        name = member.user.firstName + " " + member.user.lastName
        email = member.user.email
        role = member.role.rawValue
        self.isMe = isMe
        self.canEditRole = canEditRole
        self.canRemove = canRemove
        rolePath = path + "/members/" + id + "/role"
        removePath = path + "/members/" + id + "/remove"
        let rowID = id
        roles = ["viewer", "editor"].map {
            Choice(value: $0, selected: $0 == member.role.rawValue, id: rowID + "-" + $0)
        }
    }
}

/// One pending invitation.
struct InvitationRow: Sendable {
    var email: String
    var role: String
    var sentAt: String
    var expiresAt: String
    var resendPath: String
    var deletePath: String

    init(_ invitation: PendingInvitation, path: String) {
        email = invitation.email
        role = invitation.role.rawValue
        sentAt = AttemptRow.readable(invitation.createdAt)
        expiresAt = AttemptRow.readable(invitation.expiresAt)
        let base = path + "/invitations/" + invitation.id.lowercased
        resendPath = base + "/resend"
        deletePath = base + "/delete"
    }
}
