import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/organizations/{organization}/applications/{application}/events`: an application's events, newest first, 50 a
/// page with a cursor to older ones, each linking to its page. Authorized as the API's `GET /events`
/// (`event:list`).
extension Dashboard {
    static var eventsPageSize: Int { 50 }

    func events(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        try await inApplication(request, context, .eventList) { scope in try await events(request, scope) }
    }

    private func events(_ request: Request, _ scope: ApplicationScope) async throws -> Response {
        guard let filter = EventsFilter(request) else {
            return pages.page("error", errorPage(scope.signedIn, Self.badEventFilter), status: .badRequest)
        }
        let applicationPath = scope.path
        let events = try await store.events(
            filter.query(applicationID: scope.application.id, limit: Self.eventsPageSize))
        var older: String?
        if events.count == Self.eventsPageSize, let last = events.last {
            older =
                applicationPath + "/events"
                + filter.queryString(before: PagePosition(date: last.receivedAt, id: last.id))
        }
        let rows = events.map { EventRow($0, applicationPath: applicationPath) }
        return applicationPage(
            "events", scope, tab: "events",
            EventsPage(
                path: applicationPath + "/events", form: filter.form, events: rows, hasEvents: !rows.isEmpty,
                olderPage: older))
    }

    static var badEventFilter: Problem {
        Problem(
            id: "BadRequest", status: .badRequest, title: "This filter is not valid",
            detail: "`label` is key=value, `from` and `to` are days (YYYY-MM-DD), `delivery` is delivered, failing, "
                + "in_progress or unrouted, and `before` is a position from an \"Older\" link.")
    }
}

/// What an events page URL filters by: an event type, a label (`key=value`), UTC days received from and to (both
/// included), where its deliveries stand, and the position before which to list.
struct EventsFilter {
    var eventType: String?
    var label: EventLabel?
    var fromDay: Date?
    var toDay: Date?
    var delivery: EventDeliveryFilter?
    var before: PagePosition?

    /// The filter of a request, or nil when a parameter is not valid.
    init?(_ request: Request) {
        let parameters = FilterParameters(request)
        let text = parameters.text
        guard let from = parameters.day("from"), let to = parameters.day("to") else { return nil }
        fromDay = from
        toDay = to
        eventType = text("event_type")
        if let value = text("label") {
            guard let equals = value.firstIndex(of: "="), equals != value.startIndex else { return nil }
            label = EventLabel(
                key: String(value[..<equals]).trimmingCharacters(in: .whitespaces),
                value: String(value[value.index(after: equals)...]).trimmingCharacters(in: .whitespaces))
        }
        if let value = text("delivery") {
            guard let delivery = EventDeliveryFilter(rawValue: value) else { return nil }
            self.delivery = delivery
        }
        if let value = text("before") {
            guard let position = PagePosition(value) else { return nil }
            before = position
        }
    }

    func query(applicationID: UUID, limit: Int) -> EventQuery {
        EventQuery(
            applicationID: applicationID, eventType: eventType, label: label, from: fromDay,
            to: toDay.map { $0.addingTimeInterval(86_400 - 0.000_001) }, delivery: delivery,
            before: before.map { EventCursor(receivedAt: $0.date, id: $0.id) }, limit: limit)
    }

    /// The query string of this filter, continued before `position` when one is given.
    func queryString(before position: PagePosition? = nil) -> String {
        var items: [URLQueryItem] = []
        if let eventType { items.append(URLQueryItem(name: "event_type", value: eventType)) }
        if let label { items.append(URLQueryItem(name: "label", value: label.key + "=" + label.value)) }
        if let fromDay { items.append(URLQueryItem(name: "from", value: Timestamp.formatDay(fromDay))) }
        if let toDay { items.append(URLQueryItem(name: "to", value: Timestamp.formatDay(toDay))) }
        if let delivery { items.append(URLQueryItem(name: "delivery", value: delivery.rawValue)) }
        if let position { items.append(URLQueryItem(name: "before", value: position.text)) }
        guard !items.isEmpty else { return "" }
        var components = URLComponents()
        components.queryItems = items
        return components.string ?? ""
    }

    var form: EventsFilterForm {
        EventsFilterForm(
            eventType: eventType ?? "", label: label.map { $0.key + "=" + $0.value } ?? "",
            from: fromDay.map(Timestamp.formatDay) ?? "", to: toDay.map(Timestamp.formatDay) ?? "",
            deliveries: [
                ("", "Any"), ("delivered", "Delivered"), ("failing", "Failing"), ("in_progress", "Not finished"),
                ("unrouted", "Sent to no subscription"),
            ].map { Choice(value: $0.0, selected: $0.0 == (delivery?.rawValue ?? ""), id: $0.1) },
            isFiltered: eventType != nil || label != nil || fromDay != nil || toDay != nil || delivery != nil)
    }
}

/// The events page's filter form: each choice's `id` is its label.
struct EventsFilterForm: Sendable {
    var eventType: String
    var label: String
    var from: String
    var to: String
    var deliveries: [Choice]
    var isFiltered: Bool
}
