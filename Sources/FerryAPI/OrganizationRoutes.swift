import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/organizations`: list, create (a person or the master key), get, rename, delete; members through Hook0's
/// `/invite` routes, and (Ferry's) pending invitations of people who have no account yet.
struct OrganizationRoutes<Store: FerryStore> {
    let api: APIContext<Store>

    func register(on router: Router<FerryRequestContext>) {
        router.get("/api/v1/organizations") { request, _ in try await list(request) }
        router.post("/api/v1/organizations") { request, _ in try await create(request) }
        router.get("/api/v1/organizations/:organization_id") { request, context in
            try await info(
                try await api.access.organization(
                    try Query.pathUUID(context, "organization_id"), for: try await api.caller(request),
                    .organizationGet))
        }
        router.put("/api/v1/organizations/:organization_id") { request, context in
            try await rename(request, id: try Query.pathUUID(context, "organization_id"))
        }
        router.delete("/api/v1/organizations/:organization_id") { request, context in
            let organization = try await api.access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await api.caller(request),
                .organizationDelete)
            guard try await api.store.deleteOrganization(id: organization.id) else { throw ProblemCatalog.notFound }
            return JSONBody.noContent()
        }
        router.post("/api/v1/organizations/:organization_id/invite") { request, context in
            try await invite(request, organizationID: try Query.pathUUID(context, "organization_id"))
        }
        router.put("/api/v1/organizations/:organization_id/invite") { request, context in
            try await changeRole(request, organizationID: try Query.pathUUID(context, "organization_id"))
        }
        router.delete("/api/v1/organizations/:organization_id/invite") { request, context in
            try await revoke(request, organizationID: try Query.pathUUID(context, "organization_id"))
        }
        router.get("/api/v1/organizations/:organization_id/invitations") { request, context in
            let organization = try await api.access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await api.caller(request),
                .organizationInvite)
            let pending = try await api.store.invitations(organizationID: organization.id, at: Date())
            return JSONBody.response(.array(pending.map(Representation.invitation)))
        }
        router.delete("/api/v1/organizations/:organization_id/invitations/:invitation_id") { request, context in
            let organization = try await api.access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await api.caller(request),
                .organizationRevoke)
            guard
                try await api.store.deleteInvitation(
                    id: try Query.pathUUID(context, "invitation_id"), organizationID: organization.id)
            else { throw ProblemCatalog.notFound }
            return JSONBody.noContent()
        }
    }

    /// Hook0 adds an existing account at once and answers 404 for an unknown address; Ferry creates a pending
    /// invitation for it instead and mails a single-use link that registers and joins. Both answer Hook0's echo.
    private func invite(_ request: Request, organizationID: UUID) async throws -> Response {
        let organization = try await api.access.organization(
            organizationID, for: try await api.caller(request), .organizationInvite)
        let body = try await JSONBody.decode(InviteBody.self, from: request)
        let role = try OrganizationRole.parse(body.role)
        guard EmailAddress.isValid(body.email.trimmingCharacters(in: .whitespaces)) else {
            var errors = ValidationErrors()
            errors.add("email", ValidationIssue(code: "email", message: nil))
            throw Problem(DomainError.validation(errors))
        }
        if let (user, _) = try await api.store.userCredentials(email: body.email) {
            try await api.store.addMember(organizationID: organization.id, userID: user.id, role: role)
        } else {
            let now = Date()
            let secret = Self.randomSecret()
            let invitation = PendingInvitation(
                id: UUID(), organizationID: organization.id, email: body.email.trimmingCharacters(in: .whitespaces),
                role: role, createdAt: now,
                expiresAt: now.addingTimeInterval(Double(AccountMail.invitationLifetime.components.seconds)))
            let mail = AccountMail(publicURL: api.configuration.publicURL).invitation(
                to: invitation.email, organization: organization, role: role, secret: secret)
            try await api.store.createInvitation(
                invitation, secretHash: AuthRoutes<Store>.secretHash(secret), mail: mail)
        }
        return JSONBody.response(.object(["email": .string(body.email), "role": .string(role.rawValue)]))
    }

    /// Hook0: a person may not change their own role (403); a non-member is echoed unchanged. Ferry adds: the
    /// last editor cannot be demoted (403).
    private func changeRole(_ request: Request, organizationID: UUID) async throws -> Response {
        let caller = try await api.caller(request)
        try await api.access.organization(organizationID, for: caller, .organizationEditRole)
        let body = try await JSONBody.decode(RoleChangeBody.self, from: request)
        let role = try OrganizationRole.parse(body.role)
        if case .person(let me, _, _) = RequestAuthorizer.identity(of: caller), me == body.userID.value {
            throw ProblemCatalog.forbidden
        }
        _ = try await api.store.setMemberRole(organizationID: organizationID, userID: body.userID.value, role: role)
        return JSONBody.response(
            .object(["user_id": Representation.uuid(body.userID.value), "role": .string(role.rawValue)]))
    }

    /// Hook0's revoke, echoing the body; the last editor cannot be removed (403).
    private func revoke(_ request: Request, organizationID: UUID) async throws -> Response {
        try await api.access.organization(organizationID, for: try await api.caller(request), .organizationRevoke)
        let body = try await JSONBody.decode(RevokeBody.self, from: request)
        _ = try await api.store.removeMember(organizationID: organizationID, userID: body.userID.value)
        return JSONBody.response(.object(["user_id": Representation.uuid(body.userID.value)]))
    }

    /// 32 random bytes, URL-safe base64: an invitation link's secret.
    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private func list(_ request: Request) async throws -> Response {
        let caller = try await api.caller(request)
        let listed: [(Organization, String)]
        switch try api.access.authorize(caller, AuthorizationRequest(action: .organizationList)) {
        case .master:
            listed = try await api.store.organizations(ids: nil).map { ($0, "master") }
        case .service(let id):
            listed = try await api.store.organizations(ids: [id]).map { ($0, "editor") }
        case .person(_, _, let memberships):
            listed = try await api.store.organizations(ids: Array(memberships.keys)).compactMap { organization in
                memberships[organization.id].map { (organization, $0.rawValue) }
            }
        }
        return JSONBody.response(.array(listed.map { Representation.organization($0.0, role: $0.1) }))
    }

    private func create(_ request: Request) async throws -> Response {
        let caller = try api.access.authorize(
            try await api.caller(request), AuthorizationRequest(action: .organizationCreate))
        let body = try await JSONBody.decode(OrganizationBody.self, from: request)
        try Self.validate(name: body.name)
        let organization: Organization
        if case .person(let user, _, _) = caller {
            organization = try await api.store.createOrganization(name: body.name, editor: user)
        } else {
            organization = try await api.store.createOrganization(name: body.name)
        }
        return try await info(organization)
    }

    private func rename(_ request: Request, id: UUID) async throws -> Response {
        let organization = try await api.access.organization(id, for: try await api.caller(request), .organizationEdit)
        let body = try await JSONBody.decode(OrganizationBody.self, from: request)
        try Self.validate(name: body.name)
        guard let renamed = try await api.store.renameOrganization(id: organization.id, name: body.name) else {
            throw ProblemCatalog.notFound
        }
        return try await info(renamed)
    }

    /// Hook0's order: the field validator first (so `""` is 422 `Validation`), then the blank check (400).
    private static func validate(name: String) throws {
        var errors = ValidationErrors()
        Validator.length(name, field: "name", min: 2, max: 50, into: &errors)
        if !errors.isEmpty { throw Problem(DomainError.validation(errors)) }
        if name.trimmingCharacters(in: .whitespaces).isEmpty { throw ProblemCatalog.organizationNameMissing }
    }

    /// OrganizationInfo: the organization with quotas, consumption and onboarding progress.
    private func info(_ organization: Organization) async throws -> Response {
        let applications = try await api.store.applications(organizationID: organization.id)
        let today = Timestamp.parseDay(Timestamp.formatDay(Date())) ?? Date()
        let eventsToday = try await api.store.eventsPerDay(
            applicationIDs: applications.map(\.id), from: today, to: today
        ).reduce(0) { $0 + $1.amount }
        let members = try await api.store.members(organizationID: organization.id)
        let unlimited = JSONValue.number(Double(Int32.max))
        let hasApplication = !applications.isEmpty
        var hasEventType = false
        var hasSubscription = false
        for application in applications where !(hasEventType && hasSubscription) {
            if try await !api.store.eventTypes(applicationID: application.id).isEmpty { hasEventType = true }
            if try await !api.store.subscriptions(applicationID: application.id).isEmpty { hasSubscription = true }
        }
        func step(_ done: Bool) -> JSONValue { .string(done ? "Done" : "ToDo") }
        return JSONBody.response(
            .object([
                "organization_id": Representation.uuid(organization.id), "name": .string(organization.name),
                "plan": .null, "users": .array(members.map(Representation.member)),
                "quotas": .object([
                    "members_per_organization_limit": unlimited, "applications_per_organization_limit": unlimited,
                    "events_per_day_limit": unlimited, "days_of_events_retention_limit": unlimited,
                ]),
                "consumption": .object([
                    "members": .number(Double(members.count)), "applications": .number(Double(applications.count)),
                    "events_per_day": .number(Double(eventsToday)),
                ]),
                "onboarding_steps": .object([
                    "application": step(hasApplication), "event_type": step(hasEventType),
                    "subscription": step(hasSubscription), "event": step(eventsToday > 0),
                ]),
            ]))
    }
}
