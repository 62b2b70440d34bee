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
    private let scheduler: FairScheduler

    /// `operationalEvents` receives the disablings, given-up attempts and circuit changes this worker causes.
    public init(
        queue: Queue, deliverer: HTTPDeliverer, configuration: DeliveryConfiguration, logger: Logger,
        metrics: FerryMetrics = .disabled, operationalEvents: (any OperationalEventSink)? = nil
    ) {
        self.queue = queue
        self.deliverer = deliverer
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.recorder = OutcomeRecorder(
            queue: queue, retryPolicy: configuration.retryPolicy, failingRule: configuration.failingRule,
            circuitPolicy: configuration.circuitPolicy, operationalEvents: operationalEvents, logger: logger,
            metrics: metrics)
        self.scheduler = FairScheduler(
            endpointMaximum: configuration.applicationConcurrency,
            applicationLimit: configuration.applicationConcurrency)
    }

    public func run() async throws {
        let state = WorkerState()
        let signal = queue.workSignal
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                var failures = 0
                // What the last claim that came back short showed: nothing outside its exclusions was due, until
                // `until`. While no new work is announced, a claim can only find those keys' work, so it asks for
                // no more than they have room for, and none at all when they have none: a worker held at a
                // tenant's share by a large backlog neither scans that backlog on every finished delivery nor
                // claims jobs only to give them back.
                var dryClaim: (exclusions: ClaimExclusions, generation: Int, until: ContinuousClock.Instant)?
                while !state.stopping.load(ordering: .relaxed) && !Task.isCancelled {
                    let inFlight = state.inFlight.load(ordering: .relaxed)
                    let free = configuration.concurrency - inFlight
                    var claimedFullBatch = false
                    var claimedPartBatch = false
                    var exclusions = ClaimExclusions()
                    var limit = min(free, configuration.claimBatchSize)
                    let generation = signal.generation
                    if let dry = dryClaim {
                        if dry.generation == generation && ContinuousClock.now < dry.until {
                            limit = min(limit, scheduler.headroom(within: dry.exclusions))
                        } else {
                            dryClaim = nil
                        }
                    }
                    if limit > 0 && (inFlight == 0 || free >= configuration.claimWhenFree) {
                        exclusions = scheduler.exclusions()
                        let jobs: [DeliveryJob]
                        do {
                            jobs = try await queue.claimDueJobs(
                                limit: limit, leaseFor: configuration.lease, excluding: exclusions)
                            failures = 0
                        } catch {
                            failures += 1
                            logger.warning("claiming jobs failed", metadata: ["error": "\(error)"])
                            try? await Task.sleep(for: .milliseconds(min(30_000, 250 << min(failures, 7))))
                            continue
                        }
                        claimedFullBatch = jobs.count == limit
                        claimedPartBatch = !claimedFullBatch
                        for job in await admitted(jobs) {
                            state.inFlight.add(1, ordering: .relaxed)
                            group.addTask {
                                await self.process(job)
                                state.inFlight.subtract(1, ordering: .relaxed)
                                signal.wake()
                            }
                        }
                    }
                    if claimedFullBatch { continue }
                    // Only a claim that came back short says the queue ran dry (of work this process may send
                    // now): then sleep until the next job is due. Otherwise a finishing delivery or new work wakes
                    // the loop.
                    if claimedPartBatch {
                        let wait = await idleWait(excluding: exclusions)
                        dryClaim = (exclusions, generation, ContinuousClock.now + wait)
                        await signal.wait(timeout: wait)
                    } else {
                        await signal.wait(
                            timeout: dryClaim.map { max(.milliseconds(1), $0.until - ContinuousClock.now) }
                                ?? configuration.maxIdleWait)
                    }
                }
            }
        } onGracefulShutdown: {
            state.stopping.store(true, ordering: .relaxed)
            signal.signal()
        }
        await deliverer.shutdown()
    }

    /// The claimed jobs this process sends now: those the fair scheduler admits, and of those whose circuit is
    /// half-open only the one whose probe this worker takes. The others' leases are given back at once, so another
    /// worker (or this one, once a slot frees) can take them.
    private func admitted(_ jobs: [DeliveryJob]) async -> [DeliveryJob] {
        var admitted: [DeliveryJob] = []
        var released: [DeliveryJob] = []
        var probes: [UUID: Bool] = [:]
        for job in jobs {
            guard scheduler.admit(job) else {
                released.append(job)
                continue
            }
            if job.circuitOpenedAt != nil {
                let taken: Bool
                if probes[job.subscriptionID] != nil {
                    taken = false  // one probe per circuit: this claim already tried for it
                } else {
                    do {
                        taken = try await queue.takeCircuitProbe(
                            subscriptionID: job.subscriptionID,
                            until: Date().addingTimeInterval(configuration.lease.timeInterval))
                    } catch {
                        // Keep the lease (it runs out by itself) rather than give the job back to be claimed and
                        // tried again at once while the database fails.
                        logger.warning(
                            "taking a circuit's probe failed",
                            metadata: [
                                "subscription_id": "\(job.subscriptionID.lowercased)", "error": "\(error)",
                            ])
                        scheduler.finish(job, signal: nil)
                        continue
                    }
                    probes[job.subscriptionID] = taken
                }
                guard taken else {
                    scheduler.finish(job, signal: nil)
                    released.append(job)
                    continue
                }
            }
            admitted.append(job)
        }
        if !released.isEmpty {
            do {
                try await queue.releaseLeases(of: released)
            } catch {
                logger.warning(
                    "giving back leases over the fair share failed; they run out by themselves",
                    metadata: ["error": "\(error)", "count": "\(released.count)"])
            }
        }
        return admitted
    }

    /// How long to sleep when no signal comes: until the next job this process may send is due, at most
    /// `maxIdleWait`.
    private func idleWait(excluding exclusions: ClaimExclusions) async -> Duration {
        guard let next = try? await queue.nextDueDate(excluding: exclusions) else {
            return configuration.maxIdleWait
        }
        let seconds = next.timeIntervalSinceNow
        if seconds <= 0 { return .milliseconds(1) }
        return min(configuration.maxIdleWait, .milliseconds(Int64(seconds * 1000) + 1))
    }

    /// Delivers one job and records the outcome, retrying the bookkeeping (not the delivery) if the database fails.
    func process(_ job: DeliveryJob) async {
        metrics.deliveryStarted()
        var observation: AttemptObservation
        switch DeliveryRequest.build(for: job, at: Date(), signatureVersions: configuration.signatureVersions)
        {
        case .success(let request):
            observation = await deliverer.deliver(request, tenant: job.applicationID)
            observation.request = SentRequest(request)
            scheduler.finish(job, signal: CapacitySignal(observation))
        case .failure(let name):
            observation = .failed(name, elapsedMilliseconds: 0)
            scheduler.finish(job, signal: nil)
        }
        await recorder.record(observation, for: job)
    }
}

/// Counters shared between the claim loop, its delivery tasks and the shutdown handler.
private final class WorkerState: Sendable {
    let stopping = Atomic<Bool>(false)
    let inFlight = Atomic<Int>(0)
}
