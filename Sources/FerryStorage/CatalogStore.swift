import FerryCore
import Foundation

/// Event types and subscriptions: what an application emits and who wants it.
public protocol CatalogStore: Sendable {
    /// Creates an event type, or re-activates it if it exists (Hook0's upsert); a `payloadSchema` given replaces
    /// the stored one, none keeps it. Returns the event type as stored.
    func upsertEventType(applicationID: UUID, _ eventType: EventType) async throws -> EventType
    /// Sets (or, with nil, removes) the payload schema of an active event type; nil when there is none.
    func setEventTypeSchema(applicationID: UUID, name: String, schema: String?) async throws -> EventType?
    /// The payload schema of an event type, active or deactivated (its events are still ingested), if it has one.
    func eventTypeSchema(applicationID: UUID, name: String) async throws -> String?
    /// Active event types of an application, by name.
    func eventTypes(applicationID: UUID) async throws -> [EventType]
    /// One active event type, or nil.
    func eventType(applicationID: UUID, name: String) async throws -> EventType?
    /// Deactivates an event type: it is no longer listed, but (as in Hook0) events of it are still ingested and
    /// delivered and subscriptions may still name it.
    func deactivateEventType(applicationID: UUID, name: String) async throws -> Bool

    /// Creates a subscription; throws `DomainError.eventTypeDoesNotExist` if a type was never created
    /// (a deactivated type still counts, as in Hook0).
    func createSubscription(_ draft: SubscriptionDraft, secret: UUID) async throws -> Subscription
    /// Live subscriptions of an application, oldest first.
    func subscriptions(applicationID: UUID) async throws -> [Subscription]
    /// One live subscription, or nil.
    func subscription(id: UUID) async throws -> Subscription?
    /// Replaces a live subscription; disabling it cancels its pending attempts.
    func replaceSubscription(id: UUID, with draft: SubscriptionDraft) async throws -> Subscription?
    /// Gives a live subscription a new `secret` (and `ed25519Key`, when v1a signing is on); the replaced ones keep
    /// signing beside them until `previousUntil`, or stop at once when that is not in the future. Nil when there is
    /// no such subscription.
    func rotateSubscriptionSecret(
        id: UUID, applicationID: UUID, secret: UUID, ed25519Key: [UInt8], previousUntil: Date
    ) async throws -> Subscription?
    /// Enables or disables a live subscription of an application, changing nothing else (disabling cancels its
    /// pending attempts and records `reason` and the time, unless it was disabled already; enabling clears them);
    /// nil when there is no such subscription, and with `onlyIfChanged` also when it already was in that state (so
    /// of several workers disabling it at once, one learns that it did).
    func setSubscriptionEnabled(
        id: UUID, applicationID: UUID, isEnabled: Bool, reason: String, onlyIfChanged: Bool
    ) async throws -> Subscription?
    /// Soft-deletes a subscription of an application and cancels its pending attempts.
    func deleteSubscription(id: UUID, applicationID: UUID) async throws -> Bool
}

extension CatalogStore {
    /// Enables or disables a subscription at a person's or a client's request (`Subscription.disabledByRequest`).
    public func setSubscriptionEnabled(id: UUID, applicationID: UUID, isEnabled: Bool) async throws
        -> Subscription?
    {
        try await setSubscriptionEnabled(
            id: id, applicationID: applicationID, isEnabled: isEnabled, reason: Subscription.disabledByRequest,
            onlyIfChanged: false)
    }
}
