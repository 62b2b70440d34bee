import FerryCore
import Foundation

/// Durable event ingestion with fan-out, and reading events back.
public protocol EventStore: Sendable {
    /// Stores the event and one delivery job per matching subscription in one durable transaction (decision D5),
    /// returning only after the commit. Throws `DomainError.eventAlreadyIngested`, `.eventTypeDoesNotExist`, or
    /// `.forbidden` when the application was deleted (a deletion racing the ingest either refuses it or cancels the
    /// attempts it made: no attempt of a deleted application is ever left to deliver).
    func ingest(_ event: Event) async throws -> Event
    /// Stores several events as `ingest(_:)` stores one, each with its own outcome (in order): the event as
    /// stored, or the error that refused it alone (`DomainError`) or that kept its write from committing
    /// (`StorageError`). Every event answered as stored is durable when this returns; one refused event never
    /// keeps the others from being stored. Throws only when nothing of the batch could be written.
    func ingest(batch events: [Event]) async throws -> [Result<Event, any Error>]
    /// One page of an application's events matching the query, newest first (by reception time, then id).
    func events(_ query: EventQuery) async throws -> [Event]
    /// One event of an application, with its payload.
    func event(id: UUID, applicationID: UUID) async throws -> Event?
    /// Creates fresh attempts for every subscription that currently matches the event; false if no such event.
    func replay(eventID: UUID, applicationID: UUID) async throws -> Bool
    /// Events received per UTC day for these applications, between two days inclusive, from the daily tallies
    /// (`DailyTally`): a day's count stays when retention deletes its events.
    func eventsPerDay(applicationIDs: [UUID], from: Date, to: Date) async throws -> [EventsPerDay]
}

extension EventStore {
    /// The newest events of an application received before `before` (all when nil), at most `limit`, newest first.
    public func events(applicationID: UUID, before: EventCursor?, limit: Int) async throws -> [Event] {
        try await events(EventQuery(applicationID: applicationID, before: before, limit: limit))
    }

    /// The newest events of an application (at most `limit`), newest first.
    public func events(applicationID: UUID, limit: Int) async throws -> [Event] {
        try await events(applicationID: applicationID, before: nil, limit: limit)
    }
}

/// Filters and position for listing an application's events.
public struct EventQuery: Sendable, Equatable {
    public var applicationID: UUID
    public var eventType: String?
    /// Only events carrying this label with this value.
    public var label: EventLabel?
    /// Received at or after, and at or before.
    public var from: Date?
    public var to: Date?
    public var delivery: EventDeliveryFilter?
    /// Continue strictly after this position.
    public var before: EventCursor?
    public var limit: Int

    public init(
        applicationID: UUID, eventType: String? = nil, label: EventLabel? = nil, from: Date? = nil, to: Date? = nil,
        delivery: EventDeliveryFilter? = nil, before: EventCursor? = nil, limit: Int = 50
    ) {
        self.applicationID = applicationID
        self.eventType = eventType
        self.label = label
        self.from = from
        self.to = to
        self.delivery = delivery
        self.before = before
        self.limit = limit
    }
}

/// A label an event must carry.
public struct EventLabel: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// Where an event's deliveries stand.
public enum EventDeliveryFilter: String, Sendable, CaseIterable {
    /// At least one attempt succeeded.
    case delivered
    /// Some attempt failed and none succeeded.
    case failing
    /// Attempts exist and none has ended yet.
    case inProgress = "in_progress"
    /// No subscription got it: no attempt at all.
    case unrouted

    /// Its condition over the event `e`, in SQL both backends run as written.
    public var condition: String {
        let attempts = "SELECT 1 FROM request_attempt a WHERE a.event_id = e.id"
        switch self {
        case .delivered: return "EXISTS (\(attempts) AND a.succeeded_at IS NOT NULL)"
        case .failing:
            return "EXISTS (\(attempts) AND a.failed_at IS NOT NULL) "
                + "AND NOT EXISTS (\(attempts) AND a.succeeded_at IS NOT NULL)"
        case .inProgress:
            return "EXISTS (\(attempts)) AND NOT EXISTS (\(attempts) AND (a.succeeded_at IS NOT NULL "
                + "OR a.failed_at IS NOT NULL))"
        case .unrouted: return "NOT EXISTS (\(attempts))"
        }
    }
}

/// A position in an application's events, newest first: the last listed event's reception time and id.
public struct EventCursor: Sendable, Equatable {
    public var receivedAt: Date
    public var id: UUID

    public init(receivedAt: Date, id: UUID) {
        self.receivedAt = receivedAt
        self.id = id
    }
}

/// A count of events received on one UTC day by one application.
public struct EventsPerDay: Sendable, Equatable {
    public var applicationID: UUID
    /// Midnight UTC of the day.
    public var day: Date
    public var amount: Int

    public init(applicationID: UUID, day: Date, amount: Int) {
        self.applicationID = applicationID
        self.day = day
        self.amount = amount
    }
}
