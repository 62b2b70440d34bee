import FerryCore
import FerryDelivery
import FerryStorage
import Foundation

/// The views of the pages that change an application's setup: subscriptions, event types and secrets.

/// One option of a select or one checkbox of a group.
struct Choice: Sendable {
    var value: String
    var selected: Bool
    /// An id for the control's `<label for>`.
    var id: String
}

/// A name and a value, as a page lists them.
struct Entry: Sendable {
    var key: String
    var value: String
}

/// `…/subscriptions`.
struct SubscriptionsPage: Sendable {
    var subscriptions: [SubscriptionRow]
    var hasSubscriptions: Bool
    var newPath: String
    var canCreate: Bool
}

/// One subscription in the list.
struct SubscriptionRow: Sendable {
    var id: String
    var name: String
    var link: String
    var target: String
    var eventTypes: String
    var labels: String
    var enabled: Bool
    /// `Enabled` or `Disabled`: said in words, the style only repeats it.
    var statusText: String
    var statusKind: String
    var canEdit: Bool
    var togglePath: String
    /// The value the enable/disable button posts, and its words.
    var toggleValue: String
    var toggleLabel: String
    var deliveriesLink: String

    init(_ subscription: Subscription, applicationPath: String, canEdit: Bool) {
        id = subscription.id.lowercased
        name = Self.name(of: subscription)
        link = applicationPath + "/subscriptions/" + id
        target =
            subscription.target.method + " " + subscription.target.url
            + (subscription.isRelayed ? " (relayed by ferry listen)" : "")
        eventTypes = subscription.eventTypes.sorted().joined(separator: ", ")
        labels = FormLines.text(subscription.labels, separator: "=").replacingOccurrences(of: "\n", with: ", ")
        enabled = subscription.isEnabled
        statusText = subscription.isEnabled ? "Enabled" : "Disabled"
        statusKind = subscription.isEnabled ? "successful" : "pending"
        self.canEdit = canEdit
        togglePath = link + "/enabled"
        toggleValue = subscription.isEnabled ? "false" : "true"
        toggleLabel = subscription.isEnabled ? "Disable" : "Enable"
        deliveriesLink = applicationPath + "/deliveries?subscription_id=" + id
    }

    /// The subscription's description, or words that say it has none.
    static func name(of subscription: Subscription) -> String {
        subscription.description.flatMap { $0.isEmpty ? nil : $0 } ?? "Unnamed subscription"
    }
}

/// The subscription form's values: as stored, or as a person typed them.
struct SubscriptionFields: Sendable {
    var description = ""
    var url = ""
    var method = "POST"
    var methods: [Choice] = []
    var eventTypes: [Choice] = []
    var hasEventTypes = false
    var chosenEventTypes: [String] = []
    var labels = ""
    var headers = ""
    var metadata = ""
    var enabled = true

    init(enabled: Bool) {
        self.enabled = enabled
        offer(eventTypes: [])
    }

    /// A stored subscription's values; header values that are credentials are masked when `masked`.
    init(_ subscription: Subscription, masked: Bool) {
        description = subscription.description ?? ""
        url = subscription.target.url
        method = subscription.target.method
        chosenEventTypes = subscription.eventTypes
        labels = FormLines.text(subscription.labels, separator: "=")
        var headers = subscription.target.headers
        if masked {
            for (name, value) in headers { headers[name] = HeaderSyntax.displayed(value, named: name) }
        }
        self.headers = FormLines.text(headers, separator: ": ")
        metadata = FormLines.text(subscription.metadata, separator: "=")
        enabled = subscription.isEnabled
        offer(eventTypes: [])
    }

    /// The values a person posted, to show the form again with them.
    init(_ form: SubscriptionForm) {
        description = form.description ?? ""
        url = form.url ?? ""
        method = form.method ?? "POST"
        chosenEventTypes = form.eventTypes ?? []
        labels = form.labels ?? ""
        headers = form.headers ?? ""
        metadata = form.metadata ?? ""
        enabled = form.enabled != nil
        offer(eventTypes: [])
    }

    /// Offers the application's event types as checkboxes (and any chosen one no longer listed), and the methods.
    mutating func offer(eventTypes known: [String]) {
        let names = Set(known).union(chosenEventTypes).sorted()
        eventTypes = names.enumerated().map { index, name in
            Choice(value: name, selected: chosenEventTypes.contains(name), id: "event-type-\(index)")
        }
        hasEventTypes = !eventTypes.isEmpty
        methods = HTTPTarget.allowedMethods.sorted().map { Choice(value: $0, selected: $0 == method, id: $0) }
    }
}

