import FerryCore
import FerryObservability
import FerryStorage
import Foundation
import Logging
import Synchronization

/// The circuit breaker of the subscriptions a worker delivers to (`CircuitBreakerPolicy`). This process counts
/// each subscription's consecutive failures; the circuit's state lives in the database, written only when it
/// opens, when a probe is taken or fails, and when it closes, so every worker sharing the database skips an open
/// circuit's attempts in its claims and only one sends the probe.
final class CircuitBreaker: Sendable {
    /// Subscriptions counted beyond which the counts start over.
    static let rememberedSubscriptions = 100_000

    let policy: CircuitBreakerPolicy
    private let failures = Mutex<[UUID: Int]>([:])

    init(policy: CircuitBreakerPolicy) {
        self.policy = policy
    }

    /// Counts a failure that is about to be recorded and, when it ends a long enough streak, opens the circuit
    /// first: the retry the outcome schedules is then never claimable as an ordinary attempt, which a claim taken
    /// between the outcome's write and the circuit's would send, leaving the circuit open with nothing to probe it.
    /// A probe's outcome, a success and an answer that disables the subscription count nothing here.
    func countFailure<Queue: DeliveryQueue>(
        _ observation: AttemptObservation, of job: DeliveryJob, queue: Queue, events: (any OperationalEventSink)?,
        logger: Logger, metrics: FerryMetrics
    ) async {
        guard job.circuitOpenedAt == nil, !observation.isDelivered, observation.disablingReason == nil else { return }
        let subscription = job.subscriptionID
        let streak = failures.withLock { counts in
            if counts.count > Self.rememberedSubscriptions { counts.removeAll() }
            let streak = (counts[subscription] ?? 0) + 1
            counts[subscription] = streak
            return streak
        }
        guard policy.opens(afterConsecutiveFailures: streak) else { return }
        forget(subscription)
        let now = Date()
        let probeAt = policy.nextProbe(openedAt: now, now: now)
        var metadata: Logger.Metadata = ["subscription_id": "\(subscription.lowercased)"]
        do {
            guard try await queue.openCircuit(subscriptionID: subscription, at: now, probeAt: probeAt) else { return }
        } catch {
            metadata["error"] = "\(error)"
            logger.warning("opening the circuit failed", metadata: metadata)
            return
        }
        metrics.circuitChanged(opened: true)
        metadata["consecutive_failures"] = "\(streak)"
        metadata["next_probe_at"] = "\(Timestamp.format(probeAt))"
        logger.notice("circuit opened", metadata: metadata)
        await events?.emit(
            .circuitOpened(
                subscription, applicationID: job.applicationID, consecutiveFailures: streak, probeAt: probeAt))
    }

    /// Takes what a recorded attempt means for its subscription's circuit: a probe's success closes it and its
    /// failure keeps it open for longer; an ordinary success ends the streak `countFailure` counts.
    func follow<Queue: DeliveryQueue>(
        _ observation: AttemptObservation, of job: DeliveryJob, queue: Queue, events: (any OperationalEventSink)?,
        logger: Logger, metrics: FerryMetrics
    ) async {
        let subscription = job.subscriptionID
        guard let openedAt = job.circuitOpenedAt else {
            if observation.isDelivered { forget(subscription) }
            return
        }
        forget(subscription)
        var metadata: Logger.Metadata = ["subscription_id": "\(subscription.lowercased)"]
        do {
            if observation.isDelivered {
                guard try await queue.closeCircuit(subscriptionID: subscription) else { return }
                metrics.circuitChanged(opened: false)
                logger.notice("circuit closed: the probe succeeded", metadata: metadata)
                await events?.emit(.circuitClosed(subscription, applicationID: job.applicationID))
            } else {
                let probeAt = policy.nextProbe(openedAt: openedAt, now: Date())
                try await queue.scheduleCircuitProbe(subscriptionID: subscription, probeAt: probeAt)
                metadata["next_probe_at"] = "\(Timestamp.format(probeAt))"
                logger.notice("circuit stays open: the probe failed", metadata: metadata)
            }
        } catch {
            metadata["error"] = "\(error)"
            logger.warning("recording the circuit's state failed", metadata: metadata)
        }
    }

    private func forget(_ subscription: UUID) {
        _ = failures.withLock { $0.removeValue(forKey: subscription) }
    }
}
