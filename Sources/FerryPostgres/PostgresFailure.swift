import FerryCore
import FerryStorage
import PostgresNIO

/// Classifies PostgreSQL failures: which mean "the database is unreachable or restarting, retry later".
public enum PostgresFailure {
    /// SQLSTATE classes that a retry may cure: connection exceptions (08), insufficient resources (53),
    /// operator intervention such as a shutdown (57), lock timeouts (55P03) and serialization failures (40).
    private static let transientStates = ["08", "53", "57", "40"]

    /// `error` as the store reports it: domain refusals, storage errors and cancellation unchanged, PostgreSQL's
    /// errors as `StorageError.unavailable` (a retry may cure them) or `.failed`.
    static func reported(_ error: any Error) -> any Error {
        switch error {
        case is DomainError, is StorageError, is CancellationError:
            return error
        case let transaction as PostgresTransactionError:
            if let domain = transaction.closureError as? DomainError { return domain }
            if let storage = transaction.closureError as? StorageError { return storage }
            return isTransient(error)
                ? StorageError.unavailable(String(reflecting: error)) : StorageError.failed(String(reflecting: error))
        default:
            return isTransient(error)
                ? StorageError.unavailable(String(reflecting: error)) : StorageError.failed(String(reflecting: error))
        }
    }

    /// Whether `error` is a transient database failure (the API answers 503 with Retry-After).
    static func isTransient(_ error: any Error) -> Bool {
        if let storage = error as? StorageError { return storage.isTransient }
        if let transaction = error as? PostgresTransactionError {
            for inner in [transaction.beginError, transaction.closureError, transaction.commitError]
            where inner.map(isTransient) == true {
                return true
            }
            return false
        }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
            .queryCancelled:
            return true
        case .server:
            guard let state = error.serverInfo?[.sqlState] else { return false }
            return state == "55P03" || transientStates.contains(String(state.prefix(2)))
        default:
            return false
        }
    }
}
