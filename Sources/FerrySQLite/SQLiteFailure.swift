import FerryCore
import FerryStorage
import GRDB

/// Turns what GRDB and SQLite throw into `StorageError`, so nothing above the store reads SQLite's error codes.
enum SQLiteFailure {
    /// Result codes a retry may cure: the file is locked by another connection, the disk is full, or an I/O
    /// operation failed (a disk going away, a full file system).
    private static let transientCodes: [ResultCode] = [
        .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_NOMEM, .SQLITE_CANTOPEN,
    ]

    /// `error` as the store reports it: domain refusals, storage errors and cancellation unchanged, SQLite's errors
    /// as `StorageError.unavailable` or `.failed`.
    static func reported(_ error: any Error) -> any Error {
        switch error {
        case is DomainError, is StorageError, is CancellationError:
            return error
        case let database as DatabaseError:
            let description =
                "SQLite error \(database.resultCode.primaryResultCode.rawValue): \(database.message ?? "")"
            return transientCodes.contains(database.resultCode.primaryResultCode)
                ? StorageError.unavailable(description) : StorageError.failed(description)
        default:
            return StorageError.failed(String(describing: error))
        }
    }

    /// Runs `body`, reporting its failure as `reported(_:)` does.
    static func reporting<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw reported(error)
        }
    }
}