/// A stored subscription's facts and actions on its page.
struct SubscriptionSummary: Sendable {
    var id: String
    var statusText: String
    var statusKind: String
    var createdAt: String
    var createdText: String
    var updatedText: String
    var secretPath: String
    var deliveriesLink: String
    var canEdit: Bool
    var canDelete: Bool
    var canTest: Bool
    var togglePath: String
    var toggleValue: String
    var toggleLabel: String
    var deletePath: String
    var testPath: String
    /// Deliveries go to a `ferry listen` session, not from the server.
    var relayed: Bool
    /// Why and when it was disabled, while it is (`the target answered 410 Gone, 2026-12-04 18:00 UTC`).
    var disabledText: String?
    /// Its circuit, while not closed: since when it is open and when the next probe may go.
    var circuitText: String?
    /// Deliveries go one at a time in the order of the events.
    var ordered: Bool
    /// The Ed25519 public key of its v1a signatures, when that is on.
    var publicKey: String?
    /// Until when a rotation's previous secret still signs too.
    var previousSecretText: String?

    init(_ subscription: Subscription, applicationPath: String, canEdit: Bool, canDelete: Bool, canTest: Bool) {
        let row = SubscriptionRow(subscription, applicationPath: applicationPath, canEdit: canEdit)
        id = row.id
        statusText = row.statusText
        statusKind = row.statusKind
        createdAt = Timestamp.format(subscription.createdAt)
        createdText = AttemptRow.readable(subscription.createdAt)
        updatedText = AttemptRow.readable(subscription.updatedAt)
        secretPath = row.link + "/secret"
        deliveriesLink = row.deliveriesLink
        self.canEdit = canEdit
        self.canDelete = canDelete
        // A test send goes from the server, which never connects to a relayed subscription's target.
        self.canTest = canTest && !subscription.isRelayed
        relayed = subscription.isRelayed
        disabledText = subscription.disabledReason.map { reason in
            reason + (subscription.disabledAt.map { ", " + AttemptRow.readable($0) } ?? "")
        }
        let now = Date()
        circuitText = subscription.circuit.openedAt.map { openedAt in
            let since = "since " + AttemptRow.readable(openedAt)
            guard subscription.circuit.name(at: now) == "open", let probeAt = subscription.circuit.probeAt else {
                return since + "; the next attempt is a probe"
            }
            return since + "; attempts wait for a probe at " + AttemptRow.readable(probeAt)
        }
        ordered = subscription.isOrdered
        publicKey = subscription.signing.ed25519PublicKey
        previousSecretText =
            subscription.signing.previousSigns(at: now)
            ? subscription.signing.previousExpiresAt.map(AttemptRow.readable) : nil
        togglePath = row.togglePath
        toggleValue = row.toggleValue
        toggleLabel = row.toggleLabel
        deletePath = row.link + "/delete"
        testPath = row.link + "/test"
    }
}

/// `…/subscriptions/new` and `…/subscriptions/{id}`.
struct SubscriptionPage: Sendable {
    var heading: String
    /// Where the form posts.
    var action: String
    var submitLabel: String
    var errors: [String]
    var hasErrors: Bool
    var fields: SubscriptionFields
    /// True for a person who may look but not change: the form is shown disabled, with no buttons.
    var readOnly: Bool
    var subscription: SubscriptionSummary?
    var eventTypesPath: String
    var testSend: TestSendView?
}

/// What a test send sent and got back, and what that means.
struct TestSendView: Sendable {
    var outcomeKind: String
    var outcome: String
    var exchange: ExchangeView

    init(request: DeliveryRequest?, observation: AttemptObservation) {
        let milliseconds = observation.elapsedMilliseconds
        if observation.isDelivered {
            outcomeKind = "successful"
            outcome = "Delivered: the receiver answered \(observation.httpStatus ?? 0) in \(milliseconds) ms."
        } else if let status = observation.httpStatus {
            outcomeKind = "failed"
            outcome =
                "Not accepted: the receiver answered \(status) in \(milliseconds) ms (a real delivery would be retried)."
        } else {
            outcomeKind = "failed"
            outcome = "Not delivered: " + BodyText.explanation(observation.errorName ?? .unknown)
        }
        exchange = ExchangeView(
            request: request.map(SentRequest.init), payload: request.map { BodyText.shown($0.body) },
            errorName: observation.errorName, httpCode: observation.httpStatus, headers: observation.headers,
            body: observation.body, bodyTruncated: observation.bodyTruncated,
            elapsedMilliseconds: observation.elapsedMilliseconds)
    }
}

