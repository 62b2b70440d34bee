import Biscuit
import FerryCore
import FerryIdentity
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The API's rate limits, Hook0's three levels (GCRA): every request together, each client address, and each
/// credential (a Biscuit's root, so its attenuations share it; an application secret's application; a legacy
/// service token's organization; the master key is exempt). Kept in this process's memory, as Hook0's are: with
/// several `ferry api` processes each applies the limits on its own.
public struct RateLimits: Sendable, Equatable {
    public var global: RateLimit?
    public var perClient: RateLimit?
    public var perCredential: RateLimit?

    public init(global: RateLimit? = nil, perClient: RateLimit? = nil, perCredential: RateLimit? = nil) {
        self.global = global
        self.perClient = perClient
        self.perCredential = perCredential
    }

    /// Hook0's defaults: 2,000 at once then 1,000/s overall, 200 then 100/s per client, 20 then 10/s per credential.
    public static let hook0Defaults = RateLimits(
        global: RateLimit(burst: 2000, period: 0.001), perClient: RateLimit(burst: 200, period: 0.01),
        perCredential: RateLimit(burst: 20, period: 0.1))

    public var isEmpty: Bool { global == nil && perClient == nil && perCredential == nil }
}

/// The state of the limits: each key's theoretical arrival time, on a monotonic clock given at creation (tests
/// inject theirs). Keys idle long enough to have their whole burst back are dropped as the table grows.
final class RateLimiter: Sendable {
    enum Level: Hashable, Sendable {
        case global, client, credential
    }

    /// The limit that decided, for the `RateLimit-*` headers: the most constraining one.
    struct Verdict: Sendable {
        var limit: RateLimit
        var decision: RateDecision
    }

    private struct State {
        var arrivals: [Level: [String: Double]] = [:]
        /// When idle keys were last dropped (a sweep walks the whole table, so it runs at most once a second).
        var sweptAt = -Double.infinity
    }

    let limits: RateLimits
    private let now: @Sendable () -> Double
    private let state = Mutex(State())
    private static var sweepAbove: Int { 50_000 }

    init(limits: RateLimits, now: @escaping @Sendable () -> Double = RateLimiter.monotonicSeconds) {
        self.limits = limits
        self.now = now
    }

    static let start = ContinuousClock.now
    static func monotonicSeconds() -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func limit(for level: Level) -> RateLimit? {
        switch level {
        case .global: limits.global
        case .client: limits.perClient
        case .credential: limits.perCredential
        }
    }

    /// Admits one request under every key given (level, key), or refuses it at the first limit it exceeds; a
    /// refused request spends nothing. Returns the verdict of the most constraining limit, or nil when none applies.
    func admit(_ keys: [(level: Level, key: String)]) -> Verdict? {
        let time = now()
        return state.withLock { state -> Verdict? in
            var pending: [(level: Level, key: String, arrival: Double)] = []
            var tightest: Verdict?
            for (level, key) in keys {
                guard let limit = limit(for: level) else { continue }
                let (decision, arrival) = limit.decide(arrival: state.arrivals[level]?[key], now: time)
                if case .refused = decision { return Verdict(limit: limit, decision: decision) }
                pending.append((level, key, arrival))
                if case .allowed(let remaining, _) = decision, tightest.map({ Self.remaining($0) > remaining }) ?? true
                {
                    tightest = Verdict(limit: limit, decision: decision)
                }
            }
            if time - state.sweptAt >= 1, state.arrivals.values.contains(where: { $0.count > Self.sweepAbove }) {
                state.sweptAt = time
                for (level, table) in state.arrivals { state.arrivals[level] = table.filter { $0.value > time } }
            }
            for (level, key, arrival) in pending { state.arrivals[level, default: [:]][key] = arrival }
            return tightest
        }
    }

    private static func remaining(_ verdict: Verdict) -> Int {
        if case .allowed(let remaining, _) = verdict.decision { return remaining }
        return 0
    }
}

/// Resolves the client's address through the trusted proxies (`ClientAddress`) for every route, the API's and the
/// dashboard's (`FerryRequestContext.clientIP`).
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = FerryRequestContext
    let trustedProxies: [CIDR]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard !trustedProxies.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientIP = ClientAddress.resolve(
            peer: context.clientIP, forwarded: request.headers[values: .forwarded],
            forwardedFor: request.headers[values: .xForwardedFor], trustedProxies: trustedProxies)
        return try await next(request, context)
    }
}

/// Applies `RateLimits` to every `/api/v1` request: 429 `RateLimited` with `Retry-After` past a limit, and
/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` of the tightest limit on every answer.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = FerryRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let limits = limiter.limits
        guard !limits.isEmpty else { return try await next(request, context) }
        var keys: [(level: RateLimiter.Level, key: String)] = [(.global, ""), (.client, context.clientIP)]
        if limits.perCredential != nil, request.headers[.authorization] != nil,
            let caller = try? await context.caller(), let key = Self.credentialKey(caller)
        {
            keys.append((.credential, key))
        }
        guard let verdict = limiter.admit(keys) else { return try await next(request, context) }
        switch verdict.decision {
        case .refused(let retryAfter, let reset):
            var problem = ProblemCatalog.rateLimited
            problem.retryAfter = max(1, Int(retryAfter.rounded(.up)))
            var response = problem.response()
            Self.describe(verdict.limit, remaining: 0, reset: reset, in: &response.headers)
            return response
        case .allowed(let remaining, let reset):
            var response = try await next(request, context)
            Self.describe(verdict.limit, remaining: remaining, reset: reset, in: &response.headers)
            return response
        }
    }

    /// The key of a credential's limit; nil for the master key, which has none.
    static func credentialKey(_ caller: Caller) -> String? {
        switch caller {
        case .master: nil
        case .token(let biscuit, _): "biscuit:" + (biscuit.revocationIDs.first ?? "")
        case .applicationSecret(_, let applicationID): "secret:" + applicationID.lowercased
        case .legacyServiceToken(let organizationID): "legacy:" + organizationID.lowercased
        }
    }

    private static func describe(_ limit: RateLimit, remaining: Int, reset: Double, in headers: inout HTTPFields) {
        guard let limitName = HTTPField.Name("ratelimit-limit"),
            let remainingName = HTTPField.Name("ratelimit-remaining"),
            let resetName = HTTPField.Name("ratelimit-reset")
        else { return }
        headers[limitName] = String(limit.burst)
        headers[remainingName] = String(remaining)
        headers[resetName] = String(max(0, Int(reset.rounded(.up))))
    }
}

extension HTTPField.Name {
    static let forwarded = HTTPField.Name("forwarded")!
    static let xForwardedFor = HTTPField.Name("x-forwarded-for")!
}
