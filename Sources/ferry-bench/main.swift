import ArgumentParser
import AsyncHTTPClient
import FerryBench
import FerryCore
import FerryPostgres
import FerrySQLite
import FerryStorage
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// `ferry-bench`: the load generator, receiver and backlog seeder that `scripts/bench` drives.
@main
struct FerryBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry-bench", abstract: "Benchmark tools for Ferry (driven by scripts/bench).",
        subcommands: [Load.self, Receiver.self, Seed.self, AuthorizerCommand.self, SchemaCommand.self])
}

/// Sends requests at a fixed concurrency (or rate) and prints a JSON `LoadResult`.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drive load at one URL and print the result as JSON.")

    @Option(help: "The URL to request.") var url: String
    @Option(help: "GET (trivial requests) or POST (events).") var method = "GET"
    @Option(help: "Bearer token.") var token: String?
    @Option(help: "With POST: send events of this application, stamped with their send time.") var application: String?
    @Option(help: "Concurrent requests.") var concurrency = 64
    @Option(help: "Seconds to run.") var seconds = 8.0
    @Option(help: "Total requests per second (paced); unset sends back to back.") var rate: Double?
    @Option(help: "Status counted as success.") var expect = 200
    @Option(help: "With POST and --application: send this many events per request, to the batch route's URL.")
    var batch: Int?

    func run() async throws {
        var headers: [(String, String)] = []
        if let token { headers.append(("authorization", "Bearer \(token)")) }
        var body: @Sendable (Int) -> [UInt8]? = { _ in nil }
        if let application {
            headers.append(("content-type", "application/json"))
            let batch = batch
            body = { _ in
                let payload = #"{\"sent_ns\":\#(WallClock.nanoseconds())}"#
                let event =
                    #"{"application_id":"\#(application)","event_type":"billing.invoice.paid","payload":""#
                    + payload
                    + #"","payload_content_type":"application/json","labels":{"env":"bench"},"occurred_at":"2026-01-01T00:00:00Z"}"#
                guard let batch else { return Array(event.utf8) }
                return Array(
                    (#"{"events":["# + Array(repeating: event, count: batch).joined(separator: ",") + "]}").utf8)
            }
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var itemsAnswered: @Sendable ([UInt8]) -> Int = { _ in 1 }
        if batch != nil { itemsAnswered = { LoadPlan.storedEvents(inBatchAnswer: $0) } }
        let plan = LoadPlan(
            url: url, method: HTTPMethod(rawValue: method), headers: headers, body: body, concurrency: concurrency,
            duration: .milliseconds(Int64(seconds * 1000)), ratePerSecond: rate, expectedStatus: expect,
            itemsAnswered: itemsAnswered)
        let result = await LoadGenerator.run(plan, client: client)
        try await client.shutdown()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}

/// Prints a measurement as one line of JSON, keys sorted (what scripts/bench.py reads).
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Measures Hook0's per-request authorizer on its own and prints a JSON `AuthorizerCost`.
struct AuthorizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authorizer", abstract: "Time the per-request Datalog authorizer and print the cost as JSON.")

    @Option(help: "Measured rounds (the median is printed).") var rounds = 5
    @Option(help: "Authorizations per round.") var authorizations = 2_000

    func run() throws {
        try printJSON(try AuthorizerBench.measure(rounds: rounds, authorizations: authorizations))
    }
}

/// Measures the payload schema check of ingest on its own and prints a JSON `SchemaCost`.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema", abstract: "Time the JSON Schema check of an event's payload and print the cost as JSON.")

    @Option(help: "Measured rounds (the median is printed).") var rounds = 5
    @Option(help: "Checks per round.") var checks = 20_000

    func run() throws {
        try printJSON(try SchemaBench.measure(rounds: rounds, checks: checks))
    }
}

/// Runs the benchmark receiver until interrupted.
struct Receiver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Receive deliveries on 127.0.0.1 and report latency.")

    @Option(help: "Port on 127.0.0.1.") var port = 9_400

    func run() async throws {
        try await BenchReceiver().run(port: port)
    }
}

/// Fills a database with pending deliveries, directly through the storage layer.
struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ingest many events directly into a database.")

    @Option(help: "sqlite:PATH or postgres://…") var databaseURL: String
    @Option(help: "Application id.") var application: String
    @Option(help: "Events to ingest.") var count: Int

    func run() async throws {
        guard let applicationID = UUID(uuidString: application) else {
            throw ValidationError("--application must be a UUID")
        }
        let store: any FerryStore
        if databaseURL.hasPrefix("sqlite:") {
            store = try await SQLiteStore.open(path: String(databaseURL.dropFirst("sqlite:".count)))
        } else {
            var logger = Logger(label: "ferry-bench-seed")
            logger.logLevel = .error
            store = try await PostgresStore.open(url: databaseURL, maximumConnections: 8, logger: logger)
        }
        let took = try await BacklogSeeder.seed(
            store: store, applicationID: applicationID, eventType: "billing.invoice.paid", labels: ["env": "bench"],
            count: count)
        try await store.close()
        print(
            #"{"events":\#(count),"seconds":\#(Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)}"#
        )
    }
}
