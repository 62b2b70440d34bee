import FerryCore
import Foundation

/// The delivery work queue: workers claim due attempts under a lease and record what happened.
public protocol DeliveryQueue: Sendable {
    /// Leases up to `limit` due, unfinished attempts whose lease (if any) has expired, oldest due first, leaving
    /// alone those `exclusions` names (work this process already sends as much to as it may), those of relayed
    /// subscriptions (their `ferry listen` session takes them) and those of subscriptions whose circuit is open
    /// until a later probe.
    func claimDueJobs(limit: Int, leaseFor lease: Duration, excluding exclusions: ClaimExclusions) async throws
        -> [DeliveryJob]
    /// Leases due attempts of one live, enabled, relayed subscription for the `ferry listen` session relaying them,
    /// so that at most `limit` of its attempts are leased and unanswered at once (a session gets no more than it
    /// can answer within its leases).
    func claimRelayedJobs(subscriptionID: UUID, limit: Int, leaseFor lease: Duration) async throws -> [DeliveryJob]
    /// Records an attempt's response and final state, and schedules the retry if `retryAt` is set and the
    /// subscription is still live. Does nothing and returns false if the job's lease was lost. A scheduled retry,
    /// and any finished attempt of an ordered subscription (its successor becomes claimable), announce work.
    func recordOutcome(_ observation: AttemptObservation, for job: DeliveryJob, retryAt: Date?) async throws -> Bool
    /// Notes that an attempt to a live subscription failed at `now`, and answers since when every attempt to it
    /// has failed (`now`, or an earlier failure with no success since); nil when the subscription is gone.
    func markSubscriptionFailing(_ id: UUID, at now: Date) async throws -> Date?
    /// Notes that an attempt to the subscription succeeded: it is no longer failing.
    func markSubscriptionHealthy(_ id: UUID) async throws
    /// Opens the circuit of a live subscription whose circuit is closed: its attempts wait until `probeAt`.
    /// Returns false when the circuit was open already or the subscription is gone.
    func openCircuit(subscriptionID: UUID, at now: Date, probeAt: Date) async throws -> Bool
    /// Takes the probe of an open circuit whose probe is due, moving the next probe to `until` (the probe's lease)
    /// so no other claim sends one meanwhile. Returns false when another worker took it first or it is closed.
    func takeCircuitProbe(subscriptionID: UUID, until: Date) async throws -> Bool
    /// Keeps an open circuit open after a failed probe: the next probe waits until `probeAt`.
    func scheduleCircuitProbe(subscriptionID: UUID, probeAt: Date) async throws
    /// Closes the circuit after a successful probe; returns whether it was open.
    func closeCircuit(subscriptionID: UUID) async throws -> Bool
    /// Gives leased jobs back so another worker can take them at once (graceful shutdown, or a claim that took
    /// more than the fair scheduler lets this process send).
    func releaseLeases(of jobs: [DeliveryJob]) async throws
    /// The earliest moment a job workers send becomes due (a delay, a lease running out or a circuit's probe),
    /// if any, leaving out what `exclusions` names.
    func nextDueDate(excluding exclusions: ClaimExclusions) async throws -> Date?
    /// Signalled whenever new work may be due (after an ingest, a replay, a scheduled retry or an ordered
    /// subscription's finished attempt commits).
    var workSignal: WorkSignal { get }
}

extension DeliveryQueue {
    /// Leases due attempts without exclusions.
    public func claimDueJobs(limit: Int, leaseFor lease: Duration) async throws -> [DeliveryJob] {
        try await claimDueJobs(limit: limit, leaseFor: lease, excluding: ClaimExclusions())
    }

    /// The earliest moment any job workers send becomes due.
    public func nextDueDate() async throws -> Date? {
        try await nextDueDate(excluding: ClaimExclusions())
    }
}

/// The work a claim leaves for later because this process already sends as much to it as the fair scheduler
/// allows: subscriptions (and the known subscriptions of a target host) and applications at their limit.
public struct ClaimExclusions: Sendable, Equatable {
    public var subscriptionIDs: [UUID]
    public var applicationIDs: [UUID]

    public init(subscriptionIDs: [UUID] = [], applicationIDs: [UUID] = []) {
        self.subscriptionIDs = subscriptionIDs
        self.applicationIDs = applicationIDs
    }

    public var isEmpty: Bool { subscriptionIDs.isEmpty && applicationIDs.isEmpty }
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
    /// When the subscription's circuit opened, if it is open: the claim leaves attempts of open circuits alone
    /// until their probe is due, so such a job is a candidate for the probe.
    public var circuitOpenedAt: Date?
    /// The subscription's Ed25519 key and, during a rotation's grace period, its previous secret and key.
    public var signing: SigningKeys
    /// Whether the subscription delivers in order: when this attempt finishes, the next one becomes claimable.
    public var isOrdered: Bool

    public init(
        attemptID: UUID, claimToken: UUID, applicationID: UUID, eventID: UUID, eventType: String, payload: [UInt8],
        payloadContentType: String, subscriptionID: UUID, secret: UUID, target: HTTPTarget, retryCount: Int,
        retry: RetryOverride = RetryOverride(), circuitOpenedAt: Date? = nil, signing: SigningKeys = SigningKeys(),
        isOrdered: Bool = false
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
        self.circuitOpenedAt = circuitOpenedAt
        self.signing = signing
        self.isOrdered = isOrdered
    }
}
