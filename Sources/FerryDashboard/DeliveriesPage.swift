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
            filter.attemptQuery(applicationID: applicationID, limit: Self.deliveriesPageSize))
        let now = Date()
        let rows = attempts.map { AttemptRow($0, applicationPath: applicationPath, at: now) }
        var older: String?
        if attempts.count == Self.deliveriesPageSize, let last = attempts.last {
            older = path + filter.query(after: AttemptCursor(createdAt: last.createdAt, id: last.id))
        }
        let justSent = request.uri.queryParameters["done"] == Substring(Notice.eventSent.rawValue)
        var recovery: RecoveryView?
        if filter.outcome == .givenUp, may(scope, .eventReplay) {
            var preview = filter
            preview.after = nil
            let count = try await store.countAttempts(preview.attemptQuery(applicationID: applicationID, limit: 0))
            recovery = RecoveryView(filter: filter, count: count, path: path)
        }
        return applicationPage(
            "deliveries", scope, tab: "deliveries", notice: Self.recoveryNotice(request) ?? Notice.of(request),
            DeliveriesPage(
                path: path, livePath: filter.after == nil ? path + "/live" + filter.query() : nil,
                filter: filter.description, form: filter.form, attempts: rows, hasAttempts: !rows.isEmpty,
                olderPage: older, waitingForDelivery: justSent && filter.eventID != nil,
                recovery: recovery))
    }

    /// Sends the given-up attempts of a range again, in bounded batches, at most `recoveryCap` in one request; the
    /// store makes each recovery once, so the same form sent twice sends nothing twice.
    func recover(_ scope: ApplicationScope, _ form: PostedForm) async throws -> Response {
        let fields = form.decode(RecoveryForm.self) ?? RecoveryForm()
        let path = scope.path + "/deliveries"
        guard let from = fields.from.isEmpty ? Date(timeIntervalSince1970: 0) : Timestamp.parseDay(fields.from),
            let to = fields.to.isEmpty
                ? Date() : Timestamp.parseDay(fields.to).map({ $0.addingTimeInterval(86_400 - 0.000_001) })
        else { return pages.page("error", errorPage(scope.signedIn, Self.badFilter), status: .badRequest) }
        let subscription = fields.subscriptionID.isEmpty ? nil : UUID(uuidString: fields.subscriptionID)
        var recovered = 0
        while recovered < Self.recoveryCap {
            let batch = try await store.recoverGivenUp(
                applicationID: scope.application.id, subscriptionID: subscription, from: from, to: to,
                limit: min(Self.recoveryBatch, Self.recoveryCap - recovered))
            recovered += batch
            if batch == 0 { break }
        }
        var query = "?status=unfinished"
        if let subscription { query += "&subscription_id=" + subscription.lowercased }
        return Self.redirect(to: path + query + "&recovered=\(recovered)", notice: .attemptsRecovered)
    }

    /// After a recovery: how many attempts it sent again.
    static func recoveryNotice(_ request: Request) -> String? {
        guard request.uri.queryParameters["done"] == Substring(Notice.attemptsRecovered.rawValue),
            let count = request.uri.queryParameters["recovered"].flatMap({ Int(String($0)) })
        else { return nil }
        return count == 1
            ? "1 given-up attempt is being sent again; below, the attempts not finished yet."
            : "\(count) given-up attempts are being sent again; below, the attempts not finished yet."
    }

    static var recoveryBatch: Int { 500 }
    static var recoveryCap: Int { 10_000 }

    static var badFilter: Problem {
        Problem(
            id: "BadRequest", status: .badRequest, title: "This filter is not valid",
            detail: "`event_id` and `subscription_id` are ids, `status` is succeeded, failed, given_up or unfinished, "
                + "`http` is 2 to 5 or 0, `from` and `to` are days (YYYY-MM-DD), and `after` is a position from an "
                + "\"Older\" link.")
    }
}

/// What a delivery log URL filters by: one event or one subscription, an outcome (`status`: succeeded, failed,
/// given_up, unfinished), an HTTP class (`http`: 2…5, or 0 for no answer), an event type, UTC days from and to
/// (`from`, `to`, `YYYY-MM-DD`, both included), and the position after which to list.
struct DeliveriesFilter {
    var eventID: UUID?
    var subscriptionID: UUID?
    var outcome: AttemptOutcomeFilter?
    var httpClass: Int?
    var eventType: String?
    var fromDay: Date?
    var toDay: Date?
    var after: AttemptCursor?

    /// The filter of a request, or nil when a parameter is not valid.
    init?(_ request: Request) {
        let parameters = FilterParameters(request)
        let text = parameters.text
        guard let event = parameters.id("event_id"), let subscription = parameters.id("subscription_id"),
            let from = parameters.day("from"), let to = parameters.day("to")
        else { return nil }
        eventID = event
        subscriptionID = subscription
        fromDay = from
        toDay = to
        if let value = text("status") {
            guard let outcome = AttemptOutcomeFilter(rawValue: value) else { return nil }
            self.outcome = outcome
        }
        if let value = text("http") {
            guard let httpClass = Int(value), [0, 2, 3, 4, 5].contains(httpClass) else { return nil }
            self.httpClass = httpClass
        }
        eventType = text("event_type")
        if let value = text("after") {
            guard let cursor = Self.cursor(value) else { return nil }
            after = cursor
        }
    }