/// A request as sent and the answer to it (or the failure that stood for one), as the attempt page and a test
/// send show them; credential header values are masked.
struct ExchangeView: Sendable {
    var sent: Bool
    var requestLine: String
    var requestHeaders: [Entry]
    var payload: String?
    var answered: Bool
    var status: String
    var elapsed: String
    var failure: String?
    var headers: [Entry]
    var body: String
    var hasBody: Bool

    init(
        request: SentRequest?, payload: String?, errorName: ResponseErrorName?, httpCode: Int?,
        headers: [String: String]?, body: [UInt8]?, bodyTruncated: Bool, elapsedMilliseconds: Int?
    ) {
        sent = request != nil
        requestLine = request.map { $0.method + " " + $0.url } ?? ""
        requestHeaders = (request?.headers ?? [:]).sorted { $0.key < $1.key }.map {
            Entry(key: $0.key, value: $0.value)
        }
        self.payload = payload
        answered = httpCode != nil
        status = httpCode.map(String.init) ?? ""
        elapsed = elapsedMilliseconds.map { "\($0) ms" } ?? "—"
        if let errorName, errorName != .http { failure = BodyText.explanation(errorName) }
        self.headers = (headers ?? [:]).sorted { $0.key < $1.key }.map {
            Entry(key: $0.key, value: HeaderSyntax.displayed($0.value, named: $0.key))
        }
        self.body = body.map(BodyText.shown) ?? ""
        if bodyTruncated { self.body += "\n… (cut at the response size limit)" }
        hasBody = !self.body.isEmpty
    }

    /// A recorded answer, with the body every delivery of its event carried.
    init(_ response: AttemptResponse, payload: String?) {
        self.init(
            request: response.request, payload: payload, errorName: response.errorName, httpCode: response.httpCode,
            headers: response.headers, body: response.body, bodyTruncated: response.bodyTruncated,
            elapsedMilliseconds: response.elapsedMilliseconds)
    }
}

/// Bodies and failures in words.
enum BodyText {
    /// A body as text when it is UTF-8 (JSON laid out), in base64 otherwise.
    static func shown(_ body: [UInt8]) -> String {
        guard let text = String(validating: body, as: UTF8.self) else {
            return "(binary, base64) " + Data(body).base64EncodedString()
        }
        return JSONLayout.indented(text) ?? text
    }

    /// What a transport failure means.
    static func explanation(_ name: ResponseErrorName) -> String {
        switch name {
        case .dns: "the target's host name did not resolve (E_DNS)."
        case .connection: "no connection could be made to the target (E_CONNECTION)."
        case .timeout: "the target did not answer in time (E_TIMEOUT)."
        case .invalidTarget:
            "the target is not allowed: it resolves to a private or local address, which Ferry refuses unless "
                + "allowed by FERRY_ALLOWED_TARGET_NETWORKS (E_INVALID_TARGET)."
        case .invalidHeader: "a header value cannot be signed: it is not visible ASCII (E_INVALID_HEADER)."
        case .http: "the target answered with an error status (E_HTTP)."
        case .unknown: "the request failed for an unknown reason (E_UNKNOWN)."
        }
    }
}

/// `…/subscriptions/{id}/secret`.
struct SecretPage: Sendable {
    var name: String
    var subscriptionPath: String
    var secret: String
    var standardSecret: String
}

/// `…/event_types`.
struct EventTypesPage: Sendable {
    var eventTypes: [EventTypeRow]
    var hasEventTypes: Bool
    var canCreate: Bool
    var createPath: String
    var errors: [String]
    var hasErrors: Bool
    var form: EventTypeForm
}

struct EventTypeRow: Sendable {
    var name: String
    var service: String
    var resourceType: String
    var verb: String
    var deletePath: String
    var canDelete: Bool
    /// The JSON Schema its JSON payloads must conform to, laid out, when it has one (Ferry's payload schemas).
    var hasSchema: Bool
    var schema: String
    /// What the schema form shows: the schema, or the text just refused.
    var schemaDraft: String
    var schemaPath: String
    var canEditSchema: Bool
    /// Whether the schema form starts open (it was just refused).
    var schemaOpen: Bool
}

/// `…/secrets`.
struct SecretsPage: Sendable {
    var secrets: [SecretRow]
    var hasSecrets: Bool
    var canCreate: Bool
    var createPath: String
    var errors: [String]
    var hasErrors: Bool
    var name: String
}

struct SecretRow: Sendable {
    var name: String
    var token: String
    /// Its first characters, shown until the person asks for the whole.
    var hint: String
    var createdAt: String
    var createdText: String
    var deletePath: String
    var canDelete: Bool
}
