import FerryCore
import FerryObservability
import FerryStorage
import Foundation
import Logging
import Synchronization

/// Records what one delivery attempt observed: the retry the policy schedules, the metrics, a log line and the
/// queue's write, retried if the database fails (the delivery itself is never repeated here). The delivery worker
/// and the relay of `ferry listen` sessions record through it, so an attempt ends the same way whoever sent it.
public struct OutcomeRecorder<Queue: DeliveryQueue & CatalogStore>: Sendable {
    private let queue: Queue
    private let retryPolicy: RetryPolicy
    private let failingRule: FailingSubscriptionRule
    private let logger: Logger
    private let metrics: FerryMetrics
    /// Subscriptions this process saw succeed lately: their next successes need no write.
    private let healthy = SubscriptionMemo<Void>()
    /// Since when the database said subscriptions this process saw fail lately were failing: their next failures
    /// need no write while that streak is too short to disable them.
    private let failing = SubscriptionMemo<Date>()
    /// Opens and closes circuits, for the workers (a `ferry listen` session's subscription has none).
    private let circuitBreaker: CircuitBreaker?
    /// Where disablings, given-up attempts and circuit changes are reported as operational events.
    private let operationalEvents: (any OperationalEventSink)?

    public init(
        queue: Queue, retryPolicy: RetryPolicy, failingRule: FailingSubscriptionRule = FailingSubscriptionRule(),
        circuitPolicy: CircuitBreakerPolicy? = nil, operationalEvents: (any OperationalEventSink)? = nil,
        logger: Logger, metrics: FerryMetrics
    ) {
        self.queue = queue
        self.retryPolicy = retryPolicy
        self.failingRule = failingRule
        self.circuitBreaker = circuitPolicy.map(CircuitBreaker.init(policy:))
        self.operationalEvents = operationalEvents
        self.logger = logger
        self.metrics = metrics
    }

    /// Records `observation` for `job` and schedules its retry when the policy allows one; an answer that disables
    /// the subscription (`AttemptObservation.disablingReason`: 410 Gone) then disables it with that reason, and so
    /// does a failure that ends a long enough streak of failures (`FailingSubscriptionRule`). Returns
    /// false when the outcome was not recorded: the lease was lost (another claim or a cancellation came first) or
    /// the database kept failing.
    @discardableResult
    public func record(_ observation: AttemptObservation, for job: DeliveryJob) async -> Bool {
        let retryAt: Date?
        switch observation.outcome {
        case .delivered, .permanent:
            retryAt = nil
        case .retryable:
            retryAt = retryPolicy.overridden(by: job.retry).nextDelay(
                afterRetryCount: job.retryCount, retryAfter: observation.retryAfterSeconds,
                unitRandom: Double.random(in: 0..<1)
            ).map { Date().addingTimeInterval($0) }
        }
        metrics.deliveryFinished(observation, retryScheduled: retryAt != nil)
        logger.info(
            "delivery attempt",
            metadata: [
                "attempt_id": "\(job.attemptID.lowercased)", "event_id": "\(job.eventID.lowercased)",
                "subscription_id": "\(job.subscriptionID.lowercased)", "retry_count": "\(job.retryCount)",
                "status": "\(observation.httpStatus.map(String.init) ?? "-")",
                "error": "\(observation.errorName?.rawValue ?? "-")",
                "elapsed_ms": "\(observation.elapsedMilliseconds)",
                "retry_at": "\(retryAt.map(Timestamp.format) ?? "-")",
            ])
        let attempt: Logger.Metadata = ["attempt_id": "\(job.attemptID.lowercased)"]
        await circuitBreaker?.countFailure(
            observation, of: job, queue: queue, events: operationalEvents, logger: logger, metrics: metrics)
        let recorded = await retryingStorage("recording outcome failed", attempt) {
            try await queue.recordOutcome(observation, for: job, retryAt: retryAt)
        }
        switch recorded {
        case true?:
            if !observation.isDelivered, retryAt == nil {
                await operationalEvents?.emit(
                    .attemptGivenUp(
                        attemptID: job.attemptID, eventID: job.eventID, subscriptionID: job.subscriptionID,
                        applicationID: job.applicationID, retryCount: job.retryCount, observation: observation))
            }
            await follow(observation, of: job)
            return true
        case false?:
            logger.notice("attempt outcome dropped: lease lost", metadata: attempt)
            return false
        case nil:
            return false
        }
    }