    /// `<RFC 3339 time>_<attempt id>`.
    static func cursor(_ text: String) -> AttemptCursor? {
        PagePosition(text).map { AttemptCursor(createdAt: $0.date, id: $0.id) }
    }

    /// The store's query of this filter for `applicationID`: `limit` attempts after the filter's position, or
    /// every one created at or after `since` (the live stream's catch-up).
    func attemptQuery(applicationID: UUID, since: Date? = nil, limit: Int) -> AttemptQuery {
        let start = [fromDay, since].compactMap { $0 }.max()
        return AttemptQuery(
            applicationID: applicationID, eventID: eventID, subscriptionID: subscriptionID, minCreatedAt: start,
            maxCreatedAt: toDay.map { $0.addingTimeInterval(86_400 - 0.000_001) },
            eventTypes: eventType.map { [$0] }, outcome: outcome, httpClass: httpClass,
            after: since == nil ? after : nil, limit: limit)
    }

    /// The query string of this filter, continued after `cursor` when one is given.
    func query(after cursor: AttemptCursor? = nil) -> String {
        var items: [URLQueryItem] = []
        if let eventID { items.append(URLQueryItem(name: "event_id", value: eventID.lowercased)) }
        if let subscriptionID { items.append(URLQueryItem(name: "subscription_id", value: subscriptionID.lowercased)) }
        if let outcome { items.append(URLQueryItem(name: "status", value: outcome.rawValue)) }
        if let httpClass { items.append(URLQueryItem(name: "http", value: String(httpClass))) }
        if let eventType { items.append(URLQueryItem(name: "event_type", value: eventType)) }
        if let fromDay { items.append(URLQueryItem(name: "from", value: Timestamp.formatDay(fromDay))) }
        if let toDay { items.append(URLQueryItem(name: "to", value: Timestamp.formatDay(toDay))) }
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

    /// The filter form's state.
    var form: DeliveriesFilterForm {
        DeliveriesFilterForm(
            statuses: [
                ("", "Any"), ("succeeded", "Succeeded"), ("failed", "Failed"), ("given_up", "Given up"),
                ("unfinished", "Not finished"),
            ].map {
                Choice(value: $0.0, selected: $0.0 == (outcome?.rawValue ?? ""), id: $0.1)
            },
            httpClasses: [("", "Any"), ("2", "2xx"), ("3", "3xx"), ("4", "4xx"), ("5", "5xx"), ("0", "No answer")].map {
                Choice(value: $0.0, selected: $0.0 == (httpClass.map(String.init) ?? ""), id: $0.1)
            },
            eventType: eventType ?? "", from: fromDay.map(Timestamp.formatDay) ?? "",
            to: toDay.map(Timestamp.formatDay) ?? "", eventID: eventID?.lowercased,
            subscriptionID: subscriptionID?.lowercased,
            isFiltered: outcome != nil || httpClass != nil || eventType != nil || fromDay != nil || toDay != nil)
    }
}

/// The given-up view's recovery form: how many attempts it would send again, and the range it names.
struct RecoveryView: Sendable {
    var count: Int
    var hasAny: Bool
    var action: String
    var from: String
    var to: String
    var subscriptionID: String
    var range: String

    init(filter: DeliveriesFilter, count: Int, path: String) {
        self.count = count
        hasAny = count > 0
        action = path + "/recover"
        from = filter.fromDay.map(Timestamp.formatDay) ?? ""
        to = filter.toDay.map(Timestamp.formatDay) ?? ""
        subscriptionID = filter.subscriptionID?.lowercased ?? ""
        let since = from.isEmpty ? "the first one" : from
        range =
            "from \(since) to \(to.isEmpty ? "now" : to)"
            + (filter.subscriptionID == nil ? "" : ", for this subscription only")
    }
}

/// The recovery form's fields.
struct RecoveryForm: Decodable {
    var from = ""
    var to = ""
    var subscriptionID = ""

    init() {}

    enum CodingKeys: String, CodingKey {
        case from, to
        case subscriptionID = "subscription_id"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        from = try container.decodeIfPresent(String.self, forKey: .from) ?? ""
        to = try container.decodeIfPresent(String.self, forKey: .to) ?? ""
        subscriptionID = try container.decodeIfPresent(String.self, forKey: .subscriptionID) ?? ""
    }
}

/// The delivery log's filter form: each choice's `id` is its label.
struct DeliveriesFilterForm: Sendable {
    var statuses: [Choice]
    var httpClasses: [Choice]
    var eventType: String
    var from: String
    var to: String
    var eventID: String?
    var subscriptionID: String?
    var isFiltered: Bool
}

/// A listing URL's filter parameters: empty ones count as absent, and a malformed id or day is refused (nil).
struct FilterParameters {
    let request: Request

    init(_ request: Request) {
        self.request = request
    }

    /// The parameter's text, or nil when absent or empty.
    func text(_ name: String) -> String? {
        guard let value = request.uri.queryParameters[name[...]].map(String.init), !value.isEmpty else { return nil }
        return value
    }

    /// `.some(nil)` when absent, nil when not a UUID.
    func id(_ name: String) -> UUID?? {
        guard let value = text(name) else { return .some(nil) }
        return UUID(uuidString: value).map { .some($0) } ?? nil
    }

    /// `.some(nil)` when absent, nil when not a day (`YYYY-MM-DD`).
    func day(_ name: String) -> Date?? {
        guard let value = text(name) else { return .some(nil) }
        return Timestamp.parseDay(value).map { .some($0) } ?? nil
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
