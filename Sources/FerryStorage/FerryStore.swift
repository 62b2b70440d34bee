import Foundation

/// Everything Ferry stores, implemented once per backend (SQLite embedded, PostgreSQL for scale-out).
public protocol FerryStore: TenantStore, CatalogStore, EventStore, AttemptStore, DeliveryQueue, RetentionStore,
    ServerKeyStore, IdentityStore
{
    /// Cheap round trip proving the database answers (health checks).
    func ping() async throws
    /// Releases connections and files.
    func close() async throws
    /// Runs `body` while no other caller, in this process or in any other process sharing the database, runs a
    /// body under this lock: for one-time setup such as the first-start bootstrap.
    func withSetupLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T
    /// Counts of delivery work and subscriptions, as of `now`.
    func queueStatistics(now: Date) async throws -> QueueStatistics
    /// How busy this process's connections are (no database round trip).
    var poolStatistics: PoolStatistics { get }
}

/// A lock for async code: callers of `withLock` run one at a time, in arrival order, without blocking a thread.
public actor AsyncLock {
    private var isLocked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    /// Runs `body` once every earlier caller's body has finished.
    public func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if isLocked {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            isLocked = true
        }
        defer { unlock() }
        return try await body()
    }

    private func unlock() {
        if waiters.isEmpty {
            isLocked = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// A storage failure that is not the client's fault (database down, disk full, corruption).
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// Whether retrying later may succeed (the API answers 503 rather than 500).
    public var isTransient: Bool
    public var description: String

    public init(isTransient: Bool, description: String) {
        self.isTransient = isTransient
        self.description = description
    }
}
