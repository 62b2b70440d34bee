import FerryCore
import Foundation

/// Reading the delivery history: request attempts and recorded responses.
public protocol AttemptStore: Sendable {
    /// One page of attempts matching the query, ordered `created_at DESC, id DESC`.
    func requestAttempts(_ query: AttemptQuery) async throws -> [RequestAttempt]
    /// One attempt of an application.
    func requestAttempt(id: UUID, applicationID: UUID) async throws -> RequestAttempt?
    /// Sends one attempt's event again to that attempt's subscription only (Hook0's replay sends to every
    /// subscription): a new attempt, due now, with no retries yet. Answers its id, or nil when the attempt is not
    /// one of the application's or its subscription is deleted or disabled.
    func retryAttempt(id: UUID, applicationID: UUID) async throws -> UUID?
    /// One response of an application.
    func response(id: UUID, applicationID: UUID) async throws -> AttemptResponse?
    /// One application's attempts per UTC day of their creation, between two days inclusive: how many succeeded
    /// and failed, and the median and 95th percentile (nearest rank) of the answered ones' latency.
    func deliveriesPerDay(applicationID: UUID, from: Date, to: Date) async throws -> [DeliveriesPerDay]
    /// One application's unfinished attempts as of `now`.
    func applicationQueue(applicationID: UUID, at now: Date) async throws -> ApplicationQueue
}

/// One UTC day of an application's deliveries.
public struct DeliveriesPerDay: Sendable, Equatable {
    /// Midnight UTC of the day.
    public var day: Date
    public var succeeded: Int
    public var failed: Int
    /// Latency of the attempts that got an answer, in milliseconds; nil when none did.
    public var medianMilliseconds: Int?
    public var p95Milliseconds: Int?

    public init(day: Date, succeeded: Int, failed: Int, medianMilliseconds: Int?, p95Milliseconds: Int?) {
        self.day = day
        self.succeeded = succeeded
        self.failed = failed
        self.medianMilliseconds = medianMilliseconds
        self.p95Milliseconds = p95Milliseconds
    }
}

/// An application's unfinished attempts: due (to be sent now), being sent (a worker holds a lease), waiting (a
/// retry later), and when the oldest due one became due.
public struct ApplicationQueue: Sendable, Equatable {
    public var due: Int
    public var inFlight: Int
    public var waiting: Int
    public var oldestDueAt: Date?

    public init(due: Int, inFlight: Int, waiting: Int, oldestDueAt: Date?) {
        self.due = due
        self.inFlight = inFlight
        self.waiting = waiting
        self.oldestDueAt = oldestDueAt
    }
}

/// Filters and position for listing request attempts.
public struct AttemptQuery: Sendable, Equatable {
    public var applicationID: UUID
    public var eventID: UUID?
    public var subscriptionID: UUID?
    public var minCreatedAt: Date?
    public var maxCreatedAt: Date?
    public var eventTypes: [String]?
    /// Continue strictly after this (created_at, id) position, in descending order.
    public var after: AttemptCursor?
    public var limit: Int

    public init(
        applicationID: UUID, eventID: UUID? = nil, subscriptionID: UUID? = nil, minCreatedAt: Date? = nil,
        maxCreatedAt: Date? = nil, eventTypes: [String]? = nil, after: AttemptCursor? = nil, limit: Int = 50
    ) {
        self.applicationID = applicationID
        self.eventID = eventID
        self.subscriptionID = subscriptionID
        self.minCreatedAt = minCreatedAt
        self.maxCreatedAt = maxCreatedAt
        self.eventTypes = eventTypes
        self.after = after
        self.limit = limit
    }
}

/// A position in the attempts listing: the last row's creation time and id.
public struct AttemptCursor: Sendable, Equatable {
    public var createdAt: Date
    public var id: UUID

    public init(createdAt: Date, id: UUID) {
        self.createdAt = createdAt
        self.id = id
    }
}
