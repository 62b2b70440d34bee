import Dispatch
import FerryStorage
import Foundation
import GRDB
import Synchronization

/// Group commit for SQLite on a thread of its own: writes submitted while a transaction is committing wait and
/// then share the next one, so many concurrent requests cost one fsync. Each write runs in its own savepoint, so
/// one failing write (a duplicate id, a missing event type) rolls back alone and the others still commit.
///
/// A write is handed to the writer thread once and its result handed back once: the thread runs GRDB's
/// synchronous write on the writer connection itself (GRDB's serial queue runs a synchronous call on the calling
/// thread), with no actor, task or dispatch queue in between.
final class WriteBatcher: Sendable {
    private let line: WriteLine
    /// Writes waiting for the next transaction, and writes in the one being committed (for pool statistics).
    var queuedWrites: Int { line.queuedWrites.load(ordering: .relaxed) }
    var runningWrites: Int { line.runningWrites.load(ordering: .relaxed) }

    init(writer: any DatabaseWriter, maxBatchSize: Int = 512, onWorkCommitted: @escaping @Sendable () -> Void) {
        let line = WriteLine(writer: writer, maxBatchSize: max(1, maxBatchSize), onWorkCommitted: onWorkCommitted)
        self.line = line
        let thread = Thread {
            // Named from inside: Linux gives a thread its creator's name, and takes at most 15 bytes.
            Thread.current.name = "sqlite-writer"
            line.run()
        }
        thread.start()
    }

    deinit {
        line.stop(whenStopped: nil)
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
            if !line.submit(pendingWrite) {
                continuation.resume(throwing: StorageError.unavailable("the SQLite store is closed"))
            }
        }
    }

    /// Writes what is queued, then ends the writer thread; returns once it ended. Later writes fail.
    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            line.stop(whenStopped: { continuation.resume() })
        }
    }
}

/// One write waiting for the writer thread.
private struct PendingWrite: Sendable {
    /// Runs the write inside the shared transaction and returns how to finish it once the commit is known.
    let run: @Sendable (Database) -> @Sendable ((any Error)?) -> Void
    /// Fails the write when the shared transaction could not start or commit.
    let fail: @Sendable (any Error) -> Void
    let signalsWork: Bool
}

/// The queue between the callers and the writer thread, and the thread's loop.
private final class WriteLine: Sendable {
    private struct State {
        var pending: [PendingWrite] = []
        /// The thread waits for `wakeUp`: the next submission must signal it.
        var isIdle = false
        var isStopping = false
        var isStopped = false
        var stopWaiters: [@Sendable () -> Void] = []
    }

    private let writer: any DatabaseWriter
    private let maxBatchSize: Int
    private let onWorkCommitted: @Sendable () -> Void
    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)
    let queuedWrites = Atomic<Int>(0)
    let runningWrites = Atomic<Int>(0)

    init(writer: any DatabaseWriter, maxBatchSize: Int, onWorkCommitted: @escaping @Sendable () -> Void) {
        self.writer = writer
        self.maxBatchSize = maxBatchSize
        self.onWorkCommitted = onWorkCommitted
    }

    /// Queues a write for the thread; false when the writer has stopped.
    func submit(_ write: PendingWrite) -> Bool {
        let outcome = state.withLock { state -> (accepted: Bool, wake: Bool) in
            guard !state.isStopping else { return (false, false) }
            state.pending.append(write)
            let wake = state.isIdle
            state.isIdle = false
            return (true, wake)
        }
        guard outcome.accepted else { return false }
        queuedWrites.add(1, ordering: .relaxed)
        if outcome.wake { wakeUp.signal() }
        return true
    }

    /// Asks the thread to end once the queue is written; `whenStopped` runs after it ended (at once if it had).
    func stop(whenStopped: (@Sendable () -> Void)?) {
        let action = state.withLock { state -> (wake: Bool, runNow: Bool) in
            if state.isStopped { return (false, true) }
            if let whenStopped { state.stopWaiters.append(whenStopped) }
            state.isStopping = true
            let wake = state.isIdle
            state.isIdle = false
            return (wake, false)
        }
        if action.wake { wakeUp.signal() }
        if action.runNow { whenStopped?() }
    }

    /// The writer thread: takes what is queued (up to the batch size), writes it in one transaction, hands each
    /// result back, and waits when nothing is queued.
    func run() {
        while true {
            let next = state.withLock { state -> [PendingWrite]? in
                if state.pending.isEmpty {
                    if state.isStopping { return nil }
                    state.isIdle = true
                    return []
                }
                let batch = Array(state.pending.prefix(maxBatchSize))
                state.pending.removeFirst(batch.count)
                return batch
            }
            guard let batch = next else { break }
            if batch.isEmpty {
                wakeUp.wait()
                continue
            }
            write(batch)
        }
        let waiters = state.withLock { state -> [@Sendable () -> Void] in
            state.isStopped = true
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        for waiter in waiters { waiter() }
    }

    private func write(_ batch: [PendingWrite]) {
        queuedWrites.subtract(batch.count, ordering: .relaxed)
        runningWrites.store(batch.count, ordering: .relaxed)
        defer { runningWrites.store(0, ordering: .relaxed) }
        do {
            let finishers = try writer.write { db in batch.map { $0.run(db) } }
            for finish in finishers { finish(nil) }
            if batch.contains(where: \.signalsWork) { onWorkCommitted() }
        } catch {
            for item in batch { item.fail(error) }
        }
    }
}
