import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import HTTPTypes
import Hummingbird

/// `/request_attempts`: delivery attempts, filtered and cursor-paginated with a `Link` header; and, as Ferry
/// extensions, `/dead_letters` (the attempts that gave up, by subscription, time and reason), sending them again
/// in bounded, idempotent batches (`/dead_letters/recover`), and sending one attempt again to its own subscription
/// (`/request_attempts/{id}/retry`; Hook0's replay sends an event to every subscription).
struct RequestAttemptController<Store: TenantStore & AttemptStore> {
    static var pageSize: Int { 50 }
    /// Attempts one recovery call sends again when it names no limit, and the most it may name.
    static var defaultRecoveryBatch: Int { 1000 }
    static var maxRecoveryBatch: Int { 10_000 }

    let store: Store
    let access: AccessControl<Store>
    /// The base of the `Link` header's next-page URL.
    let publicURL: String

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("request_attempts") { request, context in
            try await list(request, caller: try await context.caller(), deadLetters: false)
        }
        group.get("dead_letters") { request, context in
            try await list(request, caller: try await context.caller(), deadLetters: true)
        }
        group.post("dead_letters/recover") { request, context in
            try await recover(request, caller: try await context.caller())
        }
        group.post("request_attempts/:request_attempt_id/retry") { request, context in
            let id = try Query.pathUUID(context, "request_attempt_id")
            let body = try await JSONBody.decode(ReplayBody.self, from: request)
            let application = try await access.application(
                body.applicationID.value, for: try await context.caller(), .eventReplay)
            guard let retried = try await store.retryAttempt(id: id, applicationID: application.id) else {
                throw DomainError.notFound
            }
            return JSONBody.response(.object(["request_attempt_id": .string(retried.lowercased)]), status: .created)
        }
        group.get("request_attempts/:request_attempt_id") { request, context in
            let id = try Query.pathUUID(context, "request_attempt_id")
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .requestAttemptGet)
            guard let attempt = try await store.requestAttempt(id: id, applicationID: application.id) else {
                throw DomainError.notFound
            }
            return JSONBody.response(Representation.requestAttempt(attempt, now: Date()))
        }
    }

    private func list(_ request: Request, caller: Caller, deadLetters: Bool) async throws -> Response {
        let eventTypes = Query.string(request, "event.event_type_names").map { text in
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let application = try await access.application(
            namedByQueryOf: request, for: caller, .requestAttemptList,
            facts: [AuthorizationRequest.eventTypeNames(eventTypes ?? [])])
        let cursor = try Query.string(request, "pagination_cursor").flatMap { $0.isEmpty ? nil : $0 }
            .map(PaginationCursor.decode)
        let query = AttemptQuery(
            applicationID: application.id, eventID: try Query.optionalUUID(request, "event_id"),
            subscriptionID: try Query.optionalUUID(request, "subscription_id"),
            minCreatedAt: try Query.date(request, "min_created_at"),
            maxCreatedAt: try Query.date(request, "max_created_at"),
            eventTypes: eventTypes, outcome: deadLetters ? .givenUp : nil,
            httpClass: deadLetters ? try Self.reasonClass(Query.string(request, "reason")) : nil, after: cursor,
            limit: Self.pageSize)
        let attempts = try await store.requestAttempts(query)
        let now = Date()
        var response = JSONBody.response(.array(attempts.map { Representation.requestAttempt($0, now: now) }))
        if let last = attempts.last {
            let next = PaginationCursor.encode(AttemptCursor(createdAt: last.createdAt, id: last.id))
            if let link = HTTPField.Name("link") {
                response.headers[link] =
                    "<\(nextURL(request, cursor: next, path: deadLetters ? "dead_letters" : "request_attempts"))>; "
                    + "rel=\"next\""
            }
        }
        return response
    }

    /// The same listing URL on the public base, with `pagination_cursor` replaced.
    private func nextURL(_ request: Request, cursor: String, path: String) -> String {
        var components = URLComponents()
        components.queryItems =
            request.uri.queryParameters
            .filter { $0.key != "pagination_cursor" }
            .map { URLQueryItem(name: String($0.key), value: String($0.value)) }
            + [URLQueryItem(name: "pagination_cursor", value: cursor)]
        let query = components.percentEncodedQuery ?? ""
        let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        return "\(base)/api/v1/\(path)?\(query)"
    }

    /// The dead letters' `reason` filter as a status class: `4xx` → 4 … `1xx` → 1, `no_answer` → 0.
    static func reasonClass(_ reason: String?) throws -> Int? {
        guard let reason else { return nil }
        if reason == "no_answer" { return 0 }
        if reason.count == 3, reason.hasSuffix("xx"), let digit = Int(reason.prefix(1)), (1...5).contains(digit) {
            return digit
        }
        throw ProblemCatalog.queryParameter(
            "the query parameter `reason` must be `no_answer` (no HTTP answer) or a status class, `1xx` to `5xx`")
    }

    /// Counts (always) and sends again (unless `dry_run`) the given-up attempts of one application, or of one of
    /// its subscriptions, created from `since` to `until` inclusive: at most `limit` per call, oldest first, to
    /// subscriptions still enabled. A recovered attempt is no longer given up, so calling again sends only what is
    /// left (`remaining`, which also counts attempts of disabled or deleted subscriptions: never sent), never
    /// anything twice.
    private func recover(_ request: Request, caller: Caller) async throws -> Response {
        let body = try await JSONBody.decode(RecoverBody.self, from: request)
        let application = try await access.application(body.applicationID.value, for: caller, .eventReplay)
        guard let since = Timestamp.parse(body.since) else {
            throw DomainError.malformedBody("since must be an RFC 3339 date-time")
        }
        // Never past now: the attempts this call creates are created now, and a range that held them would send
        // them again on the next call.
        var until = Date()
        if let text = body.until {
            guard let parsed = Timestamp.parse(text) else {
                throw DomainError.malformedBody("until must be an RFC 3339 date-time")
            }
            until = min(parsed, until)
        }
        guard since < until else { throw DomainError.invalidDateRange }
        let limit = body.limit ?? Self.defaultRecoveryBatch
        guard (1...Self.maxRecoveryBatch).contains(limit) else {
            throw DomainError.malformedBody("limit must be from 1 to \(Self.maxRecoveryBatch)")
        }
        let subscriptionID = body.subscriptionID?.value
        let range = AttemptQuery(
            applicationID: application.id, subscriptionID: subscriptionID, minCreatedAt: since,
            maxCreatedAt: until, outcome: .givenUp)
        let matching = try await store.countAttempts(range)
        var recovered = 0
        var remaining = matching
        if body.dryRun != true, matching > 0 {
            recovered = try await store.recoverGivenUp(
                applicationID: application.id, subscriptionID: subscriptionID, from: since, to: until, limit: limit)
            remaining = try await store.countAttempts(range)
        }
        return JSONBody.response(
            .object([
                "matching": .number(Double(matching)), "recovered": .number(Double(recovered)),
                "remaining": .number(Double(remaining)), "since": .string(Timestamp.format(since)),
                "until": .string(Timestamp.format(until)), "dry_run": .bool(body.dryRun == true),
            ]))
    }
}

/// The opaque pagination cursor: URL-safe base64 (with padding) of `{"date": RFC 3339, "id": uuid}`, as Hook0.
enum PaginationCursor {
    static func encode(_ cursor: AttemptCursor) -> String {
        let json = JSONValue.object([
            "date": .string(Timestamp.format(cursor.createdAt)), "id": .string(cursor.id.lowercased),
        ])
        let data = Data(json.encoded())
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_")
    }

    static func decode(_ text: String) throws -> AttemptCursor {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data),
            case .string(let dateText)? = object["date"], case .string(let idText)? = object["id"],
            let date = Timestamp.parse(dateText), let id = UUID(uuidString: idText)
        else { throw DomainError.malformedBody("pagination_cursor is not a cursor this server issued") }
        return AttemptCursor(createdAt: date, id: id)
    }
}
