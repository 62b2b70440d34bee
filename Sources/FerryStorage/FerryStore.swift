import Foundation

/// Everything Ferry stores, implemented once per backend (SQLite embedded, PostgreSQL for scale-out).
public protocol FerryStore: TenantStore, CatalogStore, EventStore, AttemptStore, DeliveryQueue, RetentionStore,
    ServerKeyStore, IdentityStore, DatabaseProbe
{
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

/// What a health check needs of a store.
public protocol DatabaseProbe: Sendable {
    /// Cheap round trip proving the database answers (health checks).
    func ping() async throws
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

/// How every backend reports a failure that is not the client's fault; nothing above the storage layer sees a
/// database's own error types. Client-caused refusals are `DomainError`s instead.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database cannot answer now (down, restarting, locked, out of time, space or connections): retrying
    /// later may succeed, so the API answers 503 with `Retry-After`.
    case unavailable(String)
    /// The database answered with something Ferry cannot use (a damaged row, a failed statement): a server fault.
    case failed(String)

    /// Whether retrying later may succeed.
    public var isTransient: Bool {
        if case .unavailable = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .unavailable(let reason): "database unavailable: \(reason)"
        case .failed(let reason): "database failure: \(reason)"
        }
    }
}
