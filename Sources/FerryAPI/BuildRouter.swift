import Biscuit
import FerryCore
import FerryDelivery
import FerryIdentity
import FerryStorage
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Builds Ferry's HTTP router: one controller per resource under one `/api/v1` group whose requests carry their
/// caller (`AuthenticationMiddleware`), the operations routes beside it, problem+json errors, and paths accepted
/// with or without a trailing slash. Each controller gets only the storage roles it uses.
public func buildRouter<Store: FerryStore>(
    store: Store, configuration: APIConfiguration
) -> Router<FerryRequestContext> {
    let router = Router(context: FerryRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))
    router.add(middleware: ProblemMiddleware(routes: RouteTable(openAPIDocument: Array(buffer: OpenAPIDocument.bytes))))
    router.add(
        middleware: RequestBodyMiddleware(
            maxBytes: configuration.maxRequestBodyBytes, timeout: configuration.requestBodyTimeout))
    router.add(middleware: StorageDeadlineMiddleware(timeout: configuration.storageTimeout))
    router.add(middleware: NULParameterMiddleware())
    OperationsController(store: store, configuration: configuration, metricsNeedToken: true).addRoutes(to: router)

    let tokens = VerifiedTokens(rootKey: configuration.tokenIssuer.rootKey.publicKey)
    let access = AccessControl(store: store, authorizer: RequestAuthorizer())
    let api = router.group("api/v1").add(
        middleware: AuthenticationMiddleware(
            authenticator: Authenticator(store: store, masterKey: configuration.masterAPIKey, tokens: tokens))
    ).add(middleware: RateLimitMiddleware(limiter: RateLimiter(limits: configuration.rateLimits)))
    InstanceController(store: store, configuration: configuration, openAPIDocument: OpenAPIDocument.bytes)
        .addRoutes(to: api)
    AuthController(
        store: store, access: access,
        accounts: Accounts(
            store: store, settings: configuration.accounts, issuer: configuration.tokenIssuer, tokens: tokens,
            authorizer: access.authorizer, publicURL: configuration.publicURL),
        issuer: configuration.tokenIssuer, tokens: tokens
    ).addRoutes(to: api)
    OrganizationController(store: store, access: access).addRoutes(to: api)
    MemberController(
        store: store, access: access, membership: Membership(store: store, publicURL: configuration.publicURL)
    ).addRoutes(to: api)
    ServiceTokenController(store: store, access: access, issuer: configuration.tokenIssuer, tokens: tokens)
        .addRoutes(to: api)
    ApplicationController(store: store, access: access, defaultRetentionDays: configuration.retentionDays)
        .addRoutes(to: api)
    ApplicationSecretController(store: store, access: access).addRoutes(to: api)
    let payloadSchemas = PayloadSchemas { applicationID, eventType in
        try await store.eventTypeSchema(applicationID: applicationID, name: eventType)
    }
    EventTypeController(store: store, access: access, payloadSchemas: payloadSchemas).addRoutes(to: api)
    let operationalEvents = StoreOperationalEvents(store: store, logger: Logger(label: "ferry.operational"))
    OperationalEventsController(store: store, access: access).addRoutes(to: api)
    SubscriptionController(
        store: store, access: access, targetPolicy: configuration.targetPolicy, operationalEvents: operationalEvents
    ).addRoutes(to: api)
    RelayController(
        store: store, access: access, settings: configuration.relay, metrics: configuration.metrics,
        operationalEvents: operationalEvents, logger: Logger(label: "ferry.relay")
    ).addRoutes(to: api)
    EventController(
        store: store, access: access, metrics: configuration.metrics, maxBatchEvents: configuration.maxBatchEvents,
        payloadSchemas: payloadSchemas
    ).addRoutes(to: api)
    RequestAttemptController(store: store, access: access, publicURL: configuration.publicURL).addRoutes(to: api)
    ResponseController(store: store, access: access).addRoutes(to: api)
    return router
}

/// Builds the router of the operations listener (`metrics_listen`; the only HTTP of `ferry worker`): `/metrics`
/// and the `/health/live` and `/health/ready` probes only.
public func buildOperationsRouter<Store: FerryStore>(
    store: Store, configuration: APIConfiguration
) -> Router<FerryRequestContext> {
    let router = Router(context: FerryRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: StorageDeadlineMiddleware(timeout: configuration.storageTimeout))
    OperationsController(store: store, configuration: configuration, metricsNeedToken: false).addRoutes(to: router)
    return router
}

