import Foundation

/// An event Ferry emits about its own delivery work (Svix's operational webhooks, Hook0's `api.*` self-events)
/// into the application an organization chose for them, so its people subscribe to them with ordinary
/// subscriptions: a subscription disabled or enabled again, a circuit opened or closed, an attempt given up.
public struct OperationalEvent: Sendable, Equatable {
    /// What happened; each is an event type `ferry.<resource>.<verb>` of the receiving application.
    public enum Kind: String, CaseIterable, Sendable {
        case subscriptionDisabled = "ferry.subscription.disabled"
        case subscriptionEnabled = "ferry.subscription.enabled"
        case circuitOpened = "ferry.circuit.opened"
        case circuitClosed = "ferry.circuit.closed"
        case attemptGivenUp = "ferry.attempt.given_up"

        /// The event type the receiving application needs.
        public var eventType: EventType {
            let parts = rawValue.split(separator: ".").map(String.init)
            return EventType(service: parts[0], resourceType: parts[1], verb: parts[2])
        }
    }

    /// The label every operational event carries (`ferry: operational`), beside `application_id`: the application
    /// the event is about.
    public static let label = (key: "ferry", value: "operational")

    public var kind: Kind
    /// The application whose subscription or attempt this is about.
    public var sourceApplicationID: UUID
    /// The payload's fields besides `application_id` and `occurred_at`.
    public var fields: [String: JSONValue]
    public var occurredAt: Date

    public init(kind: Kind, sourceApplicationID: UUID, fields: [String: JSONValue], occurredAt: Date = Date()) {
        self.kind = kind
        self.sourceApplicationID = sourceApplicationID
        self.fields = fields
        self.occurredAt = occurredAt
    }

    /// The event to ingest into the organization's operational application `applicationID`: a JSON payload with
    /// the kind, the source application and the fields, labelled `ferry: operational` and `application_id`.
    public func event(in applicationID: UUID) -> Event {
        var payload = fields
        payload["application_id"] = .string(sourceApplicationID.lowercased)
        payload["occurred_at"] = .string(Timestamp.format(occurredAt))
        payload["type"] = .string(kind.rawValue)
        return Event(
            id: UUIDv7.make(), applicationID: applicationID, eventType: kind.rawValue,
            payload: JSONValue.object(payload).encoded(), payloadContentType: .json, ip: nil, metadata: [:],
            labels: [Self.label.key: Self.label.value, "application_id": sourceApplicationID.lowercased],
            occurredAt: occurredAt, receivedAt: occurredAt)
    }

    /// A subscription was disabled, by request or by Ferry (410 Gone, failures for too long).
    public static func subscriptionDisabled(_ subscriptionID: UUID, applicationID: UUID, reason: String)
        -> OperationalEvent
    {
        OperationalEvent(
            kind: .subscriptionDisabled, sourceApplicationID: applicationID,
            fields: ["subscription_id": .string(subscriptionID.lowercased), "reason": .string(reason)])
    }

    /// A disabled subscription was enabled again.
    public static func subscriptionEnabled(_ subscriptionID: UUID, applicationID: UUID) -> OperationalEvent {
        OperationalEvent(
            kind: .subscriptionEnabled, sourceApplicationID: applicationID,
            fields: ["subscription_id": .string(subscriptionID.lowercased)])
    }

    /// A subscription's circuit opened after `consecutiveFailures` failures; the probe waits until `probeAt`.
    public static func circuitOpened(
        _ subscriptionID: UUID, applicationID: UUID, consecutiveFailures: Int, probeAt: Date
    ) -> OperationalEvent {
        OperationalEvent(
            kind: .circuitOpened, sourceApplicationID: applicationID,
            fields: [
                "subscription_id": .string(subscriptionID.lowercased),
                "consecutive_failures": .number(Double(consecutiveFailures)),
                "next_probe_at": .string(Timestamp.format(probeAt)),
            ])
    }

    /// A subscription's circuit closed: its probe succeeded.
    public static func circuitClosed(_ subscriptionID: UUID, applicationID: UUID) -> OperationalEvent {
        OperationalEvent(
            kind: .circuitClosed, sourceApplicationID: applicationID,
            fields: ["subscription_id": .string(subscriptionID.lowercased)])
    }

    /// An attempt failed and no retry follows (retries exhausted, or an answer no retry can fix).
    public static func attemptGivenUp(
        attemptID: UUID, eventID: UUID, subscriptionID: UUID, applicationID: UUID, retryCount: Int,
        observation: AttemptObservation
    ) -> OperationalEvent {
        OperationalEvent(
            kind: .attemptGivenUp, sourceApplicationID: applicationID,
            fields: [
                "request_attempt_id": .string(attemptID.lowercased), "event_id": .string(eventID.lowercased),
                "subscription_id": .string(subscriptionID.lowercased), "retry_count": .number(Double(retryCount)),
                "http_status": observation.httpStatus.map { .number(Double($0)) } ?? .null,
                "error": observation.errorName.map { .string($0.rawValue) } ?? .null,
            ])
    }
}

extension OperationalEvent {
    /// The event a person's or client's change of `before` into `after` calls for: enabled again, or disabled
    /// (with the recorded reason); nil when the subscription stayed as it was.
    public static func stateChange(from before: Subscription, to after: Subscription) -> OperationalEvent? {
        guard before.isEnabled != after.isEnabled else { return nil }
        if after.isEnabled { return .subscriptionEnabled(after.id, applicationID: after.applicationID) }
        return .subscriptionDisabled(
            after.id, applicationID: after.applicationID,
            reason: after.disabledReason ?? Subscription.disabledByRequest)
    }
}
