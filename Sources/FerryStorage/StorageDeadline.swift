/// The instant by which the current request's storage work must be answered, so that a request which waits on
/// several statements in turn (a lookup, a place in a write batch, the batch itself) still gets its answer, or its
/// 503, within one bound rather than the sum of per-statement timeouts. The API sets it per request; backends that
/// wait on a server (PostgreSQL) shorten their own timeouts to it.
public enum StorageDeadline {
    /// The current request's deadline, or nil outside a request (workers, migrations, background batches).
    @TaskLocal public static var current: ContinuousClock.Instant?

    /// `limit`, shortened to what is left before the current deadline (zero or less once it has passed).
    public static func remaining(within limit: Duration) -> Duration {
        guard let current else { return limit }
        return min(limit, current - ContinuousClock.now)
    }
}
