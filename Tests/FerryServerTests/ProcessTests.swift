import AsyncHTTPClient
import FerryCore
import FerryTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The real binary: first-start bootstrap, durability across `kill -9`, and clean exit on SIGTERM.
@Suite(.serialized) struct ProcessTests {
    static let masterKey = "0b5c7b2e-58a4-4a8e-9a55-2f7f6c3e9d10"

    @Test func firstStartPrintsWorkingCredentialsOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(databasePath: directory.path + "/ferry.sqlite")
        try await ferry.start(client: client)
        let output = ferry.readOutput()
        let tokenLine = try #require(output.split(separator: "\n").first { $0.contains("service token:") })
        let token = try #require(tokenLine.split(separator: " ").last.map(String.init))
        let listed = try await ferry.request(client, .GET, "/api/v1/organizations", token: token)
        #expect(listed.status == 200)
        #expect(output.contains("curl"))
        // The tour's first two steps work with the printed credentials and the default configuration.
        let applicationLine = try #require(output.split(separator: "\n").first { $0.contains("application_id:") })
        let applicationID = try #require(applicationLine.split(separator: " ").last.map(String.init))
        #expect(UUID(uuidString: applicationID) != nil)
        let eventType = try await ferry.request(
            client, .POST, "/api/v1/event_types", token: token,
            body: [
                "application_id": .string(applicationID), "service": "billing", "resource_type": "invoice",
                "verb": "paid",
            ])
        #expect(eventType.status == 201)
        let subscription = try await ferry.request(
            client, .POST, "/api/v1/subscriptions", token: token,
            body: [
                "application_id": .string(applicationID), "is_enabled": true,
                "event_types": ["billing.invoice.paid"], "labels": ["env": "demo"],
                "target": ["type": "http", "method": "POST", "url": "https://example.com/hook", "headers": [:]],
            ])
        #expect(subscription.status == 201)
        #expect(output.contains("https://example.com/hook"))
        #expect(await ferry.terminate() == 0)
        let again = FerryProcess(databasePath: directory.path + "/ferry.sqlite")
        try await again.start(client: client)
        #expect(!again.readOutput().contains(token))
        #expect(!again.readOutput().contains("service token:"))
        #expect(await again.terminate() == 0)
        try await client.shutdown()
    }

    @Test func theBinaryServesTheDashboardUnlessItIsTurnedOff() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(databasePath: directory.path + "/on.sqlite")
        try await ferry.start(client: client)
        let login = try await ferry.rawRequest(client, "/login")
        #expect(login.status == 200 && login.text.contains("<h1>Sign in</h1>"))
        #expect(login.headers.first(name: "content-security-policy")?.contains("frame-ancestors 'none'") == true)
        let stylesheet = try #require(login.text.range(of: #"href="/assets/"#))
        let sheet = try await ferry.rawRequest(
            client, "/assets/" + login.text[stylesheet.upperBound...].prefix { $0 != "\"" })
        #expect(sheet.status == 200, "the stylesheet is served from the binary itself")
        #expect(ferry.readOutput().contains("in a browser and sign in"))
        #expect(await ferry.terminate() == 0)

        let off = FerryProcess(
            databasePath: directory.path + "/off.sqlite", extraEnvironment: ["FERRY_DASHBOARD": "false"])
        try await off.start(client: client)
        #expect(try await off.rawRequest(client, "/login").status == 404)
        #expect(try await off.request(client, .GET, "/api/v1/instance").status == 200)
        #expect(!off.readOutput().contains("in a browser"))
        #expect(await off.terminate() == 0)
        try await client.shutdown()
    }

    @Test func everyAcknowledgedEventIsDeliveredAfterKill9() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        // The receiver is slow at first, so deliveries are in flight when the server is killed.
        try await TestReceiver.with(reply: { _, number in
            .init(status: 200, delay: number <= 20 ? .milliseconds(800) : .zero)
        }) {
            receiver in
            let environment = [
                "FERRY_MASTER_API_KEY": Self.masterKey, "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8",
                "FERRY_LEASE": "3s", "FERRY_DELIVERY_TIMEOUT": "2s", "FERRY_RETRY_SCHEDULE": "200ms",
            ]
            let first = FerryProcess(databasePath: directory.path + "/ferry.sqlite", extraEnvironment: environment)
            try await first.start(client: client)
            let application = try await Self.setUp(first, client: client, receiverURL: receiver.url())
            let accepted = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        let answer = try await first.request(
                            client, .POST, "/api/v1/event", token: Self.masterKey,
                            body: [
                                "application_id": .string(application), "event_type": "billing.invoice.paid",
                                "payload": #"{"n":1}"#, "payload_content_type": "application/json",
                                "labels": ["tenant": "t1"], "occurred_at": "2026-01-01T00:00:00Z",
                            ])
                        return answer.status == 201 ? answer.json.string("event_id") : nil
                    }
                }
                return try await group.reduce(into: Set<String>()) { set, id in if let id { set.insert(id) } }
            }
            await first.killHard()
            #expect(accepted.count == 40)
            let second = FerryProcess(databasePath: directory.path + "/ferry.sqlite", extraEnvironment: environment)
            try await second.start(client: client)
            let deadline = ContinuousClock.now + .seconds(30)
            var delivered = Set<String>()
            while ContinuousClock.now < deadline {
                delivered = Set(receiver.requests.compactMap { $0.headers["x-event-id"] })
                if accepted.isSubset(of: delivered) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let lost = accepted.subtracting(delivered)
            let duplicates = receiver.requests.count - delivered.count
            print("kill -9 durability: accepted \(accepted.count), lost \(lost.count), duplicates \(duplicates)")
            #expect(lost.isEmpty)
            #expect(await second.terminate() == 0)
        }
        try await client.shutdown()
    }

    /// Creates an organization, application, event type and subscription through the API; returns the app id.
    static func setUp(_ ferry: FerryProcess, client: HTTPClient, receiverURL: String) async throws -> String {
        let organization = try await ferry.request(
            client, .POST, "/api/v1/organizations", token: Self.masterKey, body: ["name": "crash test"])
        let organizationID = try #require(organization.json.string("organization_id"))
        let application = try await ferry.request(
            client, .POST, "/api/v1/applications", token: Self.masterKey,
            body: ["organization_id": .string(organizationID), "name": "crash app"])
        let applicationID = try #require(application.json.string("application_id"))
        let type = try await ferry.request(
            client, .POST, "/api/v1/event_types", token: Self.masterKey,
            body: [
                "application_id": .string(applicationID), "service": "billing", "resource_type": "invoice",
                "verb": "paid",
            ])
        #expect(type.status == 201)
        let subscription = try await ferry.request(
            client, .POST, "/api/v1/subscriptions", token: Self.masterKey,
            body: [
                "application_id": .string(applicationID), "is_enabled": true, "event_types": ["billing.invoice.paid"],
                "labels": ["tenant": "t1"],
                "target": ["type": "http", "method": "POST", "url": .string(receiverURL), "headers": [:]],
            ])
        #expect(subscription.status == 201)
        return applicationID
    }
}

