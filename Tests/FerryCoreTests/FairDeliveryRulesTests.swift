import Foundation
import Testing

@testable import FerryCore

/// The rules of fair delivery: adaptive per-endpoint limits and the circuit breaker's schedule.
@Suite struct FairDeliveryRulesTests {
    private func answered(_ status: Int, milliseconds: Int = 5) -> AttemptObservation {
        .answered(
            status: status, headers: [:], body: [], truncated: false, elapsedMilliseconds: milliseconds,
            retryAfterSeconds: nil)
    }

    @Test func answersAreReadAsCapacitySignals() {
        #expect(CapacitySignal(answered(200)) == .healthy)
        #expect(CapacitySignal(answered(204, milliseconds: 2_500)) == .healthy, "a slow 2xx still keeps up")
        #expect(CapacitySignal(answered(404)) == .neutral)
        #expect(CapacitySignal(answered(429)) == .overloaded)
        #expect(CapacitySignal(answered(503)) == .overloaded)
        #expect(CapacitySignal(.failed(.timeout, elapsedMilliseconds: 15_000)) == .overloaded)
        #expect(CapacitySignal(.failed(.connection, elapsedMilliseconds: 1)) == .overloaded)
        #expect(CapacitySignal(.failed(.dns, elapsedMilliseconds: 1)) == .neutral)
        #expect(CapacitySignal(.failed(.invalidTarget, elapsedMilliseconds: 0)) == .neutral)
    }

    @Test func aLimitDoublesPerRoundUntilOverloadThenGrowsByOneAndHalves() {
        var limit = AdaptiveConcurrencyLimit(maximum: 48)
        #expect(limit.limit == 4 && limit.isSlowStart)
        // Slow start: a round of 4 quick answers doubles it.
        for _ in 0..<4 { limit.record(.healthy) }
        #expect(limit.limit == 8)
        for _ in 0..<8 { limit.record(.healthy) }
        #expect(limit.limit == 16)
        limit.record(.neutral)
        #expect(limit.limit == 16)
        limit.record(.overloaded)
        #expect(limit.limit == 8 && !limit.isSlowStart)
        // Congestion avoidance: a round of 8 quick answers adds about one.
        for _ in 0..<8 { limit.record(.healthy) }
        #expect(limit.limit == 8 || limit.limit == 9)
        for _ in 0..<10 { limit.record(.overloaded) }
        #expect(limit.limit == 1, "never below one")
        for _ in 0..<10_000 { limit.record(.healthy) }
        #expect(limit.limit == 48, "never above the maximum")
    }

    @Test func aHostStartsAtTheMaximumAndKeepsFourSlots() {
        var host = AdaptiveConcurrencyLimit.host(maximum: 48)
        #expect(host.limit == 48)
        for _ in 0..<20 { host.record(.overloaded) }
        #expect(host.limit == 4)
        #expect(AdaptiveConcurrencyLimit.host(maximum: 2).limit == 2)
    }

    @Test func theCircuitOpensAtTheThresholdAndItsPausesDouble() {
        let policy = CircuitBreakerPolicy(failureThreshold: 3, openFor: .seconds(30))
        #expect(!policy.opens(afterConsecutiveFailures: 2))
        #expect(policy.opens(afterConsecutiveFailures: 3))
        #expect(!CircuitBreakerPolicy(failureThreshold: nil).opens(afterConsecutiveFailures: 1_000))
        let opened = Date(timeIntervalSince1970: 1_000_000)
        #expect(policy.nextProbe(openedAt: opened, now: opened) == opened.addingTimeInterval(30))
        // The first probe fails 30 s in: the next waits 30 s more; then 60, 120, … at most 15 minutes.
        let firstProbe = opened.addingTimeInterval(30)
        #expect(policy.nextProbe(openedAt: opened, now: firstProbe) == opened.addingTimeInterval(60))
        let secondProbe = opened.addingTimeInterval(60)
        #expect(policy.nextProbe(openedAt: opened, now: secondProbe) == opened.addingTimeInterval(120))
        let muchLater = opened.addingTimeInterval(86_400)
        #expect(policy.nextProbe(openedAt: opened, now: muchLater) == muchLater.addingTimeInterval(900))
    }

    @Test func theCircuitStateIsNamedAtAMoment() {
        let now = Date()
        #expect(CircuitState().name(at: now) == "closed")
        #expect(CircuitState(openedAt: now, probeAt: now.addingTimeInterval(5)).name(at: now) == "open")
        #expect(CircuitState(openedAt: now, probeAt: now.addingTimeInterval(-1)).name(at: now) == "half_open")
    }
}
