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
    /// One application's ended attempts per UTC day they ended, between two days inclusive, from the daily
    /// tallies (`DailyTally`): how many succeeded and failed, and the median and 95th percentile (nearest rank, to
    /// the tallies' latency buckets) of their latency. Only days on which an attempt ended are listed.
    func deliveriesPerDay(applicationID: UUID, from: Date, to: Date) async throws -> [DeliveriesPerDay]
    /// How many attempts match the query's filters (its position and limit aside).
    func countAttempts(_ query: AttemptQuery) async throws -> Int
    /// Sends again, once, the given-up attempts of an application created between two times (of one subscription
    /// when given): a new attempt due now for each, at most `limit`, the oldest first, to subscriptions that are
    /// live and enabled. A recovered attempt is no longer given up, so recovering the same range again sends
    /// nothing twice. Answers how many were sent again.
    func recoverGivenUp(applicationID: UUID, subscriptionID: UUID?, from: Date, to: Date, limit: Int) async throws
        -> Int
    /// One application's unfinished attempts as of `now`, each count stopping at `ApplicationQueue.countLimit`.
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

    /// The days of an application's deliveries from its tallies of `succeeded`, `failed` and `latency` (any
    /// order, a day and bucket possibly in several rows), oldest first.
    public static func days(fromTallies tallies: [DailyTallyRow]) -> [DeliveriesPerDay] {
        var outcomes: [Int: (succeeded: Int, failed: Int)] = [:]
        var latencies: [Int: [Int: Int]] = [:]
        for tally in tallies {
            switch tally.measure {
            case .succeeded: outcomes[tally.day, default: (0, 0)].succeeded += tally.amount
            case .failed: outcomes[tally.day, default: (0, 0)].failed += tally.amount
            case .latency: latencies[tally.day, default: [:]][tally.bucket, default: 0] += tally.amount
            case .events: break
            }
        }
        return outcomes.keys.sorted().compactMap { day in
            guard let outcome = outcomes[day], outcome.succeeded + outcome.failed > 0 else { return nil }
            let buckets = latencies[day] ?? [:]
            return DeliveriesPerDay(
                day: DailyTally.start(ofDay: day), succeeded: outcome.succeeded, failed: outcome.failed,
                medianMilliseconds: DailyTally.percentile(50, of: buckets),
                p95Milliseconds: DailyTally.percentile(95, of: buckets))
        }
    }
}

/// One stored row of the daily tallies (`DailyTally`) as a store reads it back.
public struct DailyTallyRow: Sendable, Equatable {
    public var day: Int
    public var measure: DailyTally.Measure
    public var bucket: Int
    public var amount: Int

    public init(day: Int, measure: DailyTally.Measure, bucket: Int, amount: Int) {
        self.day = day
        self.measure = measure
        self.bucket = bucket
        self.amount = amount
    }
}

/// An application's unfinished attempts: due (to be sent now), being sent (a worker holds a lease), waiting (a
/// retry later), and when the oldest due one became due. The stores count at most `countLimit` due attempts and
/// `countLimit` later ones (the soonest), so reading a queue stays cheap however long it is: `dueIsCounted` and
/// `laterAreCounted` say whether the numbers are whole.
public struct ApplicationQueue: Sendable, Equatable {
    /// How many due, and how many later, attempts a store counts at most.
    public static let countLimit = 10_000

    public var due: Int
    public var inFlight: Int
    public var waiting: Int
    public var oldestDueAt: Date?
    /// False when more than `countLimit` attempts are due: `due` is then `countLimit`.
    public var dueIsCounted: Bool
    /// False when more than `countLimit` attempts are being sent or waiting: `inFlight` and `waiting` then count
    /// the `countLimit` soonest.
    public var laterAreCounted: Bool

    public init(
        due: Int, inFlight: Int, waiting: Int, oldestDueAt: Date?, dueIsCounted: Bool = true,
        laterAreCounted: Bool = true
    ) {
        self.due = due
        self.inFlight = inFlight
        self.waiting = waiting
        self.oldestDueAt = oldestDueAt
        self.dueIsCounted = dueIsCounted
        self.laterAreCounted = laterAreCounted
    }

    /// A queue from what a store counted: up to `countLimit + 1` due attempts, and of up to `countLimit + 1`
    /// later ones how many are leased.
    public init(countedDue: Int, countedLater: Int, leasedAmongLater: Int, oldestDueAt: Date?) {
        let limit = Self.countLimit
        let leased = min(leasedAmongLater, limit)
        self.init(
            due: min(countedDue, limit), inFlight: leased,
            waiting: min(countedLater, limit) - leased, oldestDueAt: oldestDueAt,
            dueIsCounted: countedDue <= limit, laterAreCounted: countedLater <= limit)
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
    /// Only attempts that ended (or not) this way.
    public var outcome: AttemptOutcomeFilter?
    /// Only attempts answered with a status of this class (2 for 2xx … 5 for 5xx), or 0: ended without an answer.
    public var httpClass: Int?
    /// Continue strictly after this (created_at, id) position, in descending order.
    public var after: AttemptCursor?
    public var limit: Int

    public init(
        applicationID: UUID, eventID: UUID? = nil, subscriptionID: UUID? = nil, minCreatedAt: Date? = nil,
        maxCreatedAt: Date? = nil, eventTypes: [String]? = nil, outcome: AttemptOutcomeFilter? = nil,
        httpClass: Int? = nil, after: AttemptCursor? = nil, limit: Int = 50
    ) {
        self.applicationID = applicationID
        self.eventID = eventID
        self.subscriptionID = subscriptionID
        self.minCreatedAt = minCreatedAt
        self.maxCreatedAt = maxCreatedAt
        self.eventTypes = eventTypes
        self.outcome = outcome
        self.httpClass = httpClass
        self.after = after
        self.limit = limit
    }

    /// The conditions of `outcome` and `httpClass` in SQL both backends run as written, over the attempt as `ra`
    /// and its response as `r`; empty when neither is set.
    public var outcomeConditions: [String] {
        var conditions: [String] = []
        if let outcome { conditions.append(outcome.condition) }
        if let httpClass {
            if httpClass == 0 {
                conditions.append("(ra.response_id IS NOT NULL AND r.http_code IS NULL)")
            } else {
                conditions.append("r.http_code BETWEEN \(httpClass * 100) AND \(httpClass * 100 + 99)")
            }
        }
        return conditions
    }
}

/// How an attempt ended, as the delivery log filters it.
public enum AttemptOutcomeFilter: String, Sendable, CaseIterable {
    case succeeded
    case failed
    /// Failed, and nothing was sent to its subscription for its event since: no retry was scheduled (the schedule
    /// ran out, or the error cannot be fixed by retrying), nor a replay or recovery. The dead letters.
    case givenUp = "given_up"
    /// Not ended yet: due, being sent or waiting for its time.
    case unfinished

    /// Its condition over the attempt `ra`.
    var condition: String {
        switch self {
        case .succeeded: "ra.succeeded_at IS NOT NULL"
        case .failed: "ra.failed_at IS NOT NULL"
        case .unfinished: "(ra.succeeded_at IS NULL AND ra.failed_at IS NULL)"
        case .givenUp:
            """
            (ra.failed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM request_attempt later
                WHERE later.event_id = ra.event_id AND later.subscription_id = ra.subscription_id
                    AND later.id <> ra.id AND later.created_at >= ra.created_at))
            """
        }
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
