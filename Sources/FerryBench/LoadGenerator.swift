import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// What to send and how hard: a fixed number of concurrent connections sending back to back (closed loop), or
/// paced at a fixed total rate.
public struct LoadPlan: Sendable {
    public var url: String
    public var method: HTTPMethod
    public var headers: [(String, String)]
    /// The body of the `n`-th request (nil for none); called at send time, so it may embed a timestamp.
    public var body: @Sendable (Int) -> [UInt8]?
    public var concurrency: Int
    public var duration: Duration
    /// Requests per second over all connections; nil sends back to back.
    public var ratePerSecond: Double?
    /// The status that counts as success.
    public var expectedStatus: Int
    /// How many items (events) a successful answer's body accounts for: 1 per request unless told otherwise.
    public var itemsAnswered: @Sendable ([UInt8]) -> Int

    public init(
        url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [],
        body: @escaping @Sendable (Int) -> [UInt8]? = { _ in nil }, concurrency: Int, duration: Duration,
        ratePerSecond: Double? = nil, expectedStatus: Int = 200,
        itemsAnswered: @escaping @Sendable ([UInt8]) -> Int = { _ in 1 }
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.concurrency = concurrency
        self.duration = duration
        self.ratePerSecond = ratePerSecond
        self.expectedStatus = expectedStatus
        self.itemsAnswered = itemsAnswered
    }
}

/// What a load run measured.
public struct LoadResult: Sendable, Codable {
    public var requests: Int
    public var succeeded: Int
    public var failed: Int
    public var seconds: Double
    /// Successful requests per second.
    public var perSecond: Double
    /// Items (events) the successful answers accounted for, and per second: as many as the requests, but for
    /// batches.
    public var items: Int
    public var itemsPerSecond: Double
    public var latency: LatencySummary
}

/// A load generator on AsyncHTTPClient with a fixed number of concurrent requests.
public enum LoadGenerator {
    /// Runs `plan` and returns its counts and request latencies.
    public static func run(_ plan: LoadPlan, client: HTTPClient) async -> LoadResult {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + plan.duration
        let counter = RequestCounter()
        let perConnectionInterval = plan.ratePerSecond.map { Double(plan.concurrency) / $0 }
        let outcomes = await withTaskGroup(of: (LatencyStats, Int, Int, Int).self) { group in
            for connection in 0..<plan.concurrency {
                group.addTask {
                    var stats = LatencyStats()
                    var succeeded = 0
                    var failed = 0
                    var items = 0
                    var sent = 0
                    let offset = perConnectionInterval.map { $0 * Double(connection) / Double(plan.concurrency) }
                    while clock.now < deadline {
                        if let interval = perConnectionInterval, let offset {
                            let due = started + .milliseconds(Int64(((Double(sent) * interval) + offset) * 1000))
                            if due >= deadline { break }
                            if due > clock.now { try? await Task.sleep(until: due, clock: clock) }
                        }
                        sent += 1
                        var request = HTTPClientRequest(url: plan.url)
                        request.method = plan.method
                        for (name, value) in plan.headers { request.headers.add(name: name, value: value) }
                        if let body = plan.body(counter.next()) { request.body = .bytes(ByteBuffer(bytes: body)) }
                        let requestStarted = clock.now
                        do {
                            let response = try await client.execute(request, timeout: .seconds(30))
                            let answer = try await response.body.collect(upTo: 1 << 24)
                            let elapsed = clock.now - requestStarted
                            if Int(response.status.code) == plan.expectedStatus {
                                succeeded += 1
                                items += plan.itemsAnswered(Array(buffer: answer))
                                stats.add(Self.milliseconds(elapsed))
                            } else {
                                failed += 1
                            }
                        } catch {
                            failed += 1
                        }
                    }
                    return (stats, succeeded, failed, items)
                }
            }
            var total = (LatencyStats(), 0, 0, 0)
            for await (stats, succeeded, failed, items) in group {
                total.0.merge(stats)
                total.1 += succeeded
                total.2 += failed
                total.3 += items
            }
            return total
        }
        let seconds = milliseconds(clock.now - started) / 1000
        return LoadResult(
            requests: outcomes.1 + outcomes.2, succeeded: outcomes.1, failed: outcomes.2, seconds: seconds,
            perSecond: Double(outcomes.1) / seconds, items: outcomes.3, itemsPerSecond: Double(outcomes.3) / seconds,
            latency: outcomes.0.summary)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

/// Hands out request numbers across connections.
final class RequestCounter: Sendable {
    private let value = Mutex<Int>(0)

    func next() -> Int {
        value.withLock { current in
            current += 1
            return current
        }
    }
}

extension LoadPlan {
    /// Counts the events a batch ingest answer stored: one `event_id` per stored event (refused ones carry a
    /// problem instead).
    public static func storedEvents(inBatchAnswer body: [UInt8]) -> Int {
        let marker = Array(#""event_id""#.utf8)
        guard body.count >= marker.count else { return 0 }
        var count = 0
        var index = 0
        while index <= body.count - marker.count {
            if body[index] == marker[0] && body[index..<(index + marker.count)].elementsEqual(marker) {
                count += 1
                index += marker.count
            } else {
                index += 1
            }
        }
        return count
    }
}
