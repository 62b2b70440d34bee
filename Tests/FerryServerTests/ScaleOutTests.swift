import AsyncHTTPClient
import FerryCore
import FerryTestSupport
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// Many `ferry api` and `ferry worker` processes on one PostgreSQL database: exactly-once delivery without
/// crashes, takeover of a killed worker's leases, and surviving a database restart.
@Suite(.serialized, .enabled(if: StoreBackend.postgresURL != nil))
struct ScaleOutTests {
    static let masterKey = "5d2c4a1e-7b3f-4e8a-9c6d-1f2e3a4b5c6d"
    static let environment = [
        "FERRY_MASTER_API_KEY": masterKey, "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8",
        "FERRY_LOG_LEVEL": "warning", "FERRY_DATABASE_MAX_CONNECTIONS": "10",
    ]

    @Test func twoAPIsAndThreeWorkersDeliverEveryPairExactlyOnce() async throws {
        let eventCount = Int(ProcessInfo.processInfo.environment["FERRY_SCALE_EVENTS"] ?? "") ?? 5000
        let subscriptionCount = 50
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let databaseURL = try await PostgresTestDatabases.shared.create().url
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await TestReceiver.with { receiver in
            let apis = (0..<2).map { index in
                FerryProcess(
                    command: "api", databaseURL: databaseURL, outputFile: directory.path + "/api\(index).log",
                    extraEnvironment: Self.environment)
            }
            let workers = (0..<3).map { index in
                FerryProcess(
                    command: "worker", databaseURL: databaseURL, outputFile: directory.path + "/worker\(index).log",
                    extraEnvironment: Self.environment)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for process in apis + workers { group.addTask { try await process.start(client: client) } }
                try await group.waitForAll()
            }
            let application = try await Self.setUpTenant(
                apis[0], client: client, receiver: receiver, subscriptions: subscriptionCount)
            let started = ContinuousClock.now
            let accepted = try await Self.ingest(
                count: eventCount, through: apis, client: client, application: application, shards: subscriptionCount)
            let ingested = ContinuousClock.now - started
            let requests = await receiver.waitForRequests(eventCount, timeout: .seconds(180))
            let delivered = ContinuousClock.now - started
            try await Task.sleep(for: .milliseconds(500))
            let all = receiver.requests
            let pairs = Set(all.map { "\($0.headers["x-event-id"] ?? "")|\($0.path)" })
            let expected = Set(accepted.map { "\($0.key)|/s\($0.value)" })
            print(
                "scale-out: events \(accepted.count), deliveries \(all.count), distinct pairs \(pairs.count), "
                    + "duplicates \(all.count - pairs.count), ingest \(ingested), all delivered after \(delivered)")
            #expect(accepted.count == eventCount)
            #expect(requests.count >= eventCount)
            #expect(pairs == expected)
            #expect(all.count == pairs.count)
            var successful = 0
            let recordDeadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < recordDeadline {
                successful = try await Self.countSuccessfulAttempts(apis[1], client: client, application: application)
                if successful == eventCount { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(successful == eventCount)
            for process in apis + workers { #expect(await process.terminate() == 0) }
        }
        try await client.shutdown()
    }

    @Test func killedWorkersLeasesAreTakenOverByAnotherWorker() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let databaseURL = try await PostgresTestDatabases.shared.create().url
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let environment = Self.environment.merging(["FERRY_LEASE": "3s", "FERRY_DELIVERY_TIMEOUT": "2500ms"]) {
            _, new in new
        }
        try await TestReceiver.with(reply: { _, number in .init(status: 200, delay: number <= 20 ? .seconds(2) : .zero)
        }) {
            receiver in
            let api = FerryProcess(
                command: "api", databaseURL: databaseURL, outputFile: directory.path + "/api.log",
                extraEnvironment: environment)
            try await api.start(client: client)
            let doomed = FerryProcess(
                command: "worker", databaseURL: databaseURL, outputFile: directory.path + "/doomed.log",
                extraEnvironment: environment)
            try await doomed.start(client: client)
            let application = try await Self.setUpTenant(api, client: client, receiver: receiver, subscriptions: 1)
            let accepted = try await Self.ingest(
                count: 20, through: [api], client: client, application: application, shards: 1)
            // The fair scheduler starts a subscription at 4 in flight and doubles that per round of 2xx answers
            // (4, 8, 8): the 20th request arrives about 4 s in, with the last round still unanswered.
            #expect(await receiver.waitForRequests(20, timeout: .seconds(10)).count == 20)
            await doomed.killHard()
            let answeredBeforeKill = receiver.requests.count
            let survivor = FerryProcess(
                command: "worker", databaseURL: databaseURL, outputFile: directory.path + "/survivor.log",
                extraEnvironment: environment)
            try await survivor.start(client: client)
            // Every event ends delivered: those the doomed worker had answered and recorded, and those it held
            // under a lease when it died, which the survivor sends again once the leases run out.
            var successful = 0
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                successful = try await Self.countSuccessfulAttempts(api, client: client, application: application)
                if successful == 20 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let redelivered = Set(
                receiver.requests.dropFirst(answeredBeforeKill).compactMap { $0.headers["x-event-id"] })
            print(
                "worker kill -9: requests before the kill \(answeredBeforeKill), taken over \(redelivered.count), "
                    + "delivered \(successful) of \(accepted.count)")
            #expect(successful == 20, "no acknowledged event is lost")
            #expect(!redelivered.isEmpty, "the leases held at the kill were taken over")
            #expect(redelivered.isSubset(of: Set(accepted.keys)))
            #expect(Set(receiver.requests.compactMap { $0.headers["x-event-id"] }) == Set(accepted.keys))
            #expect(await survivor.terminate() == 0)
            #expect(await api.terminate() == 0)
        }
        try await client.shutdown()
    }

    @Test func databaseRestartGives503AndLosesNothingAcknowledged() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (cluster, adminURL) = try await PostgresCluster.start(port: FerryProcess.freePort())
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let environment = Self.environment.merging(["FERRY_RETRY_SCHEDULE": "500ms"]) { _, new in new }
        // The client and the cluster are shut down even when the test fails part-way (a dead server, say): an
        // HTTPClient dropped unclosed stops the whole test process.
        do {
            try await restartScenario(
                client: client, cluster: cluster, databaseURL: adminURL, directory: directory, environment: environment)
        } catch {
            await cluster.stop()
            try? await client.shutdown()
            throw error
        }
        await cluster.stop()
        try await client.shutdown()
    }

    private func restartScenario(
        client: HTTPClient, cluster: PostgresCluster, databaseURL adminURL: String, directory: TemporaryDirectory,
        environment: [String: String]
    ) async throws {
        try await TestReceiver.with { receiver in
            let ferry = FerryProcess(
                command: "serve", databaseURL: adminURL, outputFile: directory.path + "/serve.log",
                extraEnvironment: environment)
            try await ferry.start(client: client)
            let application = try await Self.setUpTenant(ferry, client: client, receiver: receiver, subscriptions: 1)
            let outcomes = Mutex<(accepted: Set<String>, unavailable: Int, retryAfter: Int, other: [Int])>(
                ([], 0, 0, []))
            let loop = Task {
                let stop = ContinuousClock.now + .seconds(12)
                while ContinuousClock.now < stop {
                    let answer = try? await ferry.request(
                        client, .POST, "/api/v1/event", token: Self.masterKey,
                        body: Self.eventBody(application: application, shard: 0))
                    outcomes.withLock { outcome in
                        switch answer?.status {
                        case 201: if let id = answer?.json.string("event_id") { outcome.accepted.insert(id) }
                        case 503:
                            outcome.unavailable += 1
                            if answer?.retryAfter == "5" { outcome.retryAfter += 1 }
                        case let status: outcome.other.append(status ?? -1)
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            try await Task.sleep(for: .seconds(2))
            try await cluster.pause()
            try await Task.sleep(for: .seconds(6))
            try await cluster.resume()
            _ = await loop.result
            let result = outcomes.withLock { $0 }
            let deadline = ContinuousClock.now + .seconds(60)
            var delivered = Set<String>()
            while ContinuousClock.now < deadline {
                delivered = Set(receiver.requests.compactMap { $0.headers["x-event-id"] })
                if result.accepted.isSubset(of: delivered) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            print(
                "database restart: accepted \(result.accepted.count), 503s \(result.unavailable) "
                    + "(with Retry-After \(result.retryAfter)), other \(result.other), "
                    + "lost \(result.accepted.subtracting(delivered).count)")
            #expect(result.unavailable > 0 && result.retryAfter == result.unavailable)
            #expect(result.other.isEmpty, "server log:\n\(ferry.readOutput().suffix(6000))")
            #expect(result.accepted.isSubset(of: delivered))
            let after = try await ferry.request(
                client, .POST, "/api/v1/event", token: Self.masterKey,
                body: Self.eventBody(application: application, shard: 0))
            #expect(after.status == 201)
            #expect(await ferry.terminate() == 0)
        }
    }

    /// Organization, application, event type and `subscriptions` subscriptions labelled `shard=s<i>` → `/s<i>`.
    static func setUpTenant(_ ferry: FerryProcess, client: HTTPClient, receiver: TestReceiver, subscriptions: Int)
        async throws -> String
    {
        let organization = try await ferry.request(
            client, .POST, "/api/v1/organizations", token: masterKey, body: ["name": "scale"])
        let organizationID = try #require(organization.json.string("organization_id"))
        let application = try await ferry.request(
            client, .POST, "/api/v1/applications", token: masterKey,
            body: ["organization_id": .string(organizationID), "name": "scale app"])
        let applicationID = try #require(application.json.string("application_id"))
        _ = try await ferry.request(
            client, .POST, "/api/v1/event_types", token: masterKey,
            body: [
                "application_id": .string(applicationID), "service": "billing", "resource_type": "invoice",
                "verb": "paid",
            ])
        for shard in 0..<subscriptions {
            let created = try await ferry.request(
                client, .POST, "/api/v1/subscriptions", token: masterKey,
                body: [
                    "application_id": .string(applicationID), "is_enabled": true,
                    "event_types": ["billing.invoice.paid"],
                    "labels": ["shard": .string("s\(shard)")],
                    "target": [
                        "type": "http", "method": "POST", "url": .string(receiver.url("/s\(shard)")), "headers": [:],
                    ],
                ])
            #expect(created.status == 201)
        }
        return applicationID
    }

    static func eventBody(application: String, shard: Int) -> JSONValue {
        [
            "application_id": .string(application), "event_type": "billing.invoice.paid", "payload": #"{"n":1}"#,
            "payload_content_type": "application/json", "labels": ["shard": .string("s\(shard)")],
            "occurred_at": "2026-01-01T00:00:00Z",
        ]
    }

    /// Sends `count` events round-robin through `apis` with 32 in flight; returns event id → shard for each 201.
    static func ingest(count: Int, through apis: [FerryProcess], client: HTTPClient, application: String, shards: Int)
        async throws -> [String: Int]
    {
        try await withThrowingTaskGroup(of: (String, Int)?.self) { group in
            var accepted: [String: Int] = [:]
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask {
                    let shard = index % shards
                    let answer = try await apis[index % apis.count].request(
                        client, .POST, "/api/v1/event", token: masterKey,
                        body: eventBody(application: application, shard: shard))
                    return answer.status == 201 ? answer.json.string("event_id").map { ($0, shard) } : nil
                }
            }
            while next < min(32, count) { add() }
            while let result = try await group.next() {
                if let (id, shard) = result { accepted[id] = shard }
                if next < count { add() }
            }
            return accepted
        }
    }

    /// Pages through every attempt of the application and counts the successful ones.
    static func countSuccessfulAttempts(_ ferry: FerryProcess, client: HTTPClient, application: String) async throws
        -> Int
    {
        var successful = 0
        var path = "/api/v1/request_attempts?application_id=\(application)"
        var cursor: String?
        repeat {
            let page = try await ferry.request(
                client, .GET, path + (cursor.map { "&pagination_cursor=\($0)" } ?? ""), token: masterKey)
            guard case .array(let items) = page.json, let last = items.last else { break }
            for case .object(let item) in items {
                if case .object(let status)? = item["status"], status["type"] == "successful" { successful += 1 }
            }
            guard case .object(let lastItem) = last, case .string(let created)? = lastItem["created_at"],
                case .string(let id)? = lastItem["request_attempt_id"]
            else { break }
            let json = JSONValue.object(["date": .string(created), "id": .string(id)])
            cursor = Data(json.encoded()).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics)
            path = "/api/v1/request_attempts?application_id=\(application)"
        } while true
        return successful
    }
}
