import NIOCore
import Testing

@testable import FerryBench

/// The benchmark's own arithmetic: percentiles and the send timestamp read back from a delivered payload.
@Suite struct BenchToolsTests {
    @Test func nearestRankPercentiles() {
        var stats = LatencyStats()
        for value in 1...100 { stats.add(Double(value)) }
        let summary = stats.summary
        #expect(summary.count == 100)
        #expect(summary.p50 == 50 && summary.p90 == 90 && summary.p99 == 99 && summary.max == 100)
        #expect(LatencyStats().summary.p99 == 0)
    }

    @Test func receiverReadsTheSendTimeFromThePayload() {
        #expect(
            BenchReceiver.sentNanoseconds(in: ByteBuffer(string: #"{"sent_ns":1732300000123456789}"#))
                == 1_732_300_000_123_456_789)
        #expect(BenchReceiver.sentNanoseconds(in: ByteBuffer(string: #"{"amount":42}"#)) == nil)
    }

    @Test func receiverReportsCountsAndLatencies() {
        let receiver = BenchReceiver()
        let sent = WallClock.nanoseconds() - 5_000_000
        receiver.record(body: ByteBuffer(string: #"{"sent_ns":\#(sent)}"#))
        receiver.record(body: ByteBuffer(string: "{}"))
        let report = receiver.report()
        #expect(report.count == 2)
        #expect(report.latency.count == 1)
        #expect(report.latency.p50 >= 5 && report.latency.p50 < 1000)
        receiver.reset()
        #expect(receiver.report().count == 0)
    }
}

/// The authorizer benchmark measures authorizations that succeed.
@Suite struct AuthorizerBenchTests {
    @Test func measuresEveryRequestKind() throws {
        let cost = try AuthorizerBench.measure(rounds: 1, authorizations: 20)
        #expect(cost.authorizationsPerRound == 20)
        #expect(cost.serviceIngestMicroseconds > 0)
        #expect(cost.attenuatedIngestMicroseconds > 0)
        #expect(cost.personListMicroseconds > 0)
        #expect(cost.rememberedServiceIngestMicroseconds > 0)
    }
}
