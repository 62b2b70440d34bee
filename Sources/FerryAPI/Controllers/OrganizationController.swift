import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/organizations`: list, create (a person or the master key), get (OrganizationInfo), rename, delete.
struct OrganizationController<Store: TenantStore & IdentityStore & CatalogStore & EventStore> {
    let store: Store
    let access: AccessControl<Store>

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("organizations") { _, context in try await list(caller: try await context.caller()) }
        group.post("organizations") { request, context in try await create(request, caller: try await context.caller())
        }
        group.get("organizations/:organization_id") { _, context in
            try await info(
                try await access.organization(
                    try Query.pathUUID(context, "organization_id"), for: try await context.caller(), .organizationGet))
        }
        group.put("organizations/:organization_id") { request, context in
            let organization = try await access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await context.caller(), .organizationEdit)
            let body = try await JSONBody.decode(OrganizationBody.self, from: request)
            try ResourceRules.validateOrganizationName(body.name)
            guard let renamed = try await store.renameOrganization(id: organization.id, name: body.name) else {
                throw DomainError.notFound
            }
            return try await info(renamed)
        }
        group.delete("organizations/:organization_id") { _, context in
            let organization = try await access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await context.caller(), .organizationDelete)
            guard try await store.deleteOrganization(id: organization.id) else { throw DomainError.notFound }
            return JSONBody.noContent()
        }
    }

    private func list(caller: Caller) async throws -> Response {
        let listed: [(Organization, String)]
        switch try access.authorize(caller, AuthorizationRequest(action: .organizationList)) {
        case .master:
            listed = try await store.organizations(ids: nil).map { ($0, "master") }
        case .service(let id):
            listed = try await store.organizations(ids: [id]).map { ($0, "editor") }
        case .person(_, _, let memberships):
            listed = try await store.organizations(ids: Array(memberships.keys)).compactMap { organization in
                memberships[organization.id].map { (organization, $0.rawValue) }
            }
        }
        return JSONBody.response(.array(listed.map { Representation.organization($0.0, role: $0.1) }))
    }

    private func create(_ request: Request, caller: Caller) async throws -> Response {
        let caller = try access.authorize(caller, AuthorizationRequest(action: .organizationCreate))
        let body = try await JSONBody.decode(OrganizationBody.self, from: request)
        try ResourceRules.validateOrganizationName(body.name)
        let organization: Organization
        if case .person(let user, _, _) = caller {
            organization = try await store.createOrganization(name: body.name, editor: user)
        } else {
            organization = try await store.createOrganization(name: body.name)
        }
        return try await info(organization)
    }

    /// OrganizationInfo: the organization with quotas, consumption and onboarding progress.
    private func info(_ organization: Organization) async throws -> Response {
        let applications = try await store.applications(organizationID: organization.id)
        let today = Timestamp.parseDay(Timestamp.formatDay(Date())) ?? Date()
        let eventsToday = try await store.eventsPerDay(
            applicationIDs: applications.map(\.id), from: today, to: today
        ).reduce(0) { $0 + $1.amount }
        let members = try await store.members(organizationID: organization.id)
        let unlimited = JSONValue.number(Double(Int32.max))
        let hasApplication = !applications.isEmpty
        var hasEventType = false
        var hasSubscription = false
        for application in applications where !(hasEventType && hasSubscription) {
            if try await !store.eventTypes(applicationID: application.id).isEmpty { hasEventType = true }
            if try await !store.subscriptions(applicationID: application.id).isEmpty { hasSubscription = true }
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
