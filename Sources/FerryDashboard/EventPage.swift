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
        try await inApplication(request, context, .eventGet) { scope in try await event(context, scope) }
    }

    private func event(_ context: FerryRequestContext, _ scope: ApplicationScope) async throws -> Response {
        let (signedIn, organization, application) = (scope.signedIn, scope.organization, scope.application)
        let applicationID = application.id
        guard let eventID = UUID(uuidString: context.parameters.get("event_id") ?? ""),
            let event = try await store.event(id: eventID, applicationID: applicationID)
        else { return pages.page("error", errorPage(signedIn, Self.notFound), status: .notFound) }

        let applicationPath = Self.applicationPath(organization.id, applicationID)
        let attempts = try await store.requestAttempts(
            AttemptQuery(applicationID: applicationID, eventID: eventID, limit: Self.attemptsPerEvent))
        let subscriptions = try await store.subscriptions(applicationID: applicationID)
        let now = Date()
        let routes = subscriptions.sorted { $0.createdAt < $1.createdAt }.map { subscription in
            RouteView(
                subscription, event: event,
                attempts: attempts.filter { $0.subscriptionID == subscription.id }.map {
                    AttemptRow($0, applicationPath: applicationPath, at: now)
                })
        }
        return pages.page(
            "event",
            EventPage(
                assets: pages.paths, person: PersonView(signedIn),
                organization: NamedView(id: organization.id.lowercased, name: organization.name),
                application: NamedView(id: application.id.lowercased, name: application.name),
                deliveriesPath: applicationPath + "/deliveries", event: EventView(event), routes: routes))
    }

    /// Most attempts shown on an event's page (all of them for any event delivered fewer times).
    static var attemptsPerEvent: Int { 200 }
}

/// An event as its page shows it.
struct EventView: Sendable {
    struct Entry: Sendable {
        var key: String
        var value: String
    }

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

    init(_ subscription: Subscription, event: Event, attempts: [AttemptRow]) {
        id = subscription.id.lowercased
        name = subscription.description.flatMap { $0.isEmpty ? nil : $0 } ?? "Subscription"
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
    var assets: AssetPaths
    var person: PersonView?
    var organization: NamedView
    var application: NamedView
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
