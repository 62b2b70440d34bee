import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import HTTPTypes
import Hummingbird

/// `/request_attempts`: delivery attempts, filtered and cursor-paginated with a `Link` header.
struct RequestAttemptController<Store: TenantStore & AttemptStore> {
    static var pageSize: Int { 50 }

    let store: Store
    let access: AccessControl<Store>
    /// The base of the `Link` header's next-page URL.
    let publicURL: String

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("request_attempts") { request, context in try await list(request, caller: try await context.caller())
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

    private func list(_ request: Request, caller: Caller) async throws -> Response {
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
            eventTypes: eventTypes, after: cursor, limit: Self.pageSize)
        let attempts = try await store.requestAttempts(query)
        let now = Date()
        var response = JSONBody.response(.array(attempts.map { Representation.requestAttempt($0, now: now) }))
        if let last = attempts.last {
            let next = PaginationCursor.encode(AttemptCursor(createdAt: last.createdAt, id: last.id))
            if let link = HTTPField.Name("link") {
                response.headers[link] = "<\(nextURL(request, cursor: next))>; rel=\"next\""
            }
        }
        return response
    }

    /// The same listing URL on the public base, with `pagination_cursor` replaced.
    private func nextURL(_ request: Request, cursor: String) -> String {
        var components = URLComponents()
        components.queryItems =
            request.uri.queryParameters
            .filter { $0.key != "pagination_cursor" }
            .map { URLQueryItem(name: String($0.key), value: String($0.value)) }
            + [URLQueryItem(name: "pagination_cursor", value: cursor)]
        let query = components.percentEncodedQuery ?? ""
        let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        return "\(base)/api/v1/request_attempts?\(query)"
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
