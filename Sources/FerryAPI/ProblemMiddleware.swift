import FerryCore
import FerryStorage
import Hummingbird
import Logging

/// Turns every error into an `application/problem+json` answer, and is the one place that does: domain errors
/// into their problem, unknown routes into `NotFound` (or 405 for a known path with another method), storage
/// outages into 503 `ServiceUnavailable`, and anything else into a logged 500.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Tells an unknown path (404) from a known path asked with a method it does not take (405).
    var routes = RouteTable(openAPIDocument: [])

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response()
        } catch let error as DomainError {
            return Problem(error).response()
        } catch let error as HTTPError {
            return answer(error, to: request)
        } catch let error as StorageError where error.isTransient {
            context.logger.warning(
                "database unavailable",
                metadata: ["error": "\(error)", "route": "\(LoggedRoute.describe(request, context: context))"])
            return ProblemCatalog.serviceUnavailable.response()
        } catch {
            context.logger.error(
                "unexpected error",
                metadata: ["error": "\(error)", "route": "\(LoggedRoute.describe(request, context: context))"])
            return ProblemCatalog.internalServerError.response()
        }
    }

    /// Hummingbird's own errors: no route (404, or 405 with `Allow` for a documented path), a body too large.
    private func answer(_ error: HTTPError, to request: Request) -> Response {
        let allowed = error.status.code == 404 ? routes.allowedMethods(path: request.uri.path) : []
        // A documented path asked with a method it takes, yet unrouted here, is absent on this server (e.g.
        // `/metrics` while no metrics token is set): 404, not 405.
        if !allowed.isEmpty && !allowed.contains(request.method.rawValue) {
            var response = ProblemCatalog.methodNotAllowed.with(
                detail: "This route does not accept \(request.method); it accepts \(allowed.joined(separator: ", "))."
            ).response()
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        }
        let problem: Problem
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
        return problem.response()
    }
}
