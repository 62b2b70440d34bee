import FerryCore
import Testing

/// The GCRA limit on an injected clock: the burst, then one request per period, the time to wait when refused, and
/// what remains.
@Suite struct RateLimitTests {
    @Test func aBurstPassesThenOneRequestPerPeriod() {
        let limit = RateLimit(burst: 3, period: 0.1)
        var arrival: Double?
        var decisions: [RateDecision] = []
        for _ in 0..<4 {
            let (decision, next) = limit.decide(arrival: arrival, now: 10)
            decisions.append(decision)
            arrival = next
        }
        #expect(decisions.prefix(3).map(Self.remaining) == [2, 1, 0])
        guard case .refused(let retryAfter, _) = decisions[3] else {
            Issue.record("the fourth request at once passed: \(decisions)")
            return
        }
        #expect(abs(retryAfter - 0.1) < 1e-9)
        // One period later one more passes, and only one.
        let (later, afterLater) = limit.decide(arrival: arrival, now: 10.1)
        #expect(Self.remaining(later) == 0)
        if case .allowed = limit.decide(arrival: afterLater, now: 10.1).decision {
            Issue.record("two requests passed in one period")
        }
        // Long idle: the whole burst again.
        #expect(Self.remaining(limit.decide(arrival: afterLater, now: 60).decision) == 2)
    }

    @Test func aRefusedRequestDoesNotSpendTheLimit() {
        let limit = RateLimit(burst: 1, period: 1)
        let (_, arrival) = limit.decide(arrival: nil, now: 0)
        let (refused, kept) = limit.decide(arrival: arrival, now: 0.5)
        #expect(refused == .refused(retryAfter: 0.5, reset: 0.5))
        #expect(kept == arrival)
        #expect(Self.remaining(limit.decide(arrival: kept, now: 1).decision) == 0)
    }

    static func remaining(_ decision: RateDecision) -> Int? {
        if case .allowed(let remaining, _) = decision { return remaining }
        return nil
    }
}
