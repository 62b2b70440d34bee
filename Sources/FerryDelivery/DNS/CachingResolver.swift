import FerryCore
import Foundation
import Synchronization

/// Ferry's resolver of delivery targets: the stub resolver behind a cache, with concurrent lookups of one name
/// shared and a cap on the distinct names one application may have in resolution at once, so a tenant whose
/// names never resolve cannot take every lookup for itself.
public final class CachingResolver: Sendable {
    /// Bounds and sizes; the TTL bounds are Hook0's.
    public struct Limits: Sendable {
        /// Longest an answer with addresses is kept, whatever its TTL.
        public var maximumPositiveTTL: Duration = .seconds(300)
        /// Longest "no such name" is kept (RFC 2308 negative caching), and how long when the zone gives no TTL.
        public var maximumNegativeTTL: Duration = .seconds(30)
        /// Names kept at most; past it, expired entries go first, then the oldest.
        public var maximumEntries = 10_000
        /// Distinct names one application may be resolving at once; more fail at once with `E_DNS` (retried later).
        public var lookupsPerTenant = 8

        public init() {}
    }

    private struct Entry {
        var resolution: Resolution
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var cache: [String: Entry] = [:]
        var inFlight: [String: Task<Resolution, Never>] = [:]
        var lookupsByTenant: [UUID: Int] = [:]
    }

    private let stub: StubResolver
    private let limits: Limits
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State())

    /// Resolves with `configuration` (the machine's resolv.conf and hosts file unless a test says otherwise);
    /// `now` tells the cache the time (tests move it instead of sleeping).
    public init(
        configuration: ResolverConfiguration = .system(), limits: Limits = Limits(),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.stub = StubResolver(configuration: configuration)
        self.limits = limits
        self.now = now
    }

    /// The resolver as the target guard uses it.
    public var hostResolver: HostResolver {
        HostResolver { [self] host, tenant in await resolve(host, tenant: tenant) }
    }

    /// The addresses of `host`, from the cache when they are fresh; `E_DNS` when it has none or none came in time.
    public func resolve(_ host: String, tenant: UUID?) async -> Result<[IPAddress], ResponseErrorName> {
        let name = host.lowercased().hasSuffix(".") ? String(host.lowercased().dropLast()) : host.lowercased()
        let now = now()
        enum Step {
            case cached(Resolution)
            case join(Task<Resolution, Never>)
            case refused
            case start
        }
        let step = state.withLock { state -> Step in
            if let entry = state.cache[name], entry.expires > now { return .cached(entry.resolution) }
            if let running = state.inFlight[name] { return .join(running) }
            if let tenant {
                guard state.lookupsByTenant[tenant, default: 0] < limits.lookupsPerTenant else { return .refused }
                state.lookupsByTenant[tenant, default: 0] += 1
            }
            return .start
        }
        let resolution: Resolution
        switch step {
        case .cached(let cached): resolution = cached
        case .refused: return .failure(.dns)
        case .join(let running): resolution = await running.value
        case .start:
            let lookup = Task { [stub] in await stub.resolve(name) }
            state.withLock { $0.inFlight[name] = lookup }
            resolution = await withTaskCancellationHandler {
                await lookup.value
            } onCancel: {
                lookup.cancel()
            }
            remember(resolution, for: name, tenant: tenant)
        }
        switch resolution {
        case .addresses(let addresses, _): return .success(addresses)
        case .notFound, .failed: return .failure(.dns)
        }
    }

    private func remember(_ resolution: Resolution, for name: String, tenant: UUID?) {
        let now = now()
        let lifetime: Duration?
        switch resolution {
        case .addresses(_, let ttl): lifetime = min(.seconds(Int64(ttl)), limits.maximumPositiveTTL)
        case .notFound(let ttl):
            lifetime = min(ttl.map { .seconds(Int64($0)) } ?? .seconds(30), limits.maximumNegativeTTL)
        case .failed: lifetime = nil
        }
        state.withLock { state in
            state.inFlight[name] = nil
            if let tenant {
                let remaining = state.lookupsByTenant[tenant, default: 1] - 1
                state.lookupsByTenant[tenant] = remaining > 0 ? remaining : nil
            }
            guard let lifetime, lifetime > .zero else { return }
            if state.cache.count >= limits.maximumEntries {
                state.cache = state.cache.filter { $0.value.expires > now }
                while state.cache.count >= limits.maximumEntries,
                    let oldest = state.cache.min(by: { $0.value.expires < $1.value.expires })?.key
                {
                    state.cache[oldest] = nil
                }
            }
            state.cache[name] = Entry(resolution: resolution, expires: now + lifetime)
        }
    }
}
