import FerryAPI
import FerryCore
import FerryIdentity
import FerryObservability
import FerryStorage
import Foundation
import Hummingbird

/// An application's overview and settings. The overview shows what to do next while the application is new
/// (declare an event type, subscribe an endpoint, send an event), its delivery queue (due, being sent, waiting for
/// a retry, how long the oldest due attempt has waited), and charts over 7, 30 or 90 days: events per day,
/// deliveries that succeeded and failed, and the median and 95th percentile latency. Its form sends an event the way
/// `POST /event` does, then follows that event's deliveries live. The settings rename the application, set how many
/// days its events are kept, and delete it.
extension Dashboard {
    func addApplicationRoutes(to group: RouterGroup<FerryRequestContext>) {
        let base = "organizations/:organization_id/applications/:application_id"
        group.get(RouterPath(base)) { request, context in
            await rendering(context) {
                try await inApplication(request, context, .applicationGet) { scope in
                    try await applicationOverview(scope, request)
                }
            }
        }
        group.post(RouterPath(base + "/events")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.eventIngest, []) }) { scope, form in
                    try await sendEvent(scope, request, form.decode(SendEventForm.self) ?? SendEventForm())
                }
            }
        }
        group.get(RouterPath(base + "/settings")) { request, context in
            await rendering(context) {
                try await inApplication(request, context, .applicationGet) { scope in
                    applicationSettings(scope, notice: Notice.of(request))
                }
            }
        }
        group.post(RouterPath(base + "/settings")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.applicationEdit, []) }) { scope, form in
                    try await saveApplication(scope, form.decode(ApplicationForm.self) ?? ApplicationForm())
                }
            }
        }
        group.post(RouterPath(base + "/delete")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.applicationDelete, []) }) { scope, _ in
                    guard try await store.deleteApplication(id: scope.application.id) else { return notFound(scope) }
                    return Self.redirect(
                        to: "/organizations/" + scope.organization.id.lowercased, notice: .applicationDeleted)
                }
            }
        }
    }

    private func applicationOverview(
        _ scope: ApplicationScope, _ request: Request, errors: [String] = [], form: SendEventForm? = nil
    ) async throws -> Response {
        let applicationID = scope.application.id
        let now = Date()
        let range = ChartRange(request)
        let days = StackedBarChart.days(range.days, endingAt: now)
        let from = days.first ?? now
        let to = days.last ?? now
        let events = try await store.eventsPerDay(applicationIDs: [applicationID], from: from, to: to)
        let deliveries = try await store.deliveriesPerDay(applicationID: applicationID, from: from, to: to)
        let queue = try await store.applicationQueue(applicationID: applicationID, at: now)
        let eventTypes = try await store.eventTypes(applicationID: applicationID)
        let subscriptions = try await store.subscriptions(applicationID: applicationID)
        let hasEvent = try await !store.events(applicationID: applicationID, limit: 1).isEmpty
        let charts = ApplicationCharts(days: days, events: events, deliveries: deliveries, range: range.days)
        let steps = [
            GettingStartedStep(
                title: "Declare an event type", detail: "What your application sends, like billing.invoice.paid.",
                link: scope.path + "/event_types", done: !eventTypes.isEmpty),
            GettingStartedStep(
                title: "Subscribe an endpoint", detail: "A URL that receives the event types it chooses, signed.",
                link: scope.path + "/subscriptions/new", done: !subscriptions.isEmpty),
            GettingStartedStep(
                title: "Send an event", detail: "With the form below, an SDK or POST /api/v1/event.",
                link: "#send-event", done: hasEvent),
        ]
        let firstSubscription = subscriptions.first { $0.isEnabled }
        let typed =
            form
            ?? SendEventForm(
                eventType: firstSubscription?.eventTypes.first ?? eventTypes.first?.name ?? "",
                labels: (firstSubscription?.labels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    .joined(separator: "\n"),
                payload: #"{"hello": "world"}"#)
        let view = ApplicationOverviewView(
            applicationID: applicationID.lowercased, steps: steps, isNew: steps.contains { !$0.done },
            queue: QueueView(queue, at: now), charts: charts,
            ranges: ChartRange.links(scope.path, current: range.days),
            canSendEvent: may(scope, .eventIngest) && !eventTypes.isEmpty,
            eventTypes: eventTypes.map { Choice(value: $0.name, selected: $0.name == typed.eventType, id: "") },
            form: typed, errors: errors, hasErrors: !errors.isEmpty)
        return applicationPage(
            "application", scope, tab: "overview", notice: Notice.of(request), view,
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    /// Ingests the form's event as `POST /event` would (the same validation and store call), then shows its
    /// deliveries, which follow live.
    private func sendEvent(_ scope: ApplicationScope, _ request: Request, _ form: SendEventForm) async throws
        -> Response
    {
        let (labels, problems) = FormLines.pairs(form.labels, separator: "=")
        guard problems.isEmpty else {
            return try await applicationOverview(scope, request, errors: problems.map { "Labels: " + $0 }, form: form)
        }
        let submission = EventSubmission(
            applicationID: scope.application.id, eventID: nil, eventType: form.eventType, payload: form.payload,
            payloadContentType: "application/json", labels: labels, metadata: nil, occurredAt: Date())
        let event: Event
        do throws(DomainError) {
            event = try submission.validated(receivedAt: Date(), ip: nil)
        } catch {
            return try await applicationOverview(scope, request, errors: FormErrors.messages(error), form: form)
        }
        let started = ContinuousClock.now
        let stored = try await store.ingest(event)
        metrics.eventIngested(
            applicationID: scope.application.id, eventType: stored.eventType, duration: ContinuousClock.now - started)
        return Self.redirect(
            to: scope.path + "/deliveries?event_id=" + stored.id.lowercased, notice: .eventSent)
    }

    private func applicationSettings(
        _ scope: ApplicationScope, notice: String? = nil, errors: [String] = [], form: ApplicationForm? = nil
    ) -> Response {
        let view = ApplicationSettingsView(
            id: scope.application.id.lowercased,
            name: form?.name ?? scope.application.name,
            retention: form?.retention ?? scope.application.retentionDays.map(String.init) ?? "",
            defaultRetention: defaultRetentionDays, canEdit: may(scope, .applicationEdit),
            canDelete: may(scope, .applicationDelete), errors: errors, hasErrors: !errors.isEmpty)
        return applicationPage(
            "application_settings", scope, tab: "settings", notice: notice, view,
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    private func saveApplication(_ scope: ApplicationScope, _ form: ApplicationForm) async throws -> Response {
        let name = form.name.trimmingCharacters(in: .whitespaces)
        let retentionText = form.retention.trimmingCharacters(in: .whitespaces)
        var retention: Int?
        do {
            try ResourceRules.validateApplicationName(name)
            if !retentionText.isEmpty {
                guard let days = Int(retentionText) else {
                    return applicationSettings(scope, errors: ["Days kept: a whole number of days."], form: form)
                }
                try ResourceRules.validateRetention(days: days)
                retention = days
            }
        } catch let error as DomainError {
            return applicationSettings(scope, errors: FormErrors.messages(error), form: form)
        }
        guard try await store.renameApplication(id: scope.application.id, name: name) != nil,
            try await store.setApplicationRetention(id: scope.application.id, days: retention) != nil
        else { return notFound(scope) }
        return Self.redirect(to: scope.path + "/settings", notice: .applicationSaved)
    }
}

/// The send-an-event form's fields.
struct SendEventForm: Decodable, Sendable {
    var eventType = ""
    /// `key=value`, one a line.
    var labels = ""
    var payload = ""

    init(eventType: String = "", labels: String = "", payload: String = "") {
        self.eventType = eventType
        self.labels = labels
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "event_type"
        case labels, payload
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventType = try container.decodeIfPresent(String.self, forKey: .eventType) ?? ""
        labels = try container.decodeIfPresent(String.self, forKey: .labels) ?? ""
        payload = try container.decodeIfPresent(String.self, forKey: .payload) ?? ""
    }
}

/// The application settings form's fields.
struct ApplicationForm: Decodable, Sendable {
    var name = ""
    /// Days its events are kept; empty for the server's default.
    var retention = ""

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        retention = try container.decodeIfPresent(String.self, forKey: .retention) ?? ""
    }

    enum CodingKeys: String, CodingKey {
        case name, retention
    }
}

/// A step of a new application's checklist.
struct GettingStartedStep: Sendable {
    var title: String
    var detail: String
    var link: String
    var done: Bool
}

/// The application's unfinished attempts, in words.
struct QueueView: Sendable {
    var due: String
    var inFlight: String
    var waiting: String
    var oldestDue: String

    /// The numbers as counted, with a "+" (at least this many) where the store stopped counting
    /// (`ApplicationQueue.countLimit`).
    init(_ queue: ApplicationQueue, at now: Date) {
        func counted(_ amount: Int, whole: Bool) -> String { whole ? "\(amount)" : "\(amount)+" }
        due = counted(queue.due, whole: queue.dueIsCounted)
        inFlight = counted(queue.inFlight, whole: queue.laterAreCounted)
        waiting = counted(queue.waiting, whole: queue.laterAreCounted)
        if let oldest = queue.oldestDueAt {
            let seconds = max(0, Int(now.timeIntervalSince(oldest)))
            oldestDue = seconds < 120 ? "\(seconds) s" : seconds < 7200 ? "\(seconds / 60) min" : "\(seconds / 3600) h"
        } else {
            oldestDue = "none waiting"
        }
    }
}

/// The overview's three charts.
struct ApplicationCharts: Sendable {
    var events: StackedBarChart
    var deliveries: StackedBarChart
    var latency: StackedBarChart

    init(days: [Date], events: [EventsPerDay], deliveries: [DeliveriesPerDay], range: Int) {
        var received: [Date: Int] = [:]
        for count in events { received[count.day, default: 0] += count.amount }
        self.events = StackedBarChart(
            id: "events-per-day", caption: "Events received per day over \(range) days", days: days,
            series: [StackedBarChart.Series(name: "Events", values: days.map { received[$0] ?? 0 })])
        let byDay = Dictionary(deliveries.map { ($0.day, $0) }, uniquingKeysWith: { first, _ in first })
        self.deliveries = StackedBarChart(
            id: "deliveries-per-day", caption: "Delivery attempts per day over \(range) days, by outcome", days: days,
            series: [
                StackedBarChart.Series(
                    name: "Succeeded", values: days.map { byDay[$0]?.succeeded ?? 0 }, style: "series-2"),
                StackedBarChart.Series(name: "Failed", values: days.map { byDay[$0]?.failed ?? 0 }, style: "series-4"),
            ])
        let medians = days.map { byDay[$0]?.medianMilliseconds ?? 0 }
        let tails = days.map { byDay[$0]?.p95Milliseconds ?? 0 }
        let dayTexts = days.map(Timestamp.formatDay)
        latency = StackedBarChart(
            id: "latency-per-day", caption: "Latency of answered attempts per day, in milliseconds", days: days,
            series: [
                StackedBarChart.Series(
                    name: "Median", values: medians, style: "series-0",
                    titles: zip(dayTexts, medians).map { "\($0): median \($1) ms" }),
                StackedBarChart.Series(
                    name: "95th percentile", values: zip(tails, medians).map { max(0, $0 - $1) }, style: "series-5",
                    titles: zip(dayTexts, tails).map { "\($0): 95th percentile \($1) ms" }, tableValues: tails),
            ], showTotals: false)
    }
}

/// `/organizations/{o}/applications/{a}`.
struct ApplicationOverviewView: Sendable {
    var applicationID: String
    var steps: [GettingStartedStep]
    /// Whether a step is left: the checklist shows only then.
    var isNew: Bool
    var queue: QueueView
    var charts: ApplicationCharts
    var ranges: [RangeLink]
    var canSendEvent: Bool
    var eventTypes: [Choice]
    var form: SendEventForm
    var errors: [String]
    var hasErrors: Bool
}

/// `/organizations/{o}/applications/{a}/settings`.
struct ApplicationSettingsView: Sendable {
    var id: String
    var name: String
    var retention: String
    var defaultRetention: Int
    var canEdit: Bool
    var canDelete: Bool
    var errors: [String]
    var hasErrors: Bool
}
