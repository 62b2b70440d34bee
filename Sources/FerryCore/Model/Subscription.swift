import Foundation

/// Where and how a subscription's deliveries are sent.
public struct HTTPTarget: Sendable, Equatable {
    /// Methods Hook0 accepts, uppercase only.
    public static let allowedMethods: Set<String> = ["GET", "PATCH", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"]

    public var method: String
    public var url: String
    /// Extra request headers; names are lower-cased.
    public var headers: [String: String]

    public init(method: String, url: String, headers: [String: String]) {
        self.method = method
        self.url = url
        self.headers = headers
    }
}

/// A receiver's interest in some event types (and labels) of one application.
public struct Subscription: Sendable, Equatable {
    public var id: UUID
    public var applicationID: UUID
    public var isEnabled: Bool
    public var eventTypes: [String]
    public var description: String?
    /// The signing key: this UUID's lowercase string, used as raw bytes (Hook0 and Standard Webhooks).
    public var secret: UUID
    public var metadata: [String: String]
    public var labels: [String: String]
    public var target: HTTPTarget
    /// Deliveries are relayed to a `ferry listen` session, which sends them to `target` on its own machine; workers
    /// never send them (a Ferry extension).
    public var isRelayed: Bool
    /// Why the subscription was last disabled (a person's request, a 410 Gone, failures for too long), while it is
    /// disabled; nil when enabled (a Ferry extension).
    public var disabledReason: String?
    /// When it was last disabled, while it is disabled.
    public var disabledAt: Date?
    /// Since when every attempt to it has failed (the first failure after its last success), while that lasts.
    public var failingSince: Date?
    /// Its own retry schedule and cap, where it sets them (a Ferry extension); the server's otherwise.
    public var retry: RetryOverride
    /// Its circuit breaker (a Ferry extension): open after consecutive failures, its attempts then waiting for a
    /// probe.
    public var circuit: CircuitState
    /// Its Ed25519 key (v1a signing) and the secret and key a rotation replaced, while they still sign.
    public var signing: SigningKeys
    /// Deliveries go one at a time in the order the events were received: an event is not sent before the previous
    /// one succeeded or gave up (a Ferry extension, off by default).
    public var isOrdered: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, applicationID: UUID, isEnabled: Bool, eventTypes: [String], description: String?,
        secret: UUID, metadata: [String: String], labels: [String: String], target: HTTPTarget,
        isRelayed: Bool = false, disabledReason: String? = nil, disabledAt: Date? = nil, failingSince: Date? = nil,
        retry: RetryOverride = RetryOverride(), circuit: CircuitState = CircuitState(),
        signing: SigningKeys = SigningKeys(), isOrdered: Bool = false, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.applicationID = applicationID
        self.isEnabled = isEnabled
        self.eventTypes = eventTypes
        self.description = description
        self.secret = secret
        self.metadata = metadata
        self.labels = labels
        self.target = target
        self.isRelayed = isRelayed
        self.disabledReason = disabledReason
        self.disabledAt = disabledAt
        self.failingSince = failingSince
        self.retry = retry
        self.circuit = circuit
        self.signing = signing
        self.isOrdered = isOrdered
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The reason recorded when a person or a client disables a subscription (the API's `is_enabled: false`, the
    /// dashboard, `ferry subscriptions disable`).
    public static let disabledByRequest = "disabled by request"

    /// The Standard Webhooks form of the secret (`whsec_` + base64 of the secret string's UTF-8 bytes).
    public var standardWebhooksSecret: String {
        "whsec_" + Data(secret.lowercased.utf8).base64EncodedString()
    }

    /// This subscription as the fan-out sees it.
    public var fanOutCandidate: FanOutRule.Candidate {
        FanOutRule.Candidate(id: id, isEnabled: isEnabled, eventTypes: eventTypes, labels: labels)
    }

    /// Whether an event of `eventType` with `eventLabels` goes to this subscription (`FanOutRule`).
    public func matches(eventType: String, eventLabels: [String: String]) -> Bool {
        FanOutRule.delivers(eventType: eventType, eventLabels: eventLabels, to: fanOutCandidate)
    }
}

/// What a client sends to create or replace a subscription, before the server adds ids and the secret.
public struct SubscriptionDraft: Sendable, Equatable {
    public var applicationID: UUID
    public var isEnabled: Bool
    public var eventTypes: [String]
    public var description: String?
    public var metadata: [String: String]
    public var labels: [String: String]
    public var target: HTTPTarget
    /// Deliveries go to a `ferry listen` session instead of being sent by workers.
    public var isRelayed: Bool
    /// Its own retry schedule and cap, where it sets them.
    public var retry: RetryOverride
    /// Whether Standard Webhooks v1a (Ed25519) signing is turned on, off, or left as it is.
    public var ed25519: Ed25519KeyChange
    /// Whether deliveries go in order, one at a time; nil leaves it as it is (off on create).
    public var ordered: Bool?

    public init(
        applicationID: UUID, isEnabled: Bool, eventTypes: [String], description: String?,
        metadata: [String: String], labels: [String: String], target: HTTPTarget, isRelayed: Bool = false,
        retry: RetryOverride = RetryOverride(), ed25519: Ed25519KeyChange = .keep, ordered: Bool? = nil
    ) {
        self.applicationID = applicationID
        self.isEnabled = isEnabled
        self.eventTypes = eventTypes
        self.description = description
        self.metadata = metadata
        self.labels = labels
        self.target = target
        self.isRelayed = isRelayed
        self.retry = retry
        self.ed25519 = ed25519
        self.ordered = ordered
    }
}
