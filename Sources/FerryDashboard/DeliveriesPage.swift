import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/organizations/{organization}/applications/{application}/deliveries`: an application's delivery attempts, most
/// recent first, 50 a page with a cursor to older ones, optionally only those of one event or one subscription.
/// Authorized as the API's `GET /request_attempts` (`request_attempt:list`), so a viewer sees it too.
extension Dashboard {
    static var deliveriesPageSize: Int { 50 }

    func deliveries(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        try await inApplication(request, context, .requestAttemptList) { scope in
            try await deliveries(request, scope)
        }
    }

    private func deliveries(_ request: Request, _ scope: ApplicationScope) async throws -> Response {
        let (signedIn, organization, application) = (scope.signedIn, scope.organization, scope.application)
        let applicationID = application.id
        let applicationPath = DashboardPaths.application(organization.id, applicationID)
        let path = applicationPath + "/deliveries"
        guard let filter = DeliveriesFilter(request) else {
            return pages.page("error", errorPage(signedIn, Self.badFilter), status: .badRequest)
        }
        let attempts = try await store.requestAttempts(
            AttemptQuery(
                applicationID: applicationID, eventID: filter.eventID, subscriptionID: filter.subscriptionID,
                after: filter.after, limit: Self.deliveriesPageSize))
        let now = Date()
        let rows = attempts.map { AttemptRow($0, applicationPath: applicationPath, at: now) }
        var older: String?
        if attempts.count == Self.deliveriesPageSize, let last = attempts.last {
            older = path + filter.query(after: AttemptCursor(createdAt: last.createdAt, id: last.id))
        }
        let justSent = request.uri.queryParameters["done"] == Substring(Notice.eventSent.rawValue)
        return applicationPage(
            "deliveries", scope, tab: "deliveries", notice: Notice.of(request),
            DeliveriesPage(
                path: path, livePath: filter.after == nil ? path + "/live" + filter.query() : nil,
                filter: filter.description, attempts: rows, hasAttempts: !rows.isEmpty, olderPage: older,
                waitingForDelivery: justSent && filter.eventID != nil))
    }

    static var badFilter: Problem {
        Problem(
            id: "BadRequest", status: .badRequest, title: "This filter is not valid",
            detail: "`event_id` and `subscription_id` are ids, and `after` is a position from an \"Older\" link.")
    }
}

/// What a delivery log URL filters by: one event or one subscription, and the position after which to list.
struct DeliveriesFilter {
    var eventID: UUID?
    var subscriptionID: UUID?
    var after: AttemptCursor?

    /// The filter of a request, or nil when a parameter is not valid.
    init?(_ request: Request) {
        let parameters = request.uri.queryParameters
        func id(_ name: String) -> UUID?? {
            guard let text = parameters[name[...]].map(String.init), !text.isEmpty else { return .some(nil) }
            return UUID(uuidString: text).map { .some($0) } ?? nil
        }
        guard let event = id("event_id"), let subscription = id("subscription_id") else { return nil }
        eventID = event
        subscriptionID = subscription
        if let text = parameters["after"].map(String.init), !text.isEmpty {
            guard let cursor = Self.cursor(text) else { return nil }
            after = cursor
        }
    }

    /// `<RFC 3339 time>_<attempt id>`.
    static func cursor(_ text: String) -> AttemptCursor? {
        PagePosition(text).map { AttemptCursor(createdAt: $0.date, id: $0.id) }
    }

    /// The query string of this filter, continued after `cursor` when one is given.
    func query(after cursor: AttemptCursor? = nil) -> String {
        var items: [URLQueryItem] = []
        if let eventID { items.append(URLQueryItem(name: "event_id", value: eventID.lowercased)) }
        if let subscriptionID { items.append(URLQueryItem(name: "subscription_id", value: subscriptionID.lowercased)) }
        if let cursor {
            items.append(
                URLQueryItem(name: "after", value: PagePosition(date: cursor.createdAt, id: cursor.id).text))
        }
        guard !items.isEmpty else { return "" }
        var components = URLComponents()
        components.queryItems = items
        return components.string ?? ""
    }

    /// What the page says it shows, or nil when it shows every attempt.
    var description: String? {
        if let eventID { return "event \(eventID.lowercased)" }
        if let subscriptionID { return "subscription \(subscriptionID.lowercased)" }
        return nil
    }
}

/// Where a listing continues, as its links carry it: `<RFC 3339 time>_<id>` of the last row shown.
struct PagePosition {
    var date: Date
    var id: UUID

    init(date: Date, id: UUID) {
        self.date = date
        self.id = id
    }

    /// The position a link carries, or nil when the text is not one.
    init?(_ text: String) {
        guard let separator = text.lastIndex(of: "_"), let date = Timestamp.parse(String(text[..<separator])),
            let id = UUID(uuidString: String(text[text.index(after: separator)...]))
        else { return nil }
        self.init(date: date, id: id)
    }

    var text: String { Timestamp.format(date) + "_" + id.lowercased }
}
