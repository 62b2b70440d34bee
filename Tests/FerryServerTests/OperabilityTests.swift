import AsyncHTTPClient
import FerryCore
import FerryObservability
import FerryServer
import FerryTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// What an operator sees of a running `ferry`: Prometheus metrics after a delivery flow, the probes, the health
/// key, request ids in JSON logs, and the metrics and probes of a worker-only process.
@Suite(.serialized) struct OperabilityTests {
    static let metricsToken = "scrape-4f1c9a"
    static let healthKey = "health-77ab"

    @Test func metricsAfterADeliveryFlowCountIngestsOutcomesAndTheQueue() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await TestReceiver.with(reply: { _, number in .init(status: number == 3 ? 500 : 200) }) { receiver in
            let ferry = FerryProcess(
                databasePath: directory.path + "/ferry.sqlite",
                extraEnvironment: [
                    "FERRY_MASTER_API_KEY": ProcessTests.masterKey, "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8",
                    "FERRY_RETRY_SCHEDULE": "1h", "FERRY_METRICS_TOKEN": Self.metricsToken,
                    "FERRY_METRICS_TENANT_SERIES": "10",
                    "FERRY_LOG_FORMAT": "json", "FERRY_LOG_LEVEL": "info",
                ])
            try await ferry.start(client: client)
            let application = try await ProcessTests.setUp(ferry, client: client, receiverURL: receiver.url())
            for _ in 0..<3 {
                let answer = try await ferry.request(
                    client, .POST, "/api/v1/event", token: ProcessTests.masterKey,
                    body: [
                        "application_id": .string(application), "event_type": "billing.invoice.paid",
                        "payload": "hi", "payload_content_type": "text/plain", "labels": ["tenant": "t1"],
                        "occurred_at": "2026-01-01T00:00:00Z",
                    ])
                #expect(answer.status == 201)
            }
            #expect(await receiver.waitForRequests(3).count == 3)

            let bearer = [("Authorization", "Bearer \(Self.metricsToken)")]
            var samples: [String: Double] = [:]
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                let scrape = try await ferry.rawRequest(client, "/metrics", headers: bearer)
                #expect(scrape.status == 200)
                #expect(scrape.headers.first(name: "content-type")?.hasPrefix("text/plain") == true)
                samples = PrometheusText.samples(scrape.text)
                if samples["ferry_delivery_duration_seconds_count"] == 3
                    && samples[#"ferry_attempts{state="waiting"}"#] == 1
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let ingested =
                #"ferry_events_ingested_total{application_id="\#(application)",event_type="billing.invoice.paid"}"#
            #expect(samples[ingested] == 3)
            #expect(samples["ferry_ingest_duration_seconds_count"] == 3)
            #expect(samples[#"ferry_deliveries_total{outcome="success"}"#] == 2)
            #expect(samples[#"ferry_deliveries_total{outcome="http_error"}"#] == 1)
            #expect(samples["ferry_delivery_duration_seconds_count"] == 3)
            #expect(samples["ferry_retries_scheduled_total"] == 1)
            #expect(samples["ferry_deliveries_in_flight"] == 0)
            #expect(samples[#"ferry_attempts{state="waiting"}"#] == 1)
            #expect(samples[#"ferry_attempts{state="due"}"#] == 0)
            #expect(samples[#"ferry_attempts{state="leased"}"#] == 0)
            #expect(samples["ferry_oldest_due_attempt_age_seconds"] == 0)
            #expect(samples[#"ferry_subscriptions{state="enabled"}"#] == 1)
            #expect(samples[#"ferry_subscriptions{state="disabled"}"#] == 0)
            #expect(samples[#"ferry_subscriptions{state="circuit_open"}"#] == 0)
            #expect(samples[#"ferry_database_connections{state="capacity"}"#] == 6)
            #expect(samples.keys.allSatisfy { !$0.contains("event_id") && !$0.contains("attempt_id") })

            #expect(try await ferry.rawRequest(client, "/metrics").status == 401)
            #expect(
                try await ferry.rawRequest(client, "/metrics", headers: [("Authorization", "Bearer no")]).status == 403)

            let traced = try await ferry.rawRequest(
                client, "/api/v1/organizations",
                headers: [("Authorization", "Bearer \(ProcessTests.masterKey)"), ("X-Request-Id", "trace-me-42")])
            #expect(traced.status == 200)
            #expect(traced.headers.first(name: "x-request-id") == "trace-me-42")
            let generated = try await ferry.rawRequest(client, "/health/live")
            #expect(generated.status == 200 && generated.text.contains(#""status":"ok""#))
            let generatedID = try #require(generated.headers.first(name: "x-request-id"))
            #expect(try await ferry.rawRequest(client, "/health/ready").status == 200)
            #expect(await ferry.terminate() == 0)

            let lines = ferry.readOutput().split(separator: "\n").compactMap { line in
                try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
            }
            let requestLines = lines.filter { $0.string("message") == "request" }
            #expect(requestLines.contains { $0.string("request_id") == "trace-me-42" && $0.string("status") == "200" })
            #expect(requestLines.contains { $0.string("request_id") == generatedID })
            #expect(lines.contains { $0.string("message") == "delivery attempt" && $0.string("status") == "500" })
            #expect(lines.allSatisfy { $0.string("level") != nil && $0.string("timestamp") != nil })
            let output = ferry.readOutput()
            #expect(!output.contains(ProcessTests.masterKey) && !output.contains(Self.metricsToken))
        }
        try await client.shutdown()
    }

    @Test func healthCheckKeyGuardsTheHook0HealthRoute() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(
            databasePath: directory.path + "/ferry.sqlite", extraEnvironment: ["FERRY_HEALTH_CHECK_KEY": Self.healthKey]
        )
        try await ferry.start(client: client)
        let missing = try await ferry.request(client, .GET, "/api/v1/health")
        #expect(missing.status == 403 && missing.json.string("id") == "Forbidden")
        #expect(try await ferry.request(client, .GET, "/api/v1/health?key=wrong").status == 403)
        let healthy = try await ferry.request(client, .GET, "/api/v1/health?key=\(Self.healthKey)")
        #expect(healthy.status == 200 && healthy.json.string("database") == "ok")
        #expect(await ferry.terminate() == 0)
        try await client.shutdown()
    }

    @Test func aFreshServeShowsNoMetricsOnTheAPIPortButOnItsMetricsListener() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let plain = FerryProcess(databasePath: directory.path + "/plain.sqlite")
        try await plain.start(client: client)
        let unauthenticated = try await plain.rawRequest(client, "/metrics")
        #expect(unauthenticated.status == 404)
        #expect(!unauthenticated.text.contains("ferry_"))
        #expect(try await plain.rawRequest(client, "/health/ready").status == 200)
        #expect(await plain.terminate() == 0)

        let port = FerryProcess.freePort()
        let separate = FerryProcess(
            databasePath: directory.path + "/separate.sqlite",
            extraEnvironment: ["FERRY_METRICS_LISTEN": "127.0.0.1:\(port)"])
        try await separate.start(client: client)
        #expect(try await separate.rawRequest(client, "/metrics").status == 404)
        let scrape = try await client.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(5))
        let text = String(buffer: try await scrape.body.collect(upTo: 1 << 20))
        #expect(scrape.status.code == 200)
        #expect(PrometheusText.samples(text)["ferry_deliveries_in_flight"] == 0)
        #expect(await separate.terminate() == 0)
        try await client.shutdown()
    }

    /// Ten thousand event types make at most the configured number of tenant series, plus the one `other` series.
    @Test func tenantLabelsStayBoundedWhateverTheNumberOfEventTypes() throws {
        let application = UUID()
        for limit in [0, 50] {
            let telemetry = ProcessTelemetry(tenantSeriesLimit: limit)
            for index in 0..<10_000 {
                telemetry.metrics.eventIngested(
                    applicationID: application, eventType: "svc.type\(index).made", duration: .milliseconds(1))
            }
            let series = PrometheusText.samples(String(decoding: telemetry.exposition(), as: UTF8.self))
                .filter { $0.key.hasPrefix("ferry_events_ingested_total") }
            #expect(series.count == limit + 1)
            #expect(
                series[#"ferry_events_ingested_total{application_id="other",event_type="other"}"#]
                    == Double(10_000 - limit))
            #expect(series.values.reduce(0, +) == 10_000)
        }
    }

    @Test func metricsListenServesMetricsAndProbesOfAWorkerButNoAPI() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let port = FerryProcess.freePort()
        let worker = FerryProcess(
            command: "worker", databaseURL: "sqlite:\(directory.path)/ferry.sqlite",
            outputFile: directory.path + "/worker.log", extraEnvironment: ["FERRY_METRICS_LISTEN": "127.0.0.1:\(port)"])
        try await worker.start(client: client)
        let base = "http://127.0.0.1:\(port)"
        var ready = 0
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            ready = Int(
                (try? await client.execute(HTTPClientRequest(url: base + "/health/ready"), timeout: .seconds(5)))?
                    .status.code ?? 0)
            if ready == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(ready == 200)
        let scrape = try await client.execute(HTTPClientRequest(url: base + "/metrics"), timeout: .seconds(5))
        let samples = PrometheusText.samples(String(buffer: try await scrape.body.collect(upTo: 1 << 20)))
        #expect(scrape.status.code == 200)
        #expect(samples[#"ferry_attempts{state="due"}"#] == 0)
        #expect(samples["ferry_deliveries_in_flight"] == 0)
        let api = try await client.execute(HTTPClientRequest(url: base + "/api/v1/organizations"), timeout: .seconds(5))
        #expect(api.status.code == 404)
        #expect(await worker.terminate() == 0)
        try await client.shutdown()
    }
}

/// Reads the Prometheus text format into `name{labels}` → value, labels sorted by name.
enum PrometheusText {
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            let series = line[..<space]
            guard let open = series.firstIndex(of: "{"), series.hasSuffix("}") else {
                samples[String(series)] = value
                continue
            }
            let labels = series[series.index(after: open)..<series.index(before: series.endIndex)]
                .split(separator: ",").map(String.init).sorted()
            samples["\(series[..<open]){\(labels.joined(separator: ","))}"] = value
        }
        return samples
    }
}
