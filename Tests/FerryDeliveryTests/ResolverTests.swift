import AsyncHTTPClient
import FerryCore
import FerryDelivery
import FerryTestSupport
import Foundation
import Synchronization
import Testing

/// Ferry's own resolver against a name server on loopback: TTL-bounded positive and negative caching, a server
/// that never answers, the per-tenant cap, and deadlines that hold whatever the lookup is stuck in.
@Suite struct ResolverTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let offset = Mutex<Duration>(.zero)
        private let origin = ContinuousClock.now

        func advance(by duration: Duration) { offset.withLock { $0 += duration } }
        var now: ContinuousClock.Instant { origin + offset.withLock { $0 } }
    }

    static func configuration(_ server: FakeNameServer, queryTimeout: Duration = .milliseconds(400))
        -> ResolverConfiguration
    {
        ResolverConfiguration(
            nameServers: [.init(host: "127.0.0.1", port: server.port)], queryTimeout: queryTimeout, attempts: 2)
    }

    @Test func answersAreCachedForTheirTTLAndAtMostFiveMinutes() async throws {
        let server = try await FakeNameServer.start(positiveTTL: 60)
        let long = try await FakeNameServer.start(positiveTTL: 86_400)
        let clock = ManualClock()
        let resolver = CachingResolver(configuration: Self.configuration(server), now: { clock.now })
        #expect(try await resolver.resolve("Good.Test.", tenant: nil).get() == [.v4([127, 0, 0, 1])])
        #expect(server.queries(for: "good.test") == 2)
        _ = await resolver.resolve("good.test", tenant: nil)
        clock.advance(by: .seconds(59))
        _ = await resolver.resolve("good.test", tenant: nil)
        #expect(server.queries(for: "good.test") == 2)
        clock.advance(by: .seconds(2))
        _ = await resolver.resolve("good.test", tenant: nil)
        #expect(server.queries(for: "good.test") == 4)

        let capped = CachingResolver(configuration: Self.configuration(long), now: { clock.now })
        _ = await capped.resolve("good.test", tenant: nil)
        clock.advance(by: .seconds(299))
        _ = await capped.resolve("good.test", tenant: nil)
        #expect(long.queries(for: "good.test") == 2)
        clock.advance(by: .seconds(2))
        _ = await capped.resolve("good.test", tenant: nil)
        #expect(long.queries(for: "good.test") == 4)
        try await server.stop()
        try await long.stop()
    }

    @Test func noSuchNameIsCachedForTheZonesNegativeTTLAndAtMostThirtySeconds() async throws {
        let short = try await FakeNameServer.start(negativeTTL: 5)
        let long = try await FakeNameServer.start(negativeTTL: 3_600)
        let clock = ManualClock()
        for (server, lifetime) in [(short, 5), (long, 30)] {
            let resolver = CachingResolver(configuration: Self.configuration(server), now: { clock.now })
            #expect(await resolver.resolve("nx.test", tenant: nil) == .failure(.dns))
            clock.advance(by: .seconds(lifetime - 1))
            #expect(await resolver.resolve("nx.test", tenant: nil) == .failure(.dns))
            #expect(server.queries(for: "nx.test") == 2)
            clock.advance(by: .seconds(2))
            _ = await resolver.resolve("nx.test", tenant: nil)
            #expect(server.queries(for: "nx.test") == 4)
            try await server.stop()
        }
    }

    /// The figures: tenant A points eight subscriptions at names whose server never answers; each of its
    /// attempts fails at the DNS timeout, tenant B's deliveries (each to a name that must be looked up) keep their
    /// latency, and no request is delivered twice.
    @Test func aNameServerThatNeverAnswersCostsOnlyItsTenant() async throws {
        let server = try await FakeNameServer.start()
        try await TestReceiver.with { receiver in
            var configuration = DeliveryConfiguration()
            configuration.allowedTargetNetworks = TargetGuardTests.loopback
            configuration.totalTimeout = .seconds(5)
            let resolver = CachingResolver(configuration: Self.configuration(server, queryTimeout: .seconds(4)))
            let client = HTTPDeliverer.makeClient(configuration: configuration)
            let deliverer = HTTPDeliverer(
                client: client,
                targetGuard: TargetGuard(
                    policy: configuration.targetPolicy, dnsTimeout: .seconds(4), resolver: resolver.hostResolver),
                configuration: configuration)
            let tenantA = UUID()
            let tenantB = UUID()
            let clock = ContinuousClock()
            @Sendable func deliverB(_ index: Int) async throws -> (
                latency: Duration, finishedAt: ContinuousClock.Instant
            ) {
                let request = try TargetGuardTests.request(to: "http://good\(index).test:\(receiver.port)/hook")
                let started = clock.now
                let observation = await deliverer.deliver(request, tenant: tenantB)
                #expect(observation.httpStatus == 200)
                return (clock.now - started, clock.now)
            }
            var baseline: [Duration] = []
            for index in 0..<5 { baseline.append(try await deliverB(index).latency) }

            let stallStarted = clock.now
            let stalled = Task {
                await withTaskGroup(of: (AttemptObservation, Duration).self) { group in
                    for index in 0..<8 {
                        group.addTask {
                            let request = try! TargetGuardTests.request(to: "http://stall\(index).test/hook")
                            let started = clock.now
                            return (await deliverer.deliver(request, tenant: tenantA), clock.now - started)
                        }
                    }
                    var results: [(AttemptObservation, Duration)] = []
                    for await result in group { results.append(result) }
                    return results
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            // Tenant B's deliveries during the stall, in two waves of six at once (within its own cap of eight
            // lookups): each must finish while tenant A's lookups are still stuck, so none of them waited for A.
            var duringStall: [(latency: Duration, finishedAt: ContinuousClock.Instant)] = []
            for wave in 0..<2 {
                duringStall += try await withThrowingTaskGroup(
                    of: (latency: Duration, finishedAt: ContinuousClock.Instant).self
                ) { group in
                    for index in 0..<6 { group.addTask { try await deliverB(5 + wave * 6 + index) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            let stalledResults = await stalled.value
            let firstStallFailure = stallStarted + (stalledResults.map(\.1).min() ?? .zero)

            let received = await receiver.waitForRequests(17)
            let ids = received.compactMap { $0.headers["webhook-id"] }
            let failTimes = stalledResults.map(\.1)
            let latencies = duringStall.map(\.latency)
            print(
                "DNS stall: tenant A's 8 attempts failed after \(failTimes.min()!)–\(failTimes.max()!) "
                    + "(DNS timeout 4 s); tenant B latency before the stall max \(baseline.max()!), "
                    + "during it max \(latencies.max()!) over \(latencies.count) deliveries (two waves of six); "
                    + "requests received \(received.count), duplicates \(ids.count - Set(ids).count)")
            #expect(stalledResults.allSatisfy { $0.0.errorName == .dns })
            #expect(failTimes.allSatisfy { $0 >= .milliseconds(3900) && $0 < .seconds(7) })
            #expect(duringStall.allSatisfy { $0.finishedAt < firstStallFailure })
            #expect(received.count == 17 && Set(ids).count == 17)
            #expect(server.queries(for: "stall0.test") >= 1)
            await deliverer.shutdown()
            try await client.shutdown()
        }
        try await server.stop()
    }

    @Test func aTenantResolvingTooManyNamesAtOnceIsRefusedAtOnceAndOthersAreNot() async throws {
        let server = try await FakeNameServer.start()
        var limits = CachingResolver.Limits()
        limits.lookupsPerTenant = 4
        let resolver = CachingResolver(
            configuration: Self.configuration(server, queryTimeout: .seconds(3)), limits: limits)
        let greedy = UUID()
        let results = await withTaskGroup(of: (Result<[IPAddress], ResponseErrorName>, Duration).self) { group in
            for index in 0..<12 {
                group.addTask {
                    let started = ContinuousClock.now
                    return (await resolver.resolve("stall\(index).test", tenant: greedy), ContinuousClock.now - started)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(100))
                let started = ContinuousClock.now
                return (await resolver.resolve("good.test", tenant: UUID()), ContinuousClock.now - started)
            }
            var all: [(Result<[IPAddress], ResponseErrorName>, Duration)] = []
            for await result in group { all.append(result) }
            return all
        }
        // "At once" and "unaffected" mean well before the stuck lookups' 3 s timeout, however loaded the machine is.
        let refusedAtOnce = results.filter { $0.0 == .failure(.dns) && $0.1 < .milliseconds(1500) }
        #expect(refusedAtOnce.count == 8)
        #expect(results.contains { $0.0 == .success([.v4([127, 0, 0, 1])]) && $0.1 < .milliseconds(1500) })
        #expect(server.totalQueries - server.queries(for: "good.test") == 4 * 2 * 2)
        try await server.stop()
    }

    /// A lookup that ignores cancellation (as `getaddrinfo` on a thread does) must not hold the guard past its
    /// DNS timeout.
    @Test func vettingReturnsAtTheDNSTimeoutEvenWhenTheLookupIgnoresCancellation() async {
        let stuck = HostResolver { _ in
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
                    continuation.resume(returning: .success([.v4([127, 0, 0, 1])]))
                }
            }
        }
        let guardian = TargetGuard(
            policy: TargetPolicy(allowedNetworks: TargetGuardTests.loopback), dnsTimeout: .milliseconds(300),
            resolver: stuck)
        let started = ContinuousClock.now
        #expect(await guardian.vet("http://stuck.test/hook") == .failure(.dns))
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    /// An attempt answered `E_TIMEOUT` sends nothing afterwards, even when its lookup finishes later.
    @Test func anAttemptPastItsDeadlineIsNeverSent() async throws {
        let server = try await FakeNameServer.start(lateDelay: .seconds(3))
        try await TestReceiver.with { receiver in
            var configuration = DeliveryConfiguration()
            configuration.allowedTargetNetworks = TargetGuardTests.loopback
            configuration.totalTimeout = .milliseconds(500)
            let resolver = CachingResolver(
                configuration: Self.configuration(server, queryTimeout: .seconds(4)))
            let client = HTTPDeliverer.makeClient(configuration: configuration)
            let deliverer = HTTPDeliverer(
                client: client,
                targetGuard: TargetGuard(
                    policy: configuration.targetPolicy, dnsTimeout: .seconds(5), resolver: resolver.hostResolver),
                configuration: configuration)
            let started = ContinuousClock.now
            let observation = await deliverer.deliver(
                try TargetGuardTests.request(to: "http://late.test:\(receiver.port)/hook"))
            #expect(observation.errorName == .timeout)
            #expect(ContinuousClock.now - started < .milliseconds(2500), "answered only after the late lookup")
            #expect(await receiver.waitForRequests(1, timeout: .seconds(4)).isEmpty)
            await deliverer.shutdown()
            try await client.shutdown()
        }
        try await server.stop()
    }
}
