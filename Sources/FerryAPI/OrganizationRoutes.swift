import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/organizations`: list, create (a person or the master key), get, rename, delete.
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
        try api.access.authorize(try await api.caller(request), AuthorizationRequest(action: .organizationCreate))
        let body = try await JSONBody.decode(OrganizationBody.self, from: request)
        try Self.validate(name: body.name)
        let organization = try await api.store.createOrganization(name: body.name)
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
                "plan": .null, "users": .array([]),
                "quotas": .object([
                    "members_per_organization_limit": unlimited, "applications_per_organization_limit": unlimited,
                    "events_per_day_limit": unlimited, "days_of_events_retention_limit": unlimited,
                ]),
                "consumption": .object([
                    "members": .number(0), "applications": .number(Double(applications.count)),
                    "events_per_day": .number(Double(eventsToday)),
                ]),
                "onboarding_steps": .object([
                    "application": step(hasApplication), "event_type": step(hasEventType),
                    "subscription": step(hasSubscription), "event": step(eventsToday > 0),
                ]),
            ]))
    }
}
