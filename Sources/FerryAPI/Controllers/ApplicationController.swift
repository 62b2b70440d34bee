import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/applications`: list, create, get (ApplicationInfo), edit, delete.
struct ApplicationController<Store: TenantStore & CatalogStore & EventStore & RetentionStore> {
    let store: Store
    let access: AccessControl<Store>
    /// Retention of applications that set none (shown in ApplicationInfo's quotas).
    let defaultRetentionDays: Int

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("applications") { request, context in
            let organization = try await access.organization(
                namedByQueryOf: request, for: try await context.caller(), .applicationList)
            let applications = try await store.applications(organizationID: organization.id)
            return JSONBody.response(.array(applications.map(Representation.application)))
        }
        group.post("applications") { request, context in
            let caller = try await context.caller()
            let body = try await JSONBody.decode(ApplicationBody.self, from: request)
            let organization = try await access.organization(body.organizationID.value, for: caller, .applicationCreate)
            try Self.validate(body)
            var (application, _) = try await store.createApplication(organizationID: organization.id, name: body.name)
            if case .set(let days) = body.retention,
                let updated = try await store.setApplicationRetention(id: application.id, days: days)
            {
                application = updated
            }
            return JSONBody.response(Representation.application(application), status: .created)
        }
        group.get("applications/:application_id") { _, context in
            let application = try await access.application(
                try Query.pathUUID(context, "application_id"), for: try await context.caller(), .applicationGet)
            return JSONBody.response(try await info(application))
        }
        group.put("applications/:application_id") { request, context in
            let application = try await access.application(
                try Query.pathUUID(context, "application_id"), for: try await context.caller(), .applicationEdit)
            let body = try await JSONBody.decode(ApplicationBody.self, from: request)
            try Self.validate(body)
            guard var renamed = try await store.renameApplication(id: application.id, name: body.name) else {
                throw DomainError.notFound
            }
            if body.retention != .keep {
                let days: Int? = if case .set(let days) = body.retention { days } else { nil }
                guard let updated = try await store.setApplicationRetention(id: application.id, days: days) else {
                    throw DomainError.notFound
                }
                renamed = updated
            }
            return JSONBody.response(Representation.application(renamed))
        }
        group.delete("applications/:application_id") { _, context in
            let application = try await access.application(
                try Query.pathUUID(context, "application_id"), for: try await context.caller(), .applicationDelete)
            guard try await store.deleteApplication(id: application.id) else { throw DomainError.notFound }
            return JSONBody.noContent()
        }
    }

    private static func validate(_ body: ApplicationBody) throws {
        try ResourceRules.validateApplicationName(body.name)
        if case .set(let days) = body.retention { try ResourceRules.validateRetention(days: days) }
    }

    /// ApplicationInfo: the application with quotas, today's consumption and onboarding progress.
    private func info(_ application: FerryCore.Application) async throws -> JSONValue {
        let today = Timestamp.parseDay(Timestamp.formatDay(Date())) ?? Date()
        let eventsToday = try await store.eventsPerDay(applicationIDs: [application.id], from: today, to: today)
            .reduce(0) { $0 + $1.amount }
        let hasEventType = try await !store.eventTypes(applicationID: application.id).isEmpty
        let hasSubscription = try await !store.subscriptions(applicationID: application.id).isEmpty
        let hasEvent = try await !store.events(applicationID: application.id, limit: 1).isEmpty
        let unlimited = JSONValue.number(Double(Int32.max))
        func step(_ done: Bool) -> JSONValue { .string(done ? "Done" : "ToDo") }
        return .object([
            "application_id": Representation.uuid(application.id),
            "organization_id": Representation.uuid(application.organizationID), "name": .string(application.name),
            "quotas": .object([
                "events_per_day_limit": unlimited,
                "days_of_events_retention_limit": .number(Double(application.retentionDays ?? defaultRetentionDays)),
            ]),
            "consumption": .object(["events_per_day": .number(Double(eventsToday))]),
            "onboarding_steps": .object([
                "event_type": step(hasEventType), "subscription": step(hasSubscription), "event": step(hasEvent),
            ]),
        ])
    }
}
