import FerryCore
import FerryObservability
import FerryStorage
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The delivery service: claims due jobs under a lease, sends them concurrently, records each outcome and
/// schedules retries. Wakes on the queue's work signal (no fixed polling on the hot path). On graceful shutdown it
/// stops claiming and lets in-flight deliveries finish (each is bounded by the total timeout).
public struct DeliveryWorker<Queue: DeliveryQueue & CatalogStore>: Service {
    private let queue: Queue
    private let deliverer: HTTPDeliverer
    private let configuration: DeliveryConfiguration
    private let logger: Logger
    private let metrics: FerryMetrics
    private let recorder: OutcomeRecorder<Queue>

    public init(
        queue: Queue, deliverer: HTTPDeliverer, configuration: DeliveryConfiguration, logger: Logger,
        metrics: FerryMetrics = .disabled
    ) {
        self.queue = queue
        self.deliverer = deliverer
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.recorder = OutcomeRecorder(
            queue: queue, retryPolicy: configuration.retryPolicy, failingRule: configuration.failingRule,
            logger: logger, metrics: metrics)
    }

    public func run() async throws {
        let state = WorkerState()
        let signal = queue.workSignal
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                var failures = 0
                while !state.stopping.load(ordering: .relaxed) && !Task.isCancelled {
                    let inFlight = state.inFlight.load(ordering: .relaxed)
                    let free = configuration.concurrency - inFlight
                    var claimedFullBatch = false
                    var claimedPartBatch = false
                    if free > 0 && (inFlight == 0 || free >= configuration.claimWhenFree) {
                        let jobs: [DeliveryJob]
                        do {
                            jobs = try await queue.claimDueJobs(
                                limit: min(free, configuration.claimBatchSize), leaseFor: configuration.lease)
                            failures = 0
                        } catch {
                            failures += 1
                            logger.warning("claiming jobs failed", metadata: ["error": "\(error)"])
                            try? await Task.sleep(for: .milliseconds(min(30_000, 250 << min(failures, 7))))
                            continue
                        }
                        claimedFullBatch = jobs.count == min(free, configuration.claimBatchSize) && !jobs.isEmpty
                        claimedPartBatch = !claimedFullBatch
                        for job in jobs {
                            state.inFlight.add(1, ordering: .relaxed)
                            group.addTask {
                                await self.process(job)
                                state.inFlight.subtract(1, ordering: .relaxed)
                                signal.signal()
                            }
                        }
                    }
                    if claimedFullBatch { continue }
                    // Only a claim that came back short says the queue ran dry: then sleep until the next job is
                    // due. Otherwise a finishing delivery or new work wakes the loop.
                    await signal.wait(
                        timeout: claimedPartBatch ? await idleWait() : configuration.maxIdleWait)
                }
            }
        } onGracefulShutdown: {
            state.stopping.store(true, ordering: .relaxed)
            signal.signal()
        }
        await deliverer.shutdown()
    }

    /// How long to sleep when no signal comes: until the next job is due, at most `maxIdleWait`.
    private func idleWait() async -> Duration {
        guard let next = try? await queue.nextDueDate() else { return configuration.maxIdleWait }
        let seconds = next.timeIntervalSinceNow
        if seconds <= 0 { return .milliseconds(1) }
        return min(configuration.maxIdleWait, .milliseconds(Int64(seconds * 1000) + 1))
    }

    /// Delivers one job and records the outcome, retrying the bookkeeping (not the delivery) if the database fails.
    func process(_ job: DeliveryJob) async {
        let timestamp = Int64(Date().timeIntervalSince1970)
        metrics.deliveryStarted()
        var observation: AttemptObservation
        switch DeliveryRequest.build(for: job, timestamp: timestamp, signatureVersions: configuration.signatureVersions)
        {
        case .success(let request):
            observation = await deliverer.deliver(request, tenant: job.applicationID)
            observation.request = SentRequest(request)
        case .failure(let name): observation = .failed(name, elapsedMilliseconds: 0)
        }
        await recorder.record(observation, for: job)
    }
}

/// Counters shared between the claim loop, its delivery tasks and the shutdown handler.
private final class WorkerState: Sendable {
    let stopping = Atomic<Bool>(false)
    let inFlight = Atomic<Int>(0)
}
