import FerryIdentity
import FerryStorage
import Hummingbird
import NIOCore
import Synchronization

/// Per-request context: Hummingbird's core storage, the peer address (recorded as an event's `ip`) and who is
/// calling, as a typed `Caller`.
public struct FerryRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set by `AuthenticationMiddleware` on every `/api/v1` route; resolved when a handler first asks.
    var credentials: CallerResolution?

    /// The client's IP address as text: the peer's, or, behind a trusted proxy, the one it forwards for
    /// (`RateLimitMiddleware` resolves it); an empty string when unknown (e.g. router tests).
    public var clientIP: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientIP = source.channel.remoteAddress?.ipAddress ?? ""
    }

    /// Who sent the request, or the 401/403 problem its `Authorization` header earns. Resolved on first use, so a
    /// handler keeps Hook0's order of checks (authorization before the body's validation), and at most once.
    func caller() async throws -> Caller {
        guard let credentials else { throw ProblemCatalog.authNoAuthorizationHeader }
        return try await credentials.caller()
    }
}

/// A request's caller, resolved from its credentials at most once, when first asked for.
final class CallerResolution: Sendable {
    private let resolve: @Sendable () async throws -> Caller
    private let resolved = Mutex<Result<Caller, any Error>?>(nil)

    init(_ resolve: @escaping @Sendable () async throws -> Caller) {
        self.resolve = resolve
    }

    func caller() async throws -> Caller {
        if let earlier = resolved.withLock({ $0 }) { return try earlier.get() }
        let outcome: Result<Caller, any Error>
        do {
            outcome = .success(try await resolve())
        } catch {
            outcome = .failure(error)
        }
        resolved.withLock { $0 = outcome }
        return try outcome.get()
    }
}

/// Attaches the caller's resolution to every request of the group it is added to: the bearer of the
/// `Authorization` header becomes a `Caller` when (and only if) a handler asks for it.
struct AuthenticationMiddleware<Store: TenantStore & IdentityStore>: RouterMiddleware {
    let authenticator: Authenticator<Store>

    func handle(
        _ request: Request, context: FerryRequestContext,
        next: (Request, FerryRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let authenticator = authenticator
        context.credentials = CallerResolution { try await authenticator.caller(for: request) }
        return try await next(request, context)
    }
}
