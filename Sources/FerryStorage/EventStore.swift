import FerryCore
import Foundation

/// Durable event ingestion with fan-out, and reading events back.
public protocol EventStore: Sendable {
    /// Stores the event and one delivery job per matching subscription in one durable transaction (decision D5),
    /// returning only after the commit. Throws `DomainError.eventAlreadyIngested`, `.eventTypeDoesNotExist`, or
    /// `.forbidden` when the application was deleted (a deletion racing the ingest either refuses it or cancels the
    /// attempts it made: no attempt of a deleted application is ever left to deliver).
    func ingest(_ event: Event) async throws -> Event
    /// The newest events of an application received before `before` (all when nil), at most `limit`, newest first
    /// (by reception time, then id).
    func events(applicationID: UUID, before: EventCursor?, limit: Int) async throws -> [Event]
    /// One event of an application, with its payload.
    func event(id: UUID, applicationID: UUID) async throws -> Event?
    /// Creates fresh attempts for every subscription that currently matches the event; false if no such event.
    func replay(eventID: UUID, applicationID: UUID) async throws -> Bool
    /// Events received per UTC day for these applications, between two days inclusive.
    func eventsPerDay(applicationIDs: [UUID], from: Date, to: Date) async throws -> [EventsPerDay]
}

extension EventStore {
    /// The newest events of an application (at most `limit`), newest first.
    public func events(applicationID: UUID, limit: Int) async throws -> [Event] {
        try await events(applicationID: applicationID, before: nil, limit: limit)
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
