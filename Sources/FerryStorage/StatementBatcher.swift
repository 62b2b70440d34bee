import FerryCore
import Foundation
import Synchronization

/// Shares transactions among concurrent writes of one kind (ingested events, delivery outcomes): items submitted
/// while earlier batches are being written wait and are then written together by one transaction of a few
/// multi-row statements (or one write of SQLite's group commit), so many concurrent callers share one commit (and
/// its fsync) and a handful of round trips. Each caller still learns its own item's outcome.
public actor StatementBatcher<Item: Sendable, Output: Sendable> {
    /// Writes a batch in one transaction and returns one outcome per item, in order; throws when the whole
    /// transaction failed.
    public typealias WriteBatch = @Sendable ([Item]) async throws -> [Result<Output, DomainError>]

    private struct PendingItem: Sendable {
        let item: Item
        /// Called once with the item's outcome.
        let finish: @Sendable (Result<Output, any Error>) -> Void
    }

    private let writeBatch: WriteBatch
    private let maxBatchSize: Int
    private let maxBatchBytes: Int
    private let maxConcurrentBatches: Int
    private let byteCount: @Sendable (Item) -> Int
    private let key: @Sendable (Item) -> UUID
    private let isTransient: @Sendable (any Error) -> Bool
    private var pending: [PendingItem] = []
    private var batchesInFlight = 0

    /// - Parameters:
    ///   - maxBatchSize: most items per transaction; 1 writes every item alone (for measuring).
    ///   - maxBatchBytes: most bytes (as `byteCount` tells) per transaction; a batch always takes at least one item.
    ///   - maxConcurrentBatches: transactions in flight at once; later items queue for the next free one.
    ///   - key: items with equal keys never share a batch, so each sees the other's committed row.
    public init(
        maxBatchSize: Int = 256, maxBatchBytes: Int = 8 << 20, maxConcurrentBatches: Int = 4,
        byteCount: @escaping @Sendable (Item) -> Int, key: @escaping @Sendable (Item) -> UUID,
        isTransient: @escaping @Sendable (any Error) -> Bool, writeBatch: @escaping WriteBatch
    ) {
        self.maxBatchSize = max(1, maxBatchSize)
        self.maxBatchBytes = maxBatchBytes
        self.maxConcurrentBatches = max(1, maxConcurrentBatches)
        self.byteCount = byteCount
        self.key = key
        self.isTransient = isTransient
        self.writeBatch = writeBatch
    }

    /// Writes `item` with the next batch and returns its outcome once that batch committed.
    public func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(PendingItem(item: item, finish: { continuation.resume(with: $0) }))
            startBatchIfPossible()
        }
    }

    /// Writes every item with the next batches (in order, and together as far as the size limits and keys
    /// allow) and returns each one's outcome once all of them are known.
    public func submitAll(_ items: [Item]) async -> [Result<Output, any Error>] {
        guard !items.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let collector = OutcomeCollector<Output>(count: items.count) { continuation.resume(returning: $0) }
            for (index, item) in items.enumerated() {
                pending.append(PendingItem(item: item, finish: { collector.finish(index, with: $0) }))
            }
            startBatchIfPossible()
        }
    }

    private func startBatchIfPossible() {
        guard batchesInFlight < maxConcurrentBatches, !pending.isEmpty else { return }
        let batch = takeBatch()
        batchesInFlight += 1
        // The batch serves many requests, so it runs under its own timeouts, not those of the request that
        // happened to start it.
        StorageDeadline.$current.withValue(nil) {
            Task {
                await self.write(batch)
                self.batchFinished()
            }
        }
    }

    /// Takes up to the size limits from the queue. An item whose key is already in the batch stays queued for a
    /// later batch.
    private func takeBatch() -> [PendingItem] {
        var batch: [PendingItem] = []
        var keys: Set<UUID> = []
        var bytes = 0
        var remaining: [PendingItem] = []
        for pendingItem in pending {
            let size = byteCount(pendingItem.item)
            let fits = batch.count < maxBatchSize && (batch.isEmpty || bytes + size <= maxBatchBytes)
            if fits, keys.insert(key(pendingItem.item)).inserted {
                batch.append(pendingItem)
                bytes += size
            } else {
                remaining.append(pendingItem)
            }
        }
        pending = remaining
        return batch
    }

    private func batchFinished() {
        batchesInFlight -= 1
        startBatchIfPossible()
    }

    /// Writes the batch; when a batch of several fails for a reason that is not transient (one item the
    /// database refuses), each item is written alone so only the faulty one fails.
    private nonisolated func write(_ batch: [PendingItem]) async {
        do {
            let outcomes = try await writeBatch(batch.map(\.item))
            for (index, pendingItem) in batch.enumerated() {
                guard index < outcomes.count else {
                    pendingItem.finish(.failure(StorageError.failed("no outcome")))
                    continue
                }
                pendingItem.finish(outcomes[index].mapError { $0 as any Error })
            }
        } catch {
            if batch.count > 1 && !isTransient(error) {
                for pendingItem in batch { await write([pendingItem]) }
            } else {
                for pendingItem in batch { pendingItem.finish(.failure(error)) }
            }
        }
    }
}

/// Gathers the outcomes of the items of one `submitAll` as their batches finish, and hands them over, in order,
/// once the last is known.
private final class OutcomeCollector<Output: Sendable>: Sendable {
    private struct State {
        var outcomes: [Result<Output, any Error>?]
        var remaining: Int
    }

    private let state: Mutex<State>
    private let done: @Sendable ([Result<Output, any Error>]) -> Void

    init(count: Int, done: @escaping @Sendable ([Result<Output, any Error>]) -> Void) {
        state = Mutex(State(outcomes: Array(repeating: nil, count: count), remaining: count))
        self.done = done
    }

    func finish(_ index: Int, with outcome: Result<Output, any Error>) {
        let complete = state.withLock { state -> [Result<Output, any Error>]? in
            guard state.outcomes[index] == nil else { return nil }
            state.outcomes[index] = outcome
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            return state.outcomes.map { $0 ?? .failure(StorageError.failed("no outcome")) }
        }
        if let complete { done(complete) }
    }
}

/// A delivery outcome waiting to be recorded: what the receiver did, for which claimed job, and when to retry.
public struct OutcomeRecord: Sendable {
    public let observation: AttemptObservation
    public let job: DeliveryJob
    public let retryAt: Date?

    public init(observation: AttemptObservation, job: DeliveryJob, retryAt: Date?) {
        self.observation = observation
        self.job = job
        self.retryAt = retryAt
    }

    /// Whether recording it makes work claimable: a scheduled retry, or the successor of an ordered attempt.
    public var announcesWork: Bool { retryAt != nil || job.isOrdered }
}
