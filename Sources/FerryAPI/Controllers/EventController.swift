import FerryCore
import FerryIdentity
import FerryObservability
import FerryStorage
import Foundation
import HTTPTypes
import Hummingbird

/// `/event` (ingest), `/events` (list, get, replay) and `/events_per_day`.
struct EventController<Store: TenantStore & EventStore> {
    let store: Store
    let access: AccessControl<Store>
    let metrics: FerryMetrics
    /// Most events one `POST /event/batch` may carry.
    let maxBatchEvents: Int
    /// The event types' payload schemas, checked before anything is stored.
    let payloadSchemas: PayloadSchemas

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.post("event") { request, context in try await ingest(request, context: context) }
        group.post("event/batch") { request, context in try await ingestBatch(request, context: context) }
        group.get("events") { request, context in
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .eventList)
            let events = try await store.events(applicationID: application.id, limit: 100)
            return JSONBody.response(.array(events.map { Representation.event($0, includePayload: false) }))
        }
        group.get("events/:event_id") { request, context in
            let id = try Query.pathUUID(context, "event_id")
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .eventGet)
            guard let event = try await store.event(id: id, applicationID: application.id) else {
                throw DomainError.notFound
            }
            return JSONBody.response(Representation.event(event, includePayload: true))
        }
        group.post("events/:event_id/replay") { request, context in
            let id = try Query.pathUUID(context, "event_id")
            let caller = try await context.caller()
            let body = try await JSONBody.decode(ReplayBody.self, from: request)
            let application = try await access.application(body.applicationID.value, for: caller, .eventReplay)
            guard try await store.replay(eventID: id, applicationID: application.id) else {
                throw DomainError.notFound
            }
            return JSONBody.noContent()
        }
        group.get("events_per_day/application") { request, context in
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .eventsPerDayApplication)
            return try await eventsPerDay(request, applications: [application])
        }
        group.get("events_per_day/organization") { request, context in
            let organization = try await access.organization(
                namedByQueryOf: request, for: try await context.caller(), .eventsPerDayOrganization)
            return try await eventsPerDay(
                request, applications: try await store.applications(organizationID: organization.id))
        }
    }

    private func ingest(_ request: Request, context: FerryRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let caller = try await context.caller()
        let key = try idempotencyKey(of: request)
        let body = try await JSONBody.decode(EventBody.self, from: request, directly: EventBodyParser.event)
        let application = try await access.applicationForIngest(body.applicationID.value, for: caller)
        var submission = body.submission
        if let key, submission.eventID == nil { submission.eventID = key.eventID(applicationID: application.id) }
        let event = try submission.validated(receivedAt: Date(), ip: context.clientIP)
        try await payloadSchemas.check(event)
        let stored: Event
        do {
            stored = try await store.ingest(event)
        } catch DomainError.eventAlreadyIngested where key != nil {
            return try await firstAnswer(to: event, application: application)
        }
        metrics.eventIngested(
            applicationID: application.id, eventType: stored.eventType, duration: ContinuousClock.now - started)
        return Self.ingested(stored, application: application)
    }

    private static func ingested(_ event: Event, application: FerryCore.Application) -> Response {
        JSONBody.response(
            .object([
                "application_id": Representation.uuid(application.id), "event_id": Representation.uuid(event.id),
                "received_at": Representation.date(event.receivedAt),
            ]), status: .created)
    }

    /// Ferry's batch ingest: each event of the batch is authorized, validated and stored as `POST /event` would,
    /// and answered on its own (201 with the ingested event, or its problem) in one 200 answer sent once every
    /// stored event is durable. The request as a whole fails only when it is unreadable, empty, too large or
    /// unauthenticated.
    private func ingestBatch(_ request: Request, context: FerryRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let caller = try await context.caller()
        if let name = HTTPField.Name("idempotency-key"), request.headers[name] != nil {
            throw ProblemCatalog.jsonPayload.with(
                detail: "Idempotency-Key applies to POST /event; in a batch, give each event its own event_id")
        }
        let body = try await JSONBody.decode(EventBatchBody.self, from: request, directly: EventBodyParser.batch)
        guard !body.events.isEmpty else {
            throw ProblemCatalog.jsonPayload.with(detail: "`events` must hold at least one event")
        }
        guard body.events.count <= maxBatchEvents else {
            throw ProblemCatalog.jsonPayload.with(
                detail: "a batch holds at most \(maxBatchEvents) events; this one has \(body.events.count)")
        }
        let receivedAt = Date()
        var answers = [BatchAnswer](repeating: .refused(ProblemCatalog.internalServerError), count: body.events.count)
        var authorized: [UUID: Result<FerryCore.Application, Problem>] = [:]
        var toStore: [(index: Int, event: Event)] = []
        for (index, item) in body.events.enumerated() {
            do {
                let eventBody = try item.body.get()
                let applicationID = eventBody.applicationID.value
                let application: FerryCore.Application
                if let known = authorized[applicationID] {
                    application = try known.get()
                } else {
                    do {
                        application = try await access.applicationForIngest(applicationID, for: caller)
                        authorized[applicationID] = .success(application)
                    } catch {
                        let problem = try Self.problem(for: error)
                        authorized[applicationID] = .failure(problem)
                        throw problem
                    }
                }
                let event = try eventBody.submission.validated(receivedAt: receivedAt, ip: context.clientIP)
                try await payloadSchemas.check(event)
                toStore.append((index, event))
            } catch {
                answers[index] = .refused(try Self.problem(for: error))
            }
        }
        if !toStore.isEmpty {
            let outcomes = try await store.ingest(batch: toStore.map(\.event))
            let elapsed = ContinuousClock.now - started
            for ((index, _), outcome) in zip(toStore, outcomes) {
                switch outcome {
                case .success(let event):
                    answers[index] = .stored(event)
                    metrics.eventIngested(
                        applicationID: event.applicationID, eventType: event.eventType, duration: elapsed)
                case .failure(let error):
                    answers[index] = .refused(try Self.problem(for: error))
                }
            }
        }
        return JSONBody.response(.object(["results": .array(answers.map(\.jsonValue))]))
    }

    /// The problem one event of a batch is answered with; an error that is no refusal of that event (a bug, a
    /// failed statement) fails the whole request, as it would fail `POST /event`.
    private static func problem(for error: any Error) throws -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let refusal as DomainError: return Problem(refusal)
        case let storage as StorageError where storage.isTransient: return ProblemCatalog.serviceUnavailable
        default: throw error
        }
    }

    /// The request's `Idempotency-Key`, if it sent one (400 when it is not 1 to 255 visible ASCII characters).
    private func idempotencyKey(of request: Request) throws -> IdempotencyKey? {
        guard let name = HTTPField.Name("idempotency-key"), let header = request.headers[name] else { return nil }
        guard let key = IdempotencyKey(header: header) else {
            throw ProblemCatalog.jsonPayload.with(
                detail: "the Idempotency-Key header must be 1 to \(IdempotencyKey.maxLength) visible ASCII characters")
        }
        return key
    }

    /// The answer the first request with this idempotency key got, marked `Idempotent-Replayed: true`, when the
    /// stored event is the one this request asks for; 409 when the key was used for another event.
    private func firstAnswer(to event: Event, application: FerryCore.Application) async throws -> Response {
        guard let first = try await store.event(id: event.id, applicationID: application.id),
            IdempotencyKey.isRepeat(event, of: first)
        else {
            throw ProblemCatalog.eventAlreadyIngested.with(
                detail: "This Idempotency-Key (or event_id) was already used for a different event; "
                    + "a repeated request must send the same event.")
        }
        var response = Self.ingested(first, application: application)
        if let name = HTTPField.Name("idempotent-replayed") { response.headers[name] = "true" }
        return response
    }

    private func eventsPerDay(_ request: Request, applications: [FerryCore.Application]) async throws -> Response {
        let todayText = Timestamp.formatDay(Date())
        let to = try Query.string(request, "to").map(Self.day) ?? (Timestamp.parseDay(todayText) ?? Date())
        let from = try Query.string(request, "from").map(Self.day) ?? to.addingTimeInterval(-30 * 86_400)
        guard from <= to else { throw DomainError.invalidDateRange }
        let names = Dictionary(applications.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let entries = try await store.eventsPerDay(applicationIDs: applications.map(\.id), from: from, to: to)
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
        throw DomainError.malformedBody("`\(text)` is not a date (YYYY-MM-DD)")
    }
}

/// What became of one event of a batch.
private enum BatchAnswer {
    case stored(Event)
    case refused(Problem)

    var jsonValue: JSONValue {
        switch self {
        case .stored(let event):
            .object([
                "status": .number(201), "application_id": Representation.uuid(event.applicationID),
                "event_id": Representation.uuid(event.id), "received_at": Representation.date(event.receivedAt),
            ])
        case .refused(let problem):
            .object(["status": .number(Double(problem.status.code)), "problem": problem.body])
        }
    }
}
