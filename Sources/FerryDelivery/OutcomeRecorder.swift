import FerryCore
import FerryObservability
import FerryStorage
import Foundation
import Logging

/// Records what one delivery attempt observed: the retry the policy schedules, the metrics, a log line and the
/// queue's write, retried if the database fails (the delivery itself is never repeated here). The delivery worker
/// and the relay of `ferry listen` sessions record through it, so an attempt ends the same way whoever sent it.
public struct OutcomeRecorder<Queue: DeliveryQueue & CatalogStore>: Sendable {
    private let queue: Queue
    private let retryPolicy: RetryPolicy
    private let logger: Logger
    private let metrics: FerryMetrics

    public init(queue: Queue, retryPolicy: RetryPolicy, logger: Logger, metrics: FerryMetrics) {
        self.queue = queue
        self.retryPolicy = retryPolicy
        self.logger = logger
        self.metrics = metrics
    }

    /// Records `observation` for `job` and schedules its retry when the policy allows one; an answer that disables
    /// the subscription (`AttemptObservation.disablingReason`: 410 Gone) then disables it with that reason. Returns
    /// false when the outcome was not recorded: the lease was lost (another claim or a cancellation came first) or
    /// the database kept failing.
    @discardableResult
    public func record(_ observation: AttemptObservation, for job: DeliveryJob) async -> Bool {
        let retryAt: Date?
        switch observation.outcome {
        case .delivered, .permanent:
            retryAt = nil
        case .retryable:
            retryAt = retryPolicy.nextDelay(
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
        for attempt in 1...5 {
            do {
                if try await !queue.recordOutcome(observation, for: job, retryAt: retryAt) {
                    logger.notice(
                        "attempt outcome dropped: lease lost", metadata: ["attempt_id": "\(job.attemptID.lowercased)"])
                    return false
                }
                if let reason = observation.disablingReason { await disable(job, reason: reason) }
                return true
            } catch {
                logger.warning(
                    "recording outcome failed",
                    metadata: ["attempt_id": "\(job.attemptID.lowercased)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        return false
    }

    /// Disables the job's subscription with `reason`, retrying if the database fails.
    private func disable(_ job: DeliveryJob, reason: String) async {
        for attempt in 1...5 {
            do {
                _ = try await queue.setSubscriptionEnabled(
                    id: job.subscriptionID, applicationID: job.applicationID, isEnabled: false, reason: reason)
                logger.notice(
                    "subscription disabled",
                    metadata: ["subscription_id": "\(job.subscriptionID.lowercased)", "reason": "\(reason)"])
                return
            } catch {
                logger.warning(
                    "disabling subscription failed",
                    metadata: ["subscription_id": "\(job.subscriptionID.lowercased)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }
}
