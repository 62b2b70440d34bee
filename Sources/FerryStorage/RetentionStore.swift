import FerryCore
import Foundation

/// Deleting events past their retention, and giving the space back.
public protocol RetentionStore: Sendable {
    /// Deletes up to `limit` events received more than their application's retention ago (the application's own
    /// `retentionDays`, else `defaultRetentionDays`) as of `now`, with their attempts and responses, in one short
    /// transaction. An event with an attempt still pending is kept until that attempt ends. Returns how many
    /// events were deleted; fewer than `limit` means none is left to delete.
    func deleteExpiredEvents(defaultRetentionDays: Int, now: Date, limit: Int) async throws -> Int
    /// Returns freed space to the file system where the backend can: SQLite's incremental vacuum and a WAL
    /// checkpoint; PostgreSQL's `VACUUM`, which truncates empty pages at the end of each table.
    func reclaimSpace() async throws
    /// Bytes the events, attempts and responses take on disk (SQLite: the whole database file).
    func storageBytes() async throws -> Int64
    /// Sets an application's own retention in days, or clears it (nil: the default applies). Returns the
    /// application, or nil if it does not exist.
    func setApplicationRetention(id: UUID, days: Int?) async throws -> Application?
}
