import FerryObservability
import Foundation
import Logging
import Metrics
import Prometheus

/// A process's metrics registry and log output: Prometheus for metrics (served at `/metrics`), and text or JSON
/// lines on standard error for logs.
public struct ProcessTelemetry: Sendable {
    /// Holds every metric of the process, for the exposition.
    public let registry: PrometheusCollectorRegistry
    /// Ferry's metrics, recorded into `registry`.
    public let metrics: FerryMetrics

    /// A fresh registry with latency buckets from 0.5 ms to 10 s; `tenantSeriesLimit` application/event-type pairs
    /// get series of their own.
    public init(tenantSeriesLimit: Int = 0) {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        metrics = FerryMetrics(factory: factory, tenantSeriesLimit: tenantSeriesLimit)
    }

    /// Every metric in the Prometheus text format.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// Sends the process's logs as `format` says (once per process, before the first logger is made).
    public static func bootstrapLogging(format: LogFormat) {
        switch format {
        case .text: LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        case .json: LoggingSystem.bootstrap { label in JSONLogHandler.standardError(label: label) }
        }
    }
}

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's human-readable lines.
    case text
    /// One JSON object per line.
    case json
}
