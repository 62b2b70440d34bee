/// Everything Ferry stores, implemented once per backend (SQLite embedded, PostgreSQL for scale-out).
public protocol FerryStore: TenantStore, CatalogStore, EventStore, AttemptStore, DeliveryQueue {
    /// Cheap round trip proving the database answers (health checks).
    func ping() async throws
    /// Releases connections and files.
    func close() async throws
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