/// SIGTERM while work is in flight: deliveries and requests finish and are recorded, new connections are refused,
/// and the process exits 0.
@Suite(.serialized) struct GracefulShutdownTests {
    @Test func sigtermLetsAnInFlightIngestFinishAndRefusesNewConnections() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let environment = ["FERRY_MASTER_API_KEY": ProcessTests.masterKey]
        let databasePath = directory.path + "/ferry.sqlite"
        let ferry = FerryProcess(databasePath: databasePath, extraEnvironment: environment)
        try await ferry.start(client: client)
        let application = try await ProcessTests.setUp(ferry, client: client, receiverURL: "https://example.com/hook")
        let eventID = UUID().uuidString.lowercased()
        let body = Array(
            JSONValue.object([
                "event_id": .string(eventID), "application_id": .string(application),
                "event_type": "billing.invoice.paid", "payload": "hi", "payload_content_type": "text/plain",
                "labels": ["tenant": "t1"], "occurred_at": "2026-01-01T00:00:00Z",
            ]).encoded())
        // The request's head and half its body are sent before SIGTERM, the rest after it.
        let connection = try LoopbackConnection(port: ferry.port)
        try connection.send(
            "POST /api/v1/event HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(ProcessTests.masterKey)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
        try connection.send(bytes: Array(body.prefix(body.count / 2)))
        try await Task.sleep(for: .milliseconds(200))
        ferry.signalTerminate()
        try await Task.sleep(for: .milliseconds(500))
        #expect(ferry.isRunning, "the server exited with a request in flight")
        #expect((try? LoopbackConnection(port: ferry.port)) == nil, "a new connection was accepted after SIGTERM")
        try connection.send(bytes: Array(body.dropFirst(body.count / 2)))
        let answer = try connection.receive()
        #expect(answer.hasPrefix("HTTP/1.1 201"), "answer: \(answer.prefix(200))")
        #expect(answer.contains(eventID))
        #expect(await ferry.waitForExit() == 0)

        let restarted = FerryProcess(databasePath: databasePath, extraEnvironment: environment)
        try await restarted.start(client: client)
        let event = try await restarted.request(
            client, .GET, "/api/v1/events/\(eventID)?application_id=\(application)", token: ProcessTests.masterKey)
        #expect(event.status == 200 && event.json.string("event_id") == eventID)
        #expect(await restarted.terminate() == 0)
        try await client.shutdown()
    }

    @Test func sigtermLetsInFlightDeliveriesFinishAndExitsZero() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await TestReceiver.with(reply: { _, _ in .init(status: 200, delay: .milliseconds(1500)) }) { receiver in
            let environment = [
                "FERRY_MASTER_API_KEY": ProcessTests.masterKey, "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8",
            ]
            let databasePath = directory.path + "/ferry.sqlite"
            let ferry = FerryProcess(databasePath: databasePath, extraEnvironment: environment)
            try await ferry.start(client: client)
            let application = try await ProcessTests.setUp(ferry, client: client, receiverURL: receiver.url())
            let answer = try await ferry.request(
                client, .POST, "/api/v1/event", token: ProcessTests.masterKey,
                body: [
                    "application_id": .string(application), "event_type": "billing.invoice.paid", "payload": "hi",
                    "payload_content_type": "text/plain", "labels": ["tenant": "t1"],
                    "occurred_at": "2026-01-01T00:00:00Z",
                ])
            #expect(answer.status == 201)
            #expect(await receiver.waitForRequests(1).count == 1)
            #expect(await ferry.terminate() == 0)
            let restarted = FerryProcess(databasePath: databasePath, extraEnvironment: environment)
            try await restarted.start(client: client)
            let attempts = try await restarted.request(
                client, .GET, "/api/v1/request_attempts?application_id=\(application)", token: ProcessTests.masterKey)
            guard case .array(let items) = attempts.json, case .object(let attempt)? = items.first,
                case .object(let status)? = attempt["status"]
            else {
                Issue.record("no attempt listed: \(attempts.json)")
                return
            }
            #expect(items.count == 1)
            #expect(status["type"] == "successful")
            #expect(await restarted.terminate() == 0)
        }
        try await client.shutdown()
    }
}
