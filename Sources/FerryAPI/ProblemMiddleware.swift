import FerryCore
import FerryStorage
import Hummingbird
import Logging

/// Turns every error into an `application/problem+json` answer: domain errors into their problem, unknown
/// routes into `NotFound`, storage outages into 503 `ServiceUnavailable`, and anything else into a logged 500.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let isTransientStorageFailure: @Sendable (any Error) -> Bool
    /// Tells an unknown path (404) from a known path asked with a method it does not take (405).
    var routes = RouteTable(openAPIDocument: [])

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let error as DomainError {
            return try Problem(error).response(from: request, context: context)
        } catch let error as HTTPError {
            let problem: Problem
            let allowed = error.status.code == 404 ? routes.allowedMethods(path: request.uri.path) : []
            // A documented path asked with a method it takes, yet unrouted here, is absent on this server (e.g.
            // `/metrics` while no metrics token is set): 404, not 405.
            if !allowed.isEmpty && !allowed.contains(request.method.rawValue) {
                var response = ProblemCatalog.methodNotAllowed.with(
                    detail:
                        "This route does not accept \(request.method); it accepts \(allowed.joined(separator: ", "))."
                ).response()
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            switch error.status.code {
            case 404: problem = ProblemCatalog.notFound
            case 413: problem = ProblemCatalog.payloadTooLarge(maxBytes: nil)
            case 405:
                problem = ProblemCatalog.methodNotAllowed.with(detail: "This route does not accept \(request.method).")
            default:
                problem = Problem(
                    id: error.status.code >= 500 ? "InternalServerError" : "JsonPayload", status: error.status,
                    title: error.status.reasonPhrase, detail: error.body ?? error.status.reasonPhrase)
            }
            return try problem.response(from: request, context: context)
        } catch {
            if StorageFailure.isTransient(error) || isTransientStorageFailure(error) {
                context.logger.warning(
                    "database unavailable",
                    metadata: ["error": "\(error)", "route": "\(LoggedRoute.describe(request, context: context))"])
                return try ProblemCatalog.serviceUnavailable.response(from: request, context: context)
            }
            context.logger.error(
                "unexpected error",
                metadata: ["error": "\(error)", "route": "\(LoggedRoute.describe(request, context: context))"])
            return try ProblemCatalog.internalServerError.response(from: request, context: context)
        }
    }
}

/// Decides whether a storage error means "try again later" (503) rather than a server bug (500).
public enum StorageFailure {
    /// Backend-neutral and SQLite cases; other backends pass their own recogniser in `APIConfiguration`.
    public static func isTransient(_ error: any Error) -> Bool {
        if let storageError = error as? StorageError { return storageError.isTransient }
        let text = String(describing: error)
        return text.contains("SQLITE_BUSY") || text.contains("SQLITE_LOCKED") || text.contains("SQLITE_FULL")
            || text.contains("SQLITE_IOERR") || text.contains("database is locked")
    }
}
