import FerryStorage
import PostgresNIO

/// Classifies PostgreSQL failures: which mean "the database is unreachable or restarting, retry later".
public enum PostgresFailure {
    /// SQLSTATE classes that a retry may cure: connection exceptions (08), insufficient resources (53),
    /// operator intervention such as a shutdown (57), lock timeouts (55P03) and serialization failures (40).
    private static let transientStates = ["08", "53", "57", "40"]

    /// Whether `error` is a transient database failure (the API answers 503 with Retry-After).
    public static func isTransient(_ error: any Error) -> Bool {
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
