import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/applications` and `/application_secrets`.
struct ApplicationRoutes<Store: FerryStore> {
    let api: APIContext<Store>

    func register(on router: Router<FerryRequestContext>) {
        router.get("/api/v1/applications") { request, _ in
            let organization = try await api.access.organization(
                try Query.uuid(request, "organization_id"), for: try await api.caller(request), .applicationList)
            let applications = try await api.store.applications(organizationID: organization.id)
            return JSONBody.response(.array(applications.map(Representation.application)))
        }
        router.post("/api/v1/applications") { request, _ in
            let caller = try await api.caller(request)
            let body = try await JSONBody.decode(ApplicationBody.self, from: request)
            let organization = try await api.access.organization(
                body.organizationID.value, for: caller, .applicationCreate)
            try Self.validate(name: body.name)
            try Self.validate(retention: body.retention)
            var (application, _) = try await api.store.createApplication(
                organizationID: organization.id, name: body.name)
            if case .set(let days) = body.retention,
                let updated = try await api.store.setApplicationRetention(id: application.id, days: days)
            {
                application = updated
            }
            return JSONBody.response(Representation.application(application), status: .created)
        }
        router.get("/api/v1/applications/:application_id") { request, context in
            let application = try await api.access.application(
                try Query.pathUUID(context, "application_id"), for: try await api.caller(request), .applicationGet)
            return JSONBody.response(try await info(application))
        }
        router.put("/api/v1/applications/:application_id") { request, context in
            let caller = try await api.caller(request)
            let application = try await api.access.application(
                try Query.pathUUID(context, "application_id"), for: caller, .applicationEdit)
            let body = try await JSONBody.decode(ApplicationBody.self, from: request)
            try Self.validate(name: body.name)
            try Self.validate(retention: body.retention)
            guard var renamed = try await api.store.renameApplication(id: application.id, name: body.name) else {
                throw ProblemCatalog.notFound
            }
            if body.retention != .keep {
                let days: Int? = if case .set(let days) = body.retention { days } else { nil }
                guard let updated = try await api.store.setApplicationRetention(id: application.id, days: days) else {
                    throw ProblemCatalog.notFound
                }
                renamed = updated
            }
            return JSONBody.response(Representation.application(renamed))
        }
        router.delete("/api/v1/applications/:application_id") { request, context in
            let application = try await api.access.application(
                try Query.pathUUID(context, "application_id"), for: try await api.caller(request), .applicationDelete)
            guard try await api.store.deleteApplication(id: application.id) else { throw ProblemCatalog.notFound }
            return JSONBody.noContent()
        }
        registerSecrets(on: router)
    }

    private func registerSecrets(on router: Router<FerryRequestContext>) {
        router.get("/api/v1/application_secrets") { request, _ in
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .applicationSecretList)
            let secrets = try await api.store.applicationSecrets(applicationID: application.id)
            return JSONBody.response(.array(secrets.map(Representation.applicationSecret)))
        }
        router.post("/api/v1/application_secrets") { request, _ in
            let caller = try await api.caller(request)
            let body = try await JSONBody.decode(ApplicationSecretBody.self, from: request)
            let application = try await api.access.application(
                body.applicationID.value, for: caller, .applicationSecretCreate)
            try Self.validate(secretName: body.name)
            let secret = try await api.store.createApplicationSecret(applicationID: application.id, name: body.name)
            return JSONBody.response(Representation.applicationSecret(secret), status: .created)
        }
        router.put("/api/v1/application_secrets/:token") { request, context in
            let caller = try await api.caller(request)
            let token = try Query.pathUUID(context, "token")
            let body = try await JSONBody.decode(ApplicationSecretBody.self, from: request)
            let application = try await api.access.application(
                body.applicationID.value, for: caller, .applicationSecretEdit)
            try Self.validate(secretName: body.name)
            guard
                let secret = try await api.store.renameApplicationSecret(
                    applicationID: application.id, token: token, name: body.name)
            else { throw ProblemCatalog.notFound }
            return JSONBody.response(Representation.applicationSecret(secret))
        }
        router.delete("/api/v1/application_secrets/:token") { request, context in
            let token = try Query.pathUUID(context, "token")
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .applicationSecretDelete)
            guard try await api.store.deleteApplicationSecret(applicationID: application.id, token: token) else {
                throw ProblemCatalog.notFound
            }
            return JSONBody.noContent()
        }
    }

    /// Hook0's order: the field validator first (so `""` is 422 `Validation`), then the blank check (400).
    private static func validate(name: String) throws {
        var errors = ValidationErrors()
        Validator.length(name, field: "name", min: 2, max: 50, into: &errors)
        if !errors.isEmpty { throw Problem(DomainError.validation(errors)) }
        if name.trimmingCharacters(in: .whitespaces).isEmpty { throw ProblemCatalog.applicationNameMissing }
    }

    private static func validate(retention: RetentionChange) throws {
        guard case .set(let days) = retention, !(1...36_500).contains(days) else { return }
        var errors = ValidationErrors()
        errors.add(
            "days_of_events_retention_limit",
            ValidationIssue(
                code: "range", message: "between 1 and 36500 days",
                params: ["min": .number(1), "max": .number(36_500), "value": .number(Double(days))]))
        throw Problem(DomainError.validation(errors))
    }

    private static func validate(secretName name: String?) throws {
        guard let name else { return }
        var errors = ValidationErrors()
        Validator.length(name, field: "name", min: 0, max: 50, into: &errors)
        if !errors.isEmpty { throw Problem(DomainError.validation(errors)) }
    }

    /// ApplicationInfo: the application with quotas, today's consumption and onboarding progress.
    private func info(_ application: FerryCore.Application) async throws -> JSONValue {
        let today = Timestamp.parseDay(Timestamp.formatDay(Date())) ?? Date()
        let eventsToday = try await api.store.eventsPerDay(applicationIDs: [application.id], from: today, to: today)
            .reduce(0) { $0 + $1.amount }
        let hasEventType = try await !api.store.eventTypes(applicationID: application.id).isEmpty
        let hasSubscription = try await !api.store.subscriptions(applicationID: application.id).isEmpty
        let hasEvent = try await !api.store.events(applicationID: application.id, limit: 1).isEmpty
        let unlimited = JSONValue.number(Double(Int32.max))
        func step(_ done: Bool) -> JSONValue { .string(done ? "Done" : "ToDo") }
        return .object([
            "application_id": Representation.uuid(application.id),
            "organization_id": Representation.uuid(application.organizationID), "name": .string(application.name),
            "quotas": .object([
                "events_per_day_limit": unlimited,
                "days_of_events_retention_limit": .number(
                    Double(application.retentionDays ?? api.configuration.retentionDays)),
            ]),
            "consumption": .object(["events_per_day": .number(Double(eventsToday))]),
            "onboarding_steps": .object([
                "event_type": step(hasEventType), "subscription": step(hasSubscription), "event": step(hasEvent),
            ]),
        ])
    }
}
