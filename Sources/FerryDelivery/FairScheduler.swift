import FerryCore
import FerryStorage
import Foundation
import Synchronization

/// Shares one worker process's delivery slots fairly: each subscription and each target host may have at most
/// its adaptive limit in flight (`AdaptiveConcurrencyLimit`: 2xx answers raise it, timeouts and 5xx halve
/// it), and each application at most `applicationLimit`, so a tenant whose endpoints hang holds a bounded share of
/// the slots and the rest keep serving everyone else. Claims leave work at its limit in the database
/// (`exclusions`); a claimed job over a limit is not admitted and its lease is given back.
///
/// The limits are per process, not shared through the database: every process protects its own slots, which is
/// what keeps other tenants' latency low, and no delivery pays a database write to count in-flight work. With
/// several workers an endpoint may have up to that many times its limit in flight in all.
final class FairScheduler: Sendable {
    /// Endpoints remembered (their limits) beyond which idle ones are forgotten.
    static let rememberedEndpoints = 10_000

    private struct Endpoint {
        var limit: AdaptiveConcurrencyLimit
        var inFlight = 0
        var isSaturated: Bool { inFlight >= limit.limit }
    }

    private struct State {
        var subscriptions: [UUID: Endpoint] = [:]
        var hosts: [String: Endpoint] = [:]
        var hostOfSubscription: [UUID: String] = [:]
        var applicationOfSubscription: [UUID: UUID] = [:]
        var applications: [UUID: Int] = [:]
        /// `hostKey` of each target URL seen, so a delivery parses no URL.
        var hostKeys: [String: String] = [:]
    }

    let endpointMaximum: Int
    let applicationLimit: Int
    private let state = Mutex(State())

    /// `endpointMaximum` caps every endpoint's adaptive limit; `applicationLimit` is one application's share.
    init(endpointMaximum: Int, applicationLimit: Int) {
        self.endpointMaximum = max(1, endpointMaximum)
        self.applicationLimit = max(1, applicationLimit)
    }

    /// What the next claim should leave alone: subscriptions at their limit or on a host at its limit, and
    /// applications at their share.
    func exclusions() -> ClaimExclusions {
        state.withLock { state in
            var subscriptions: [UUID] = []
            for (id, endpoint) in state.subscriptions {
                if endpoint.isSaturated {
                    subscriptions.append(id)
                } else if let host = state.hostOfSubscription[id], state.hosts[host]?.isSaturated == true {
                    subscriptions.append(id)
                }
            }
            let applications = state.applications.filter { $0.value >= applicationLimit }.map(\.key)
            return ClaimExclusions(subscriptionIDs: subscriptions, applicationIDs: applications)
        }
    }

    /// How many more jobs of the keys `exclusions` names could be admitted now: each application's room below its
    /// share and each subscription's below its limit, added up (an upper bound; a job over a limit is refused by
    /// `admit` anyway).
    func headroom(within exclusions: ClaimExclusions) -> Int {
        state.withLock { state in
            func applicationRoom(_ id: UUID) -> Int { max(0, applicationLimit - (state.applications[id] ?? 0)) }
            let excludedApplications = Set(exclusions.applicationIDs)
            var room = excludedApplications.reduce(0) { $0 + applicationRoom($1) }
            // A subscription of an application counted above adds nothing; the others' rooms are capped by their
            // application's and, together, by their host's.
            var roomByHost: [String: Int] = [:]
            for id in exclusions.subscriptionIDs {
                let application = state.applicationOfSubscription[id]
                if let application, excludedApplications.contains(application) { continue }
                guard let endpoint = state.subscriptions[id], let host = state.hostOfSubscription[id] else {
                    room += endpointMaximum
                    continue
                }
                var subscriptionRoom = max(0, endpoint.limit.limit - endpoint.inFlight)
                if let application { subscriptionRoom = min(subscriptionRoom, applicationRoom(application)) }
                roomByHost[host, default: 0] += subscriptionRoom
            }
            for (host, hostRoom) in roomByHost {
                let target = state.hosts[host].map { max(0, $0.limit.limit - $0.inFlight) } ?? endpointMaximum
                room += min(hostRoom, target)
            }
            return room
        }
    }

    /// Takes a slot for `job` if its subscription, host and application are all below their limits.
    func admit(_ job: DeliveryJob) -> Bool {
        state.withLock { state in
            if state.subscriptions.count > Self.rememberedEndpoints { Self.forgetIdle(&state) }
            let host = Self.hostKey(job.target.url, cachedIn: &state)
            state.hostOfSubscription[job.subscriptionID] = host
            state.applicationOfSubscription[job.subscriptionID] = job.applicationID
            var subscription =
                state.subscriptions[job.subscriptionID]
                ?? Endpoint(limit: AdaptiveConcurrencyLimit(maximum: endpointMaximum))
            var target = state.hosts[host] ?? Endpoint(limit: .host(maximum: endpointMaximum))
            let application = state.applications[job.applicationID] ?? 0
            guard !subscription.isSaturated, !target.isSaturated, application < applicationLimit else {
                state.subscriptions[job.subscriptionID] = subscription
                state.hosts[host] = target
                return false
            }
            subscription.inFlight += 1
            target.inFlight += 1
            state.subscriptions[job.subscriptionID] = subscription
            state.hosts[host] = target
            state.applications[job.applicationID] = application + 1
            return true
        }
    }

    /// Gives back `job`'s slot, adapting its endpoints' limits to `signal` (nil: the job was not sent).
    func finish(_ job: DeliveryJob, signal: CapacitySignal?) {
        state.withLock { state in
            let host = Self.hostKey(job.target.url, cachedIn: &state)
            if var subscription = state.subscriptions[job.subscriptionID] {
                subscription.inFlight = max(0, subscription.inFlight - 1)
                if let signal { subscription.limit.record(signal) }
                state.subscriptions[job.subscriptionID] = subscription
            }
            if var target = state.hosts[host] {
                target.inFlight = max(0, target.inFlight - 1)
                if let signal { target.limit.record(signal) }
                state.hosts[host] = target
            }
            let application = (state.applications[job.applicationID] ?? 1) - 1
            state.applications[job.applicationID] = application > 0 ? application : nil
        }
    }

    /// A target's host as the limits key it: scheme, host and port.
    static func hostKey(_ url: String) -> String {
        guard let components = URLComponents(string: url), var host = components.host?.lowercased() else {
            return url
        }
        if host.contains(":") && !host.hasPrefix("[") { host = "[" + host + "]" }
        let scheme = components.scheme?.lowercased() ?? "http"
        return "\(scheme)://\(host):\(components.port ?? (scheme == "https" ? 443 : 80))"
    }

    private static func hostKey(_ url: String, cachedIn state: inout State) -> String {
        if let known = state.hostKeys[url] { return known }
        if state.hostKeys.count > rememberedEndpoints { state.hostKeys.removeAll(keepingCapacity: true) }
        let key = hostKey(url)
        state.hostKeys[url] = key
        return key
    }

    private static func forgetIdle(_ state: inout State) {
        state.subscriptions = state.subscriptions.filter { $0.value.inFlight > 0 }
        state.hosts = state.hosts.filter { $0.value.inFlight > 0 }
        state.hostOfSubscription = state.hostOfSubscription.filter { state.subscriptions[$0.key] != nil }
        state.applicationOfSubscription = state.applicationOfSubscription.filter {
            state.subscriptions[$0.key] != nil
        }
    }
}
