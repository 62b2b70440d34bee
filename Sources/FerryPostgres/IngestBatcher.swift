import FerryCore
import FerryStorage
import Foundation

/// What became of one event of a batch: stored, or refused for a reason that concerns that event alone.
typealias IngestOutcome = Result<Event, DomainError>

/// Batched ingest for PostgreSQL: events submitted while earlier batches are being written wait and are then
/// written together by one transaction of a few multi-row statements, so many concurrent requests share one
/// commit (and its fsync) and a handful of round trips. Each caller still learns its own event's outcome.
actor IngestBatcher {
    /// Writes a batch in one transaction and returns one outcome per event, in order; throws when the whole
    /// transaction failed.
    typealias WriteBatch = @Sendable ([Event]) async throws -> [IngestOutcome]

    private struct PendingEvent: Sendable {
        let event: Event
        let continuation: CheckedContinuation<Event, any Error>
    }

    private let writeBatch: WriteBatch
    private let maxBatchSize: Int
    private let maxBatchBytes: Int
    private let maxConcurrentBatches: Int
    private let isTransient: @Sendable (any Error) -> Bool
    private var pending: [PendingEvent] = []
    private var batchesInFlight = 0

    /// - Parameters:
    ///   - maxBatchSize: most events per transaction; 1 writes every event alone (for measuring).
    ///   - maxBatchBytes: most payload bytes per transaction (a batch always takes at least one event).
    ///   - maxConcurrentBatches: transactions in flight at once; later events queue for the next free one.
    init(
        maxBatchSize: Int = 256, maxBatchBytes: Int = 8 << 20, maxConcurrentBatches: Int = 4,
        isTransient: @escaping @Sendable (any Error) -> Bool, writeBatch: @escaping WriteBatch
    ) {
        self.maxBatchSize = max(1, maxBatchSize)
        self.maxBatchBytes = maxBatchBytes
        self.maxConcurrentBatches = max(1, maxConcurrentBatches)
        self.isTransient = isTransient
        self.writeBatch = writeBatch
    }

    /// Writes `event` with the next batch and returns it once that batch committed.
    func ingest(_ event: Event) async throws -> Event {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(PendingEvent(event: event, continuation: continuation))
            startBatchIfPossible()
        }
    }

    private func startBatchIfPossible() {
        guard batchesInFlight < maxConcurrentBatches, !pending.isEmpty else { return }
        let batch = takeBatch()
        batchesInFlight += 1
        Task {
            await self.write(batch)
            self.batchFinished()
        }
    }

    /// Takes up to the size limits from the queue. An event whose id is already in the batch stays queued for a
    /// later batch, so each caller's duplicate check sees the other's committed row.
    private func takeBatch() -> [PendingEvent] {
        var batch: [PendingEvent] = []
        var ids: Set<UUID> = []
        var bytes = 0
        var remaining: [PendingEvent] = []
        for item in pending {
            let fits =
                batch.count < maxBatchSize && (batch.isEmpty || bytes + item.event.payload.count <= maxBatchBytes)
            if fits, ids.insert(item.event.id).inserted {
                batch.append(item)
                bytes += item.event.payload.count
            } else {
                remaining.append(item)
            }
        }
        pending = remaining
        return batch
    }

    private func batchFinished() {
        batchesInFlight -= 1
        startBatchIfPossible()
    }

    /// Writes the batch; when a batch of several fails for a reason that is not transient (one event the
    /// database refuses), each event is written alone so only the faulty one fails.
    private nonisolated func write(_ batch: [PendingEvent]) async {
        do {
            let outcomes = try await writeBatch(batch.map(\.event))
            for (index, item) in batch.enumerated() {
                guard index < outcomes.count else {
                    item.continuation.resume(throwing: StorageError(isTransient: false, description: "no outcome"))
                    continue
                }
                item.continuation.resume(with: outcomes[index].mapError { $0 as any Error })
            }
        } catch {
            if batch.count > 1 && !isTransient(error) {
                for item in batch { await write([item]) }
            } else {
                for item in batch { item.continuation.resume(throwing: error) }
            }
        }
    }
}
