/// Latency samples in milliseconds and the summary a benchmark reports (nearest-rank percentiles).
public struct LatencyStats: Sendable {
    public private(set) var samples: [Double] = []

    public init() {}

    public var count: Int { samples.count }

    public mutating func add(_ milliseconds: Double) {
        samples.append(milliseconds)
    }

    public mutating func merge(_ other: LatencyStats) {
        samples.append(contentsOf: other.samples)
    }

    /// Count, nearest-rank p50/p90/p99 and max of the samples (zeros without samples).
    public var summary: LatencySummary {
        let sorted = samples.sorted()
        func at(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(max(rank, 0), sorted.count - 1)]
        }
        return LatencySummary(
            count: sorted.count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.last ?? 0)
    }
}

/// Percentiles of a latency distribution, in milliseconds.
public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double
}