/// One log line per request, with method, route, status, duration and the request id. The route is the matched
/// pattern (`/api/v1/application_secrets/{token}`), never the path itself, and never headers or bodies: paths, queries,
/// headers and bodies can all carry credentials. The id is the client's `X-Request-Id` when it sent a short printable one, otherwise one of
/// Hummingbird's; it is answered in `X-Request-Id` and carried by every log line about the request.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.acceptedID) ?? context.id
        context.logger[metadataKey: "request_id"] = .string(requestID)
        context.logger[metadataKey: "hb.request.id"] = nil
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.requestID] = requestID
        let elapsed = ContinuousClock.now - started
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method)", "route": "\(LoggedRoute.describe(request, context: context))",
                "status": "\(response.status.code)",
                "elapsed_ms":
                    "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
            ])
        return response
    }

    /// A client-chosen id is kept when it is 1–128 visible ASCII characters.
    static func acceptedID(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            return nil
        }
        return value
    }
}

/// What Ferry's logs say of a request's path: the pattern of the route that answered it, or for a path no route
/// matched, its first three segments with the rest masked (`/api/v1/application_secrets/…`), so a credential carried
/// in a path segment never reaches a log line.
enum LoggedRoute {
    static func describe(_ request: Request, context: some RequestContext) -> String {
        if let pattern = context.endpointPath, pattern.hasPrefix("/") { return pattern }
        return masked(request.uri.path)
    }

    static func masked(_ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let kept = segments.prefix(3).joined(separator: "/")
        return "/" + kept + (segments.count > 3 ? "/…" : "")
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`, the id of one request in Ferry's logs.
    static let requestID = HTTPField.Name("x-request-id")!
}

/// Gives each request one deadline for all its storage work (`StorageDeadline`), counted once its body is read.
struct StorageDeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let timeout: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        try await StorageDeadline.$current.withValue(ContinuousClock.now + timeout) {
            try await next(request, context)
        }
    }
}

/// Refuses a path or query string carrying an encoded NUL (`%00`) with 400, as JSON bodies are refused: no
/// backend can store it, and PostgreSQL would fail on it.
struct NULParameterMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let uri = request.uri.description.utf8
        var previous: (UInt8, UInt8) = (0, 0)
        for byte in uri {
            if previous.0 == UInt8(ascii: "%") && previous.1 == UInt8(ascii: "0") && byte == UInt8(ascii: "0") {
                throw ProblemCatalog.nulCharacter
            }
            previous = (previous.1, byte)
        }
        return try await next(request, context)
    }
}

/// The OpenAPI document served at `/api/v1/swagger.json` and `/api/v1/openapi.json`, compiled into the binary
/// (`EmbeddedOpenAPI`, written by `scripts/embed-resources`), so a copied binary serves it too.
enum OpenAPIDocument {
    static let bytes = ByteBuffer(string: EmbeddedOpenAPI.document)
}

/// Reads every request body up front, within the size limit (400 `JsonPayload`, as Hook0) and the time limit (408, then the connection is
/// closed), so a slow or oversized upload never reaches a handler or holds a database connection.
struct RequestBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBytes: Int
    let timeout: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard [.post, .put, .patch].contains(request.method) else { return try await next(request, context) }
        let maxBytes = maxBytes
        let timeout = timeout
        let outcome = await withTaskGroup(of: Result<ByteBuffer, any Error>?.self) { group in
            group.addTask {
                var reading = request
                do { return .success(try await reading.collectBody(upTo: maxBytes)) } catch { return .failure(error) }
            }
            group.addTask {
                await CancellableSleep.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success(let buffer)?:
            var buffered = request
            buffered.body = .init(buffer: buffer)
            return try await next(buffered, context)
        case .failure(let error as any HTTPResponseError)? where error.status == .contentTooLarge:
            throw ProblemCatalog.payloadTooLarge(maxBytes: maxBytes)
        case .failure(let error)?:
            throw error
        case nil:
            var response = ProblemCatalog.bodyTooSlow.response()
            response.headers[.connection] = "close"
            return response
        }
    }
}
