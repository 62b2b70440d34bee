import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/organizations/{organization}/applications/{application}/events/{event}`: one event (its labels, metadata and
/// decoded payload) and, for every subscription of the application, whether it received the event, its attempts
/// if it did, and why not if it did not (`FanOutRule.misses`, the rule the fan-out itself applies). Authorized as
/// the API's `GET /events/{id}` (`event:get`).
extension Dashboard {
    func event(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        try await inApplication(request, context, .eventGet) { scope in try await event(request, context, scope) }
    }

    private func event(_ request: Request, _ context: FerryRequestContext, _ scope: ApplicationScope) async throws
        -> Response
    {
        let (signedIn, organization, application) = (scope.signedIn, scope.organization, scope.application)
        let applicationID = application.id
        guard let eventID = UUID(uuidString: context.parameters.get("event_id") ?? ""),
            let event = try await store.event(id: eventID, applicationID: applicationID)
        else { return pages.page("error", errorPage(signedIn, Self.notFound), status: .notFound) }

        let applicationPath = DashboardPaths.application(organization.id, applicationID)
        let attempts = try await store.requestAttempts(
            AttemptQuery(applicationID: applicationID, eventID: eventID, limit: Self.attemptsPerEvent))
        let subscriptions = try await store.subscriptions(applicationID: applicationID)
        let now = Date()
        let canReplay = may(scope, .eventReplay)
        let routes = subscriptions.sorted { $0.createdAt < $1.createdAt }.map { subscription in
            let own = attempts.filter { $0.subscriptionID == subscription.id }
            var route = RouteView(
                subscription, event: event,
                attempts: own.map { AttemptRow($0, applicationPath: applicationPath, at: now) },
                applicationPath: applicationPath)
            // Retrying the latest attempt sends the event again to this subscription alone.
            if canReplay, subscription.isEnabled, let latest = own.first {
                route.retryPath = applicationPath + "/deliveries/" + latest.id.lowercased + "/retry"
            }
            return route
        }
        return applicationPage(
            "event", scope, tab: "events", notice: Notice.of(request),
            EventPage(
                replayPath: canReplay ? applicationPath + "/events/" + eventID.lowercased + "/replay" : nil,
                deliveriesPath: applicationPath + "/deliveries?event_id=" + eventID.lowercased, event: EventView(event),
                routes: routes))
    }

    /// Most attempts shown on an event's page (all of them for any event delivered fewer times).
    static var attemptsPerEvent: Int { 200 }
}

/// An event as its page shows it.
struct EventView: Sendable {
    var id: String
    var type: String
    var occurredAt: String
    var occurredText: String
    var receivedAt: String
    var receivedText: String
    var sourceIP: String
    var contentType: String
    var labels: [Entry]
    var hasLabels: Bool
    var metadata: [Entry]
    var hasMetadata: Bool
    /// The payload as text: JSON laid out with indentation, text as it is, anything else in base64.
    var payload: String
    /// Which of those it is.
    var payloadForm: String

    init(_ event: Event) {
        id = event.id.lowercased
        type = event.eventType
        occurredAt = Timestamp.format(event.occurredAt)
        occurredText = AttemptRow.readable(event.occurredAt)
        receivedAt = Timestamp.format(event.receivedAt)
        receivedText = AttemptRow.readable(event.receivedAt)
        sourceIP = event.ip ?? "—"
        contentType = event.payloadContentType.rawValue
        labels = event.labels.sorted { $0.key < $1.key }.map { Entry(key: $0.key, value: $0.value) }
        hasLabels = !labels.isEmpty
        metadata = event.metadata.sorted { $0.key < $1.key }.map { Entry(key: $0.key, value: $0.value) }
        hasMetadata = !metadata.isEmpty
        let text = String(validating: event.payload, as: UTF8.self)
        if event.payloadContentType == .json, let text, let laidOut = JSONLayout.indented(text) {
            payload = laidOut
            payloadForm = "JSON"
        } else if event.payloadContentType != .base64, let text {
            payload = text
            payloadForm = "text"
        } else {
            payload = Data(event.payload).base64EncodedString()
            payloadForm = "base64"
        }
    }
}

/// One subscription on an event's page: whether it received the event, and its attempts or the reasons it did not.
struct RouteView: Sendable {
    var id: String
    var name: String
    var target: String
    /// `successful` when it received the event, `failed` when it did not (for the outcome's style).
    var outcomeKind: String
    var outcome: String
    var reasons: [String]
    var hasReasons: Bool
    var attempts: [AttemptRow]
    var hasAttempts: Bool
    /// Where the button that sends the event again to this subscription posts, when the person may.
    var retryPath: String?
    /// The subscription's page.
    var link: String

    init(_ subscription: Subscription, event: Event, attempts: [AttemptRow], applicationPath: String) {
        link = applicationPath + "/subscriptions/" + subscription.id.lowercased
        id = subscription.id.lowercased
        name = SubscriptionRow.name(of: subscription)
        target = subscription.target.method + " " + subscription.target.url
        self.attempts = attempts
        hasAttempts = !attempts.isEmpty
        var reasons: [String] = []
        if attempts.isEmpty {
            if subscription.createdAt > event.receivedAt {
                reasons.append("It was created after the event arrived.")
            }
            reasons += FanOutRule.misses(
                eventType: event.eventType, eventLabels: event.labels, for: subscription.fanOutCandidate
            ).map(Self.sentence)
            if reasons.isEmpty {
                reasons.append("It matches the event as it is now, but was changed after the event arrived.")
            }
        }
        self.reasons = reasons
        hasReasons = !reasons.isEmpty
        outcomeKind = attempts.isEmpty ? "failed" : "successful"
        outcome = attempts.isEmpty ? "Not sent" : "Sent"
    }

    static func sentence(_ miss: FanOutRule.Miss) -> String {
        switch miss {
        case .disabled: "It is disabled."
        case .eventTypeNotSubscribed: "It does not listen to this event type."
        case .labelMissing(let key): "It asks for the label \(key), which the event does not carry."
        case .labelDiffers(let key, let wanted, let found):
            "It asks for \(key) = \(wanted); the event has \(key) = \(found)."
        }
    }
}

/// An event's page.
struct EventPage: Sendable {
    var replayPath: String?
    var deliveriesPath: String
    var event: EventView
    var routes: [RouteView]
}

/// Lays JSON text out with two-space indentation, keeping its keys in their order (Foundation's serializer would
/// reorder them), or nil when the text is not JSON.
enum JSONLayout {
    static func indented(_ text: String) -> String? {
        guard (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil else {
            return nil
        }
        var output = ""
        var depth = 0
        var inString = false
        var escaped = false
        var previous: Character = " "
        func newline() { output += "\n" + String(repeating: "  ", count: depth) }
        for character in text {
            if inString {
                output.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
                previous = character
                continue
            }
            switch character {
            case " ", "\n", "\r", "\t":
                continue
            case "\"":
                inString = true
                output.append(character)
            case "{", "[":
                output.append(character)
                depth += 1
                newline()
            case "}", "]":
                depth -= 1
                if previous == "{" || previous == "[" {
                    // An empty object or array stays on one line.
                    output.removeLast(1 + 2 * (depth + 1))
                } else {
                    newline()
                }
                output.append(character)
            case ",":
                output.append(character)
                newline()
            case ":":
                output += ": "
            default:
                output.append(character)
            }
            previous = character
        }
        return output
    }
}

/// Sending an event again: to every subscription it matches (Hook0's replay, `event:replay`), or to one
/// subscription by retrying one of its attempts (authorized as a replay too: it re-sends the same event).
extension Dashboard {
    func addEventActionRoutes(to group: RouterGroup<FerryRequestContext>) {
        let base = "organizations/:organization_id/applications/:application_id"
        group.post(RouterPath(base + "/events/:event_id/replay")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.eventReplay, []) }) { scope, _ in
                    guard let eventID = UUID(uuidString: context.parameters.get("event_id") ?? ""),
                        try await store.replay(eventID: eventID, applicationID: scope.application.id)
                    else { return notFound(scope) }
                    return Self.redirect(to: scope.path + "/events/" + eventID.lowercased, notice: .eventReplayed)
                }
            }
        }
        group.post(RouterPath(base + "/deliveries/:attempt_id/retry")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.eventReplay, []) }) { scope, _ in
                    guard let attemptID = UUID(uuidString: context.parameters.get("attempt_id") ?? ""),
                        let attempt = try await store.requestAttempt(id: attemptID, applicationID: scope.application.id)
                    else { return notFound(scope) }
                    guard try await store.retryAttempt(id: attemptID, applicationID: scope.application.id) != nil else {
                        return pages.page(
                            "error", errorPage(scope.signedIn, Self.subscriptionOff), status: .conflict)
                    }
                    return Self.redirect(
                        to: scope.path + "/events/" + attempt.eventID.lowercased, notice: .attemptRetried)
                }
            }
        }
    }

    static var subscriptionOff: Problem {
        Problem(
            id: "Conflict", status: .conflict, title: "This subscription does not take events now",
            detail: "It is disabled or deleted. Enable it on its page, then send the event again.")
    }
}
