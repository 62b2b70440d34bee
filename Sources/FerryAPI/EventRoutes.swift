import FerryCore
import FerryIdentity
import FerryObservability
import FerryStorage
import Foundation
import Hummingbird

/// `/event` (ingest), `/events` (list, get, replay) and `/events_per_day`.
struct EventRoutes<Store: FerryStore> {
    let api: APIContext<Store>

    func register(on router: Router<FerryRequestContext>) {
        router.post("/api/v1/event") { request, context in try await ingest(request, clientIP: context.clientIP) }
        router.get("/api/v1/events") { request, _ in
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .eventList)
            let events = try await api.store.events(applicationID: application.id, limit: 100)
            return JSONBody.response(.array(events.map { Representation.event($0, includePayload: false) }))
        }
        router.get("/api/v1/events/:event_id") { request, context in
            let id = try Query.pathUUID(context, "event_id")
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .eventGet)
            guard let event = try await api.store.event(id: id, applicationID: application.id) else {
                throw ProblemCatalog.notFound
            }
            return JSONBody.response(Representation.event(event, includePayload: true))
        }
        router.post("/api/v1/events/:event_id/replay") { request, context in
            let id = try Query.pathUUID(context, "event_id")
            let caller = try await api.caller(request)
            let body = try await JSONBody.decode(ReplayBody.self, from: request)
            let application = try await api.access.application(body.applicationID.value, for: caller, .eventReplay)
            guard try await api.store.replay(eventID: id, applicationID: application.id) else {
                throw ProblemCatalog.notFound
            }
            return JSONBody.noContent()
        }
        router.get("/api/v1/events_per_day/application") { request, _ in
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .eventsPerDayApplication)
            return try await eventsPerDay(request, applications: [application])
        }
        router.get("/api/v1/events_per_day/organization") { request, _ in
            let organization = try await api.access.organization(
                try Query.uuid(request, "organization_id"), for: try await api.caller(request),
                .eventsPerDayOrganization)
            return try await eventsPerDay(
                request, applications: try await api.store.applications(organizationID: organization.id))
        }
    }

    private func ingest(_ request: Request, clientIP: String) async throws -> Response {
        let started = ContinuousClock.now
        let caller = try await api.caller(request)
        let body = try await JSONBody.decode(EventBody.self, from: request)
        let application = try await api.access.application(body.applicationID.value, for: caller, .eventIngest)
        let submission = body.submission
        let event = try CatalogRoutes<Store>.domain {
            try submission.validated(receivedAt: Date(), ip: clientIP)
        }
        let stored: Event
        do {
            stored = try await api.store.ingest(event)
        } catch let error as DomainError {
            throw Problem(error)
        }
        api.configuration.metrics.eventIngested(
            applicationID: application.id, eventType: stored.eventType, duration: ContinuousClock.now - started)
        return JSONBody.response(
            .object([
                "application_id": Representation.uuid(application.id), "event_id": Representation.uuid(stored.id),
                "received_at": Representation.date(stored.receivedAt),
            ]), status: .created)
    }

    private func eventsPerDay(_ request: Request, applications: [FerryCore.Application]) async throws -> Response {
        let todayText = Timestamp.formatDay(Date())
        let to = try Query.string(request, "to").map(Self.day) ?? (Timestamp.parseDay(todayText) ?? Date())
        let from = try Query.string(request, "from").map(Self.day) ?? to.addingTimeInterval(-30 * 86_400)
        guard from <= to else { throw ProblemCatalog.invalidDateRange }
        let names = Dictionary(applications.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let entries = try await api.store.eventsPerDay(applicationIDs: applications.map(\.id), from: from, to: to)
        return JSONBody.response(
            .array(
                entries.map { entry in
                    Representation.eventsPerDay(
                        entry, applicationName: names[entry.applicationID] ?? "", today: todayText)
                }))
    }

    private static func day(_ text: String) throws -> Date {
        if let day = Timestamp.parseDay(text) { return day }
        if let date = Timestamp.parse(text) { return Timestamp.parseDay(Timestamp.formatDay(date)) ?? date }
        throw ProblemCatalog.jsonPayload.with(detail: "`\(text)` is not a date (YYYY-MM-DD)")
    }
}
