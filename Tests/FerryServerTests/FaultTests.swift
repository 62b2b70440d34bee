import AsyncHTTPClient
import FerryCore
import FerryTestSupport
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// Faults on the real binary: repeated `kill -9` under sustained ingest, and logs that never carry a secret.
@Suite(.serialized) struct FaultTests {
    static let masterKey = ProcessTests.masterKey
    static let healthKey = "health-key-5e0b1c"
    static let metricsToken = "metrics-token-93d7aa"

    /// Kills `ferry serve` with SIGKILL again and again while clients keep ingesting; after the last restart every
    /// event that got a 201 must be delivered, and duplicates stay within what was in flight at the kills.
    /// `FERRY_CRASH_COUNT` sets the number of kills (default 5; the issue's full run uses 20).
    @Test(arguments: StoreBackend.available)
    func everyAcknowledgedEventSurvivesRepeatedKill9(backend: StoreBackend) async throws {
        let crashes = Int(ProcessInfo.processInfo.environment["FERRY_CRASH_COUNT"] ?? "") ?? 5
        let concurrency = 16
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let databaseURL = try await backend.freshDatabaseURL(in: directory)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let environment = [
            "FERRY_MASTER_API_KEY": Self.masterKey, "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8",
            "FERRY_LEASE": "2s", "FERRY_DELIVERY_TIMEOUT": "1s", "FERRY_RETRY_SCHEDULE": "200ms",
            "FERRY_WORKER_CONCURRENCY": String(concurrency),
        ]
        try await TestReceiver.with { receiver in
            var application: String?
            var accepted = Set<String>()
            let started = ContinuousClock.now
            var settled = Duration.zero
            for round in 0...crashes {
                let ferry = FerryProcess(
                    command: "serve", databaseURL: databaseURL, outputFile: directory.path + "/serve\(round).log",
                    extraEnvironment: environment)
                try await ferry.start(client: client)
                if application == nil {
                    application = try await ProcessTests.setUp(ferry, client: client, receiverURL: receiver.url())
                }
                guard let application else { break }
                if round == crashes {
                    let lastStart = ContinuousClock.now
                    defer { settled = ContinuousClock.now - lastStart }
                    let deadline = ContinuousClock.now + .seconds(60)
                    while ContinuousClock.now < deadline {
                        if accepted.isSubset(of: Set(receiver.requests.compactMap { $0.headers["x-event-id"] })) {
                            break
                        }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    #expect(await ferry.terminate() == 0)
                    break
                }
                let window = Duration.milliseconds(Int.random(in: 400...900))
                accepted.formUnion(
                    try await Self.ingestUntilKilled(
                        ferry, client: client, application: application, clients: 8, killAfter: window))
            }
            let delivered = receiver.requests.compactMap { $0.headers["x-event-id"] }
            let distinct = Set(delivered)
            let lost = accepted.subtracting(distinct)
            let duplicates = delivered.count - distinct.count
            print(
                "kill -9 ×\(crashes) on \(backend): acknowledged \(accepted.count), delivered \(distinct.count), "
                    + "lost \(lost.count), duplicates \(duplicates) (bound \(crashes * concurrency)), "
                    + "time \(ContinuousClock.now - started), delivering the rest after the last restart took \(settled)"
            )
            #expect(accepted.count > crashes * 10, "too little ingest to prove anything")
            #expect(lost.isEmpty)
            #expect(duplicates <= crashes * concurrency)
        }
        try await client.shutdown()
    }

    /// Runs `clients` concurrent ingest loops against `ferry`, kills it with SIGKILL after `killAfter`, and
    /// returns the ids of the events that were acknowledged with 201 before the kill.
    static func ingestUntilKilled(
        _ ferry: FerryProcess, client: HTTPClient, application: String, clients: Int, killAfter: Duration
    ) async throws -> Set<String> {
        let state = IngestState()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    while !state.killed.load(ordering: .relaxed) {
                        let answer = try? await ferry.request(
                            client, .POST, "/api/v1/event", token: Self.masterKey,
                            body: [
                                "application_id": .string(application), "event_type": "billing.invoice.paid",
                                "payload": #"{"n":1}"#, "payload_content_type": "application/json",
                                "labels": ["tenant": "t1"], "occurred_at": "2026-01-01T00:00:00Z",
                            ])
                        if let answer, answer.status == 201, let id = answer.json.string("event_id") {
                            state.acknowledged.withLock { _ = $0.insert(id) }
                        }
                    }
                }
            }
            try? await Task.sleep(for: killAfter)
            await ferry.killHard()
            state.killed.store(true, ordering: .relaxed)
            // Requests still waiting for the dead server would otherwise sit out the client's timeout.
            group.cancelAll()
        }
        return state.acknowledged.withLock { $0 }
    }

    /// A full flow with trace logging: no credential or signing secret may appear in anything the process printed.
    @Test(arguments: StoreBackend.available)
    func logsNeverContainSecrets(backend: StoreBackend) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let databaseURL = try await backend.freshDatabaseURL(in: directory)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await TestReceiver.with { receiver in
            let ferry = FerryProcess(
                command: "serve", databaseURL: databaseURL, outputFile: directory.path + "/trace.log",
                extraEnvironment: [
                    "FERRY_MASTER_API_KEY": Self.masterKey, "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8",
                    "FERRY_LOG_LEVEL": "trace", "FERRY_HEALTH_CHECK_KEY": Self.healthKey,
                    "FERRY_METRICS_TOKEN": Self.metricsToken,
                ])
            try await ferry.start(client: client)
            let application = try await ProcessTests.setUp(ferry, client: client, receiverURL: receiver.url())
            let organization = try #require(
                try await ferry.request(client, .GET, "/api/v1/applications/\(application)", token: Self.masterKey)
                    .json.string("organization_id"))
            let token = try await ferry.request(
                client, .POST, "/api/v1/service_token", token: Self.masterKey,
                body: ["organization_id": .string(organization), "name": "logs"])
            let serviceToken = try #require(token.json.string("biscuit"))
            let secret = try await ferry.request(
                client, .POST, "/api/v1/application_secrets", token: serviceToken,
                body: ["application_id": .string(application), "name": "logs"])
            let applicationSecret = try #require(secret.json.string("token"))
            let subscriptions = try await ferry.request(
                client, .GET, "/api/v1/subscriptions?application_id=\(application)", token: serviceToken)
            guard case .array(let items) = subscriptions.json, case .object(let subscription)? = items.first,
                case .string(let signingSecret)? = subscription["secret"],
                case .string(let standardSecret)? = subscription["standard_webhooks_secret"]
            else {
                Issue.record("no subscription secrets in \(subscriptions.json)")
                return
            }
            let ingested = try await ferry.request(
                client, .POST, "/api/v1/event", token: applicationSecret,
                body: [
                    "application_id": .string(application), "event_type": "billing.invoice.paid",
                    "payload": #"{"n":1}"#, "payload_content_type": "application/json", "labels": ["tenant": "t1"],
                    "occurred_at": "2026-01-01T00:00:00Z",
                ])
            #expect(ingested.status == 201)
            _ = await receiver.waitForRequests(1)
            _ = try await ferry.request(
                client, .GET, "/api/v1/request_attempts?application_id=\(application)", token: applicationSecret)
            _ = try await ferry.request(client, .GET, "/api/v1/organizations", token: "not-a-valid-token")
            // Every route with a credential in its path, query or headers, and a method no route takes on one.
            let renamed = try await ferry.request(
                client, .PUT, "/api/v1/application_secrets/\(applicationSecret)", token: serviceToken,
                body: ["application_id": .string(application), "name": "renamed"])
            #expect(renamed.status == 200)
            #expect(
                try await ferry.request(client, .GET, "/api/v1/health?key=\(Self.healthKey)").status == 200)
            #expect(
                try await ferry.rawRequest(
                    client, "/metrics", headers: [("Authorization", "Bearer \(Self.metricsToken)")]
                )
                .status == 200)
            #expect(
                try await ferry.request(
                    client, .PATCH, "/api/v1/application_secrets/\(applicationSecret)", token: serviceToken
                ).status == 405)
            let deleted = try await ferry.request(
                client, .DELETE,
                "/api/v1/application_secrets/\(applicationSecret)?application_id=\(application)", token: serviceToken)
            #expect(deleted.status == 204)
            #expect(await ferry.terminate() == 0)
            let output = ferry.readOutput()
            #expect(output.contains("trace"), "trace logging produced no output")
            let standardKey = String(standardSecret.dropFirst("whsec_".count))
            for (name, value) in [
                ("master key", Self.masterKey), ("service token", serviceToken),
                ("application secret", applicationSecret), ("subscription secret", signingSecret),
                ("standard webhooks secret", standardKey), ("health check key", Self.healthKey),
                ("metrics token", Self.metricsToken),
            ] {
                #expect(!output.contains(value), "\(name) appears in the log")
            }
        }
        try await client.shutdown()
    }
}

/// What concurrent ingest loops share: the acknowledged ids and whether the server was killed.
private final class IngestState: Sendable {
    let acknowledged = Mutex<Set<String>>([])
    let killed = Atomic<Bool>(false)
}
