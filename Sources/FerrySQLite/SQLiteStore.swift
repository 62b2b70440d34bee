import FerryCore
import FerryStorage
import Foundation
import GRDB
import Synchronization

/// Ferry's embedded backend: one SQLite file in WAL mode with `synchronous=FULL` and incremental auto-vacuum,
/// concurrent readers, and every write going through group commit.
public final class SQLiteStore: FerryStore {
    let pool: DatabasePool
    let batcher: WriteBatcher
    /// Delivery outcomes recorded together: one write of the group commit (one savepoint, the tallies added once
    /// per application, day and measure) for all the outcomes that arrived while the previous one was written.
    let outcomeBatcher: StatementBatcher<OutcomeRecord, Bool>
    public let workSignal: WorkSignal
    private let setupLock = AsyncLock()
    private let reads = ReadActivity()
    private let readerCount: Int

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// - Parameter groupCommit: commit concurrent writes together (one fsync for many); `false` commits each
    ///   write in its own transaction, which is only useful to measure what group commit buys.
    public static func open(path: String, groupCommit: Bool = true) async throws -> SQLiteStore {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        // Retention hands freed pages back with `incremental_vacuum`, which needs this mode. A new file takes it
        // before its first table; a file made by an older Ferry is rebuilt once by `VACUUM`.
        try await pool.writeWithoutTransaction { db in
            if try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") != 2 {
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            SQLiteSchema.migrator.asyncMigrate(pool) { result in
                switch result {
                case .success: continuation.resume()
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        }
        return SQLiteStore(pool: pool, maxBatchSize: groupCommit ? 512 : 1)
    }

    private init(pool: DatabasePool, maxBatchSize: Int) {
        self.pool = pool
        self.readerCount = pool.configuration.maximumReaderCount
        let signal = WorkSignal()
        self.workSignal = signal
        let batcher = WriteBatcher(writer: pool, maxBatchSize: maxBatchSize) { signal.signal() }
        self.batcher = batcher
        self.outcomeBatcher = StatementBatcher(
            maxBatchSize: maxBatchSize, maxConcurrentBatches: 2, byteCount: { $0.observation.body?.count ?? 0 },
            key: \.job.attemptID, isTransient: { ($0 as? StorageError)?.isTransient ?? false },
            writeBatch: { records in
                try await SQLiteFailure.reporting {
                    try await batcher.write(signalsWork: records.contains(where: \.announcesWork)) { db in
                        try Self.writeOutcomes(records, db)
                    }
                }
            })
    }

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func close() async throws {
        await batcher.stop()
        try await SQLiteFailure.reporting { try pool.close() }
    }

    /// One process owns a SQLite file, so an in-process lock is enough.
    public func withSetupLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await setupLock.withLock(body)
    }

    /// Runs a read-only query on a pooled reader connection.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let reads = reads
        reads.requested.add(1, ordering: .relaxed)
        defer { reads.requested.subtract(1, ordering: .relaxed) }
        return try await SQLiteFailure.reporting {
            try await pool.read { db in
                reads.running.add(1, ordering: .relaxed)
                defer { reads.running.subtract(1, ordering: .relaxed) }
                return try body(db)
            }
        }
    }

    public var poolStatistics: PoolStatistics {
        let running = reads.running.load(ordering: .relaxed)
        let waitingReads = max(0, reads.requested.load(ordering: .relaxed) - running)
        let writing = batcher.runningWrites > 0 ? 1 : 0
        return PoolStatistics(
            inUse: running + writing, waiting: waitingReads + batcher.queuedWrites,
            capacity: readerCount + 1)
    }

    /// Runs a write in the next group-commit transaction.
    func write<T: Sendable>(signalsWork: Bool = false, _ body: @escaping @Sendable (Database) throws -> T)
        async throws -> T
    {
        try await SQLiteFailure.reporting { try await batcher.write(signalsWork: signalsWork, body) }
    }

    /// Runs `body` on the writer connection outside a transaction (for statements such as `VACUUM`).
    func writeWithoutTransaction<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await SQLiteFailure.reporting { try await pool.writeWithoutTransaction(body) }
    }
}

/// Reads asked for, and reads running on a reader connection (the difference waits for a reader).
private final class ReadActivity: Sendable {
    let requested = Atomic<Int>(0)
    let running = Atomic<Int>(0)
}

extension SQLiteStore {
    /// How many of the schema's numbered migrations the database has (all of them once opened).
    public func schemaVersion() async throws -> Int {
        try await read { db in try SQLiteSchema.migrator.appliedIdentifiers(db).count }
    }
}
