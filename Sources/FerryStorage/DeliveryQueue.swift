import FerryCore
import Foundation

/// The delivery work queue: workers claim due attempts under a lease and record what happened.
public protocol DeliveryQueue: Sendable {
    /// Leases up to `limit` due, unfinished attempts whose lease (if any) has expired, oldest due first; attempts of
    /// relayed subscriptions are left to their `ferry listen` session.
    func claimDueJobs(limit: Int, leaseFor lease: Duration) async throws -> [DeliveryJob]
    /// Leases due attempts of one live, enabled, relayed subscription for the `ferry listen` session relaying them,
    /// so that at most `limit` of its attempts are leased and unanswered at once (a session gets no more than it
    /// can answer within its leases).
    func claimRelayedJobs(subscriptionID: UUID, limit: Int, leaseFor lease: Duration) async throws -> [DeliveryJob]
    /// Records an attempt's response and final state, and schedules the retry if `retryAt` is set and the
    /// subscription is still live. Does nothing and returns false if the job's lease was lost.
    func recordOutcome(_ observation: AttemptObservation, for job: DeliveryJob, retryAt: Date?) async throws -> Bool
    /// Notes that an attempt to a live subscription failed at `now`, and answers since when every attempt to it
    /// has failed (`now`, or an earlier failure with no success since); nil when the subscription is gone.
    func markSubscriptionFailing(_ id: UUID, at now: Date) async throws -> Date?
    /// Notes that an attempt to the subscription succeeded: it is no longer failing.
    func markSubscriptionHealthy(_ id: UUID) async throws
    /// Gives leased jobs back so another worker can take them at once (graceful shutdown).
    func releaseLeases(of jobs: [DeliveryJob]) async throws
    /// The earliest moment a job workers send becomes due (a delay or a lease running out), if any.
    func nextDueDate() async throws -> Date?
    /// Signalled whenever new work may be due (after an ingest, a replay or a scheduled retry commits).
    var workSignal: WorkSignal { get }
}

/// Everything a worker needs to deliver one attempt, read in the claim.
public struct DeliveryJob: Sendable, Equatable {
    public var attemptID: UUID
    /// Identifies this lease; an outcome is recorded only while it is still the attempt's claim.
    public var claimToken: UUID
    public var applicationID: UUID
    public var eventID: UUID
    public var eventType: String
    public var payload: [UInt8]
    public var payloadContentType: String
    public var subscriptionID: UUID
    public var secret: UUID
    public var target: HTTPTarget
    public var retryCount: Int
    /// The subscription's own retry settings, if it sets any.
    public var retry: RetryOverride

    public init(
        attemptID: UUID, claimToken: UUID, applicationID: UUID, eventID: UUID, eventType: String, payload: [UInt8],
        payloadContentType: String, subscriptionID: UUID, secret: UUID, target: HTTPTarget, retryCount: Int,
        retry: RetryOverride = RetryOverride()
    ) {
        self.attemptID = attemptID
        self.claimToken = claimToken
        self.applicationID = applicationID
        self.eventID = eventID
        self.eventType = eventType
        self.payload = payload
        self.payloadContentType = payloadContentType
        self.subscriptionID = subscriptionID
        self.secret = secret
        self.target = target
        self.retryCount = retryCount
        self.retry = retry
    }
}