    /// What the recorded outcome means for the subscription: disabled by a 410; its circuit closed or kept open
    /// by a probe (`CircuitBreaker`; a failure opens it before the outcome is recorded); its failing streak ended by a success, or extended by a failure, and disabled once the
    /// streak is long enough. A failure to write this is logged, not retried: the next outcome writes it again.
    private func follow(_ observation: AttemptObservation, of job: DeliveryJob) async {
        if let reason = observation.disablingReason {
            await disable(job, reason: reason)
            return
        }
        await circuitBreaker?.follow(
            observation, of: job, queue: queue, events: operationalEvents, logger: logger, metrics: metrics)
        do {
            if observation.isDelivered {
                failing.forget(job.subscriptionID)
                guard healthy.value(job.subscriptionID) == nil else { return }
                try await queue.markSubscriptionHealthy(job.subscriptionID)
                healthy.remember(job.subscriptionID, ())
                return
            }
            healthy.forget(job.subscriptionID)
            guard failingRule.span != nil else { return }
            let now = Date()
            // The database's streak can only have started later than the one remembered (a success ends it and a
            // failure starts the next), so while the remembered one is too short to disable, so is the real one.
            if let since = failing.value(job.subscriptionID),
                failingRule.disablingReason(failingSince: since, now: now) == nil
            {
                return
            }
            guard let since = try await queue.markSubscriptionFailing(job.subscriptionID, at: now) else { return }
            failing.remember(job.subscriptionID, since)
            guard let reason = failingRule.disablingReason(failingSince: since, now: now) else { return }
            await disable(job, reason: reason)
        } catch {
            logger.warning(
                "recording the subscription's failing streak failed",
                metadata: ["subscription_id": "\(job.subscriptionID.lowercased)", "error": "\(error)"])
        }
    }

    /// Disables the job's subscription with `reason`, retrying if the database fails; only the call that changed
    /// it (not those of other attempts answered meanwhile) logs and reports it.
    private func disable(_ job: DeliveryJob, reason: String) async {
        let metadata: Logger.Metadata = ["subscription_id": "\(job.subscriptionID.lowercased)"]
        let disabled = await retryingStorage("disabling subscription failed", metadata) {
            try await queue.setSubscriptionEnabled(
                id: job.subscriptionID, applicationID: job.applicationID, isEnabled: false, reason: reason,
                onlyIfChanged: true)
        }
        if case .some(.some) = disabled {
            logger.notice("subscription disabled", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
            await operationalEvents?.emit(
                .subscriptionDisabled(job.subscriptionID, applicationID: job.applicationID, reason: reason))
        }
    }

    /// Runs a bookkeeping write up to five times while the database fails (never the delivery itself), logging
    /// each failure with `failure`; nil when every try failed.
    private func retryingStorage<T: Sendable>(
        _ failure: Logger.Message, _ metadata: Logger.Metadata, _ write: () async throws -> T
    ) async -> T? {
        for attempt in 1...5 {
            do {
                return try await write()
            } catch {
                logger.warning(failure, metadata: metadata.merging(["error": "\(error)"]) { $1 })
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        return nil
    }
}

/// What a process learned about subscriptions within the last half minute (that one succeeded; since when one was
/// failing), so the next outcome of the same kind needs no database write. Skipping a success's write is safe
/// because nothing can have started a failing streak here since, and a streak another process started is ended by
/// the first success after the memo lapses, long before any span that disables. Skipping a failure's write may
/// leave a streak that another process's success ended unrecorded for at most the half minute; the next failure
/// after that records it. One tenant's failing endpoints thus cost no database round trip per failure, which
/// would otherwise queue every tenant's ingests and claims behind them on the connection pool.
final class SubscriptionMemo<Value: Sendable>: Sendable {
    private static var lifetime: Duration { .seconds(30) }
    private static var rememberedSubscriptions: Int { 100_000 }
    private let entries = Mutex<[UUID: (value: Value, until: ContinuousClock.Instant)]>([:])

    /// What was remembered of `id` less than half a minute ago, if anything.
    func value(_ id: UUID) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[id], entry.until >= ContinuousClock.now else { return nil }
            return entry.value
        }
    }

    func remember(_ id: UUID, _ value: Value) {
        entries.withLock { entries in
            if entries.count > Self.rememberedSubscriptions { entries.removeAll() }
            entries[id] = (value, ContinuousClock.now + Self.lifetime)
        }
    }

    func forget(_ id: UUID) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }
}
