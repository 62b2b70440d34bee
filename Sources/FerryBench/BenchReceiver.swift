import Foundation
import Hummingbird
import Logging
import Synchronization

/// A minimal webhook receiver for benchmarks: answers every POST with 200 at once, and records when each delivery
/// arrived and, from the `"sent_ns":N` the load generator put in the payload, how long after its ingest began.
public final class BenchReceiver: Sendable {
    private struct State {
        var arrivals: [Int64] = []
        var latencies = LatencyStats()
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts and latencies since the last reset.
    public struct Report: Sendable, Codable {
        public var count: Int
        public var firstArrivalNanoseconds: Int64?
        public var lastArrivalNanoseconds: Int64?
        /// Deliveries per second between the first and the last arrival.
        public var perSecond: Double
        public var latency: LatencySummary
        /// Arrivals per 100 ms since the first one.
        public var timeline: [Int]
    }

    public func report() -> Report {
        state.withLock { state in
            let first = state.arrivals.min()
            let last = state.arrivals.max()
            var timeline: [Int] = []
            if let first {
                for arrival in state.arrivals {
                    let bucket = Int((arrival - first) / 100_000_000)
                    if bucket >= timeline.count { timeline += Array(repeating: 0, count: bucket - timeline.count + 1) }
                    timeline[bucket] += 1
                }
            }
            let span = Double((last ?? 0) - (first ?? 0)) / 1e9
            return Report(
                count: state.arrivals.count, firstArrivalNanoseconds: first, lastArrivalNanoseconds: last,
                perSecond: span > 0 ? Double(state.arrivals.count) / span : 0, latency: state.latencies.summary,
                timeline: timeline)
        }
    }

    public func reset() {
        state.withLock { $0 = State() }
    }

    func record(body: ByteBuffer) {
        let now = WallClock.nanoseconds()
        let sent = Self.sentNanoseconds(in: body)
        state.withLock { state in
            state.arrivals.append(now)
            if let sent { state.latencies.add(Double(now - sent) / 1e6) }
        }
    }

    /// The number after `"sent_ns":` in the body, if any.
    static func sentNanoseconds(in body: ByteBuffer) -> Int64? {
        let bytes = Array(body.readableBytesView)
        let key = Array(#""sent_ns":"#.utf8)
        guard bytes.count > key.count else { return nil }
        for start in 0...(bytes.count - key.count) where bytes[start..<start + key.count].elementsEqual(key) {
            var value: Int64 = 0
            var index = start + key.count
            while index < bytes.count, (48...57).contains(bytes[index]) {
                value = value * 10 + Int64(bytes[index] - 48)
                index += 1
            }
            return value
        }
        return nil
    }

    /// Serves on 127.0.0.1:`port` until cancelled: POST anything → 200; `GET /stats` → the report as JSON;
    /// `GET /reset` → clears it.
    public func run(port: Int) async throws {
        let router = Router()
        router.post("/**") { request, _ -> HTTPResponse.Status in
            var request = request
            self.record(body: try await request.collectBody(upTo: 16 << 20))
            return .ok
        }
        router.get("/stats") { _, _ -> Response in
            let data = (try? JSONEncoder().encode(self.report())) ?? Data("{}".utf8)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/reset") { _, _ -> HTTPResponse.Status in
            self.reset()
            return .ok
        }
        var logger = Logger(label: "bench-receiver")
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        try await app.runService()
    }
}
