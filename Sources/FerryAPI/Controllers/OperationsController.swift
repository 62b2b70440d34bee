import FerryCore
import FerryIdentity
import FerryObservability
import FerryStorage
import Foundation
import Hummingbird

/// Routes for operators and their tools: Prometheus metrics, and the liveness and readiness probes of a load
/// balancer or Kubernetes. None needs an API token. `/metrics` lists every tenant's activity, so on the API port it
/// exists only when a metrics token is configured (and asks for it); on a separate listener, which the operator binds
/// to a private address, it is open unless a token is configured.
struct OperationsController<Store: FerryStore> {
    let store: Store
    let configuration: APIConfiguration
    /// Whether `/metrics` is served only when a metrics token is configured (true on the API port).
    let metricsNeedToken: Bool

    func addRoutes(to router: Router<FerryRequestContext>) {
        router.get("/health/live") { _, _ in
            JSONBody.response(.object(["status": .string("ok")]))
        }
        router.get("/health/ready") { _, _ in
            do {
                try await store.ping()
                return JSONBody.response(.object(["status": .string("ok"), "database": .string("ok")]))
            } catch {
                return JSONBody.response(
                    .object(["status": .string("unavailable"), "database": .string("error")]),
                    status: .serviceUnavailable)
            }
        }
        guard let exposition = configuration.metricsExposition,
            !metricsNeedToken || configuration.metricsToken?.isEmpty == false
        else { return }
        router.get("/metrics") { request, _ in
            try authorizeScrape(request)
            if let statistics = try? await store.queueStatistics(now: Date()) {
                configuration.metrics.update(statistics)
            }
            configuration.metrics.update(store.poolStatistics)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: exposition())))
        }
    }

    /// With a metrics token configured, a scrape must send it as `Authorization: Bearer <token>`.
    private func authorizeScrape(_ request: Request) throws {
        guard let token = configuration.metricsToken, !token.isEmpty else { return }
        guard let header = request.headers[.authorization] else { throw ProblemCatalog.authNoAuthorizationHeader }
        let bearer = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : header
        guard ConstantTime.equals(Array(bearer.utf8), Array(token.utf8)) else {
            throw ProblemCatalog.forbidden
        }
    }
}
