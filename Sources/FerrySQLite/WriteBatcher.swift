import GRDB
import Synchronization

/// Group commit for SQLite: writes submitted while a transaction is committing wait and then share the next one,
/// so many concurrent requests cost one fsync. Each write runs in its own savepoint, so one failing write
/// (a duplicate id, a missing event type) rolls back alone and the others still commit.
actor WriteBatcher {
    private struct PendingWrite: Sendable {
        /// Runs the write inside the shared transaction and returns how to finish it once the commit is known.
        let run: @Sendable (Database) -> @Sendable ((any Error)?) -> Void
        /// Fails the write when the shared transaction could not start or commit.
        let fail: @Sendable (any Error) -> Void
        let signalsWork: Bool
    }

    private let writer: any DatabaseWriter
    private let maxBatchSize: Int
    private let onWorkCommitted: @Sendable () -> Void
    private var pending: [PendingWrite] = []
    private var isFlushing = false
    /// Writes waiting for the next transaction, and writes in the one being committed (for pool statistics).
    nonisolated let queuedWrites = Atomic<Int>(0)
    nonisolated let runningWrites = Atomic<Int>(0)

    init(writer: any DatabaseWriter, maxBatchSize: Int = 512, onWorkCommitted: @escaping @Sendable () -> Void) {
        self.writer = writer
        self.maxBatchSize = maxBatchSize
        self.onWorkCommitted = onWorkCommitted
    }

    /// Runs `work` in the next shared transaction and returns its result after that transaction committed.
    func write<T: Sendable>(signalsWork: Bool = false, _ work: @escaping @Sendable (Database) throws -> T) async throws
        -> T
    {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let pendingWrite = PendingWrite(
                run: { db in
                    do {
                        var result: T?
                        try db.inSavepoint {
                            result = try work(db)
                            return .commit
                        }
                        guard let value = result else {
                            return { _ in continuation.resume(throwing: CancellationError()) }
                        }
                        return { commitError in
                            if let commitError {
                                continuation.resume(throwing: commitError)
                            } else {
                                continuation.resume(returning: value)
                            }
                        }
                    } catch {
                        return { _ in continuation.resume(throwing: error) }
                    }
                },
                fail: { error in continuation.resume(throwing: error) },
                signalsWork: signalsWork)
            pending.append(pendingWrite)
            queuedWrites.add(1, ordering: .relaxed)
            if !isFlushing {
                isFlushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maxBatchSize))
            pending.removeFirst(batch.count)
            queuedWrites.subtract(batch.count, ordering: .relaxed)
            runningWrites.store(batch.count, ordering: .relaxed)
            defer { runningWrites.store(0, ordering: .relaxed) }
            do {
                let finishers = try await writer.write { db in batch.map { $0.run(db) } }
                for finish in finishers { finish(nil) }
                if batch.contains(where: \.signalsWork) { onWorkCommitted() }
            } catch {
                for item in batch { item.fail(error) }
            }
        }
        isFlushing = false
    }
}
