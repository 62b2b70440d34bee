import AsyncHTTPClient
import FerryCore
import FerryTestSupport
import Foundation
import NIOHTTP1
import Testing

/// `ferry listen` end to end against a real `ferry serve` that may not connect to loopback (no guard exception):
/// the relayed subscription is created, each delivery reaches the local receiver signed as a worker signs it, the
/// receiver's answers are recorded as the attempts' responses (a 503 retried, then the 201 and its body), Ctrl-C
/// disables the subscription and exits 0, and a second run reuses the same subscription.
@Suite struct ListenCommandTests {
    @Test func listenRelaysDeliveriesToALocalReceiverAndRecordsItsAnswers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(databasePath: directory.path + "/ferry.sqlite")
        try await ferry.start(client: client)
        defer { ferry.terminateInBackground() }
        let (token, application) = try ferry.firstStartCredentials()
        _ = try await ferry.request(
            client, .POST, "/api/v1/event_types", token: token,
            body: [
                "application_id": .string(application), "service": "billing", "resource_type": "invoice",
                "verb": "paid",
            ])

        try await TestReceiver.with(reply: { _, number in
            number == 1
                ? TestReceiver.Reply(status: 503, body: Array("busy".utf8))
                : TestReceiver.Reply(
                    status: 201, headers: ["content-type": "application/json"], body: Array(#"{"handled":true}"#.utf8))
        }) { receiver in
            let first = try ListenProcess(
                receiverURL: receiver.url(), ferry: ferry, token: token, application: application,
                output: directory.path + "/listen-1.out")
            try await first.waitFor("forwarding deliveries")
            #expect(first.text.contains("created relayed subscription"), "\(first.text)")
            let subscriptions = try await ferry.request(
                client, .GET, "/api/v1/subscriptions?application_id=\(application)", token: token)
            guard case .array(let listed) = subscriptions.json, case .object(let subscription)? = listed.first else {
                Issue.record("no subscription: \(subscriptions.json)")
                return
            }
            #expect(listed.count == 1 && subscription["relayed"] == .bool(true))
            let subscriptionID = try #require(subscription["subscription_id"]?.stringValue)
            let secret = try #require(subscription["secret"]?.stringValue)

            let event = try await ferry.request(
                client, .POST, "/api/v1/event", token: token,
                body: [
                    "application_id": .string(application), "event_type": "billing.invoice.paid",
                    "payload": #"{"amount":42}"#, "payload_content_type": "application/json",
                    "labels": ["env": "demo"], "occurred_at": .string(Timestamp.format(Date())),
                ])
            #expect(event.status == 201)
            let requests = await receiver.waitForRequests(2, timeout: .seconds(30))
            #expect(requests.count == 2, "the 503 is retried through the relay (3 s later)")
            let delivered = try #require(requests.last)
            #expect(delivered.body == Array(#"{"amount":42}"#.utf8))
            #expect(
                SignatureCheck.hook0(
                    header: delivered.headers["x-hook0-signature"], headers: delivered.headers, body: delivered.body,
                    secret: secret, now: Date()) == .valid(version: "v1"))
            #expect(
                SignatureCheck.standardWebhooks(
                    headers: delivered.headers, body: delivered.body, secret: secret, now: Date())
                    == .valid(version: "v1"))

            var attempts: [JSONValue] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let listedAttempts = try await ferry.request(
                    client, .GET, "/api/v1/request_attempts?application_id=\(application)", token: token)
                if case .array(let items) = listedAttempts.json { attempts = items }
                if attempts.contains(where: { $0.statusType == "successful" }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let succeeded = try #require(attempts.first { $0.statusType == "successful" }, "\(attempts)")
            #expect(attempts.contains { $0.statusType == "failed" }, "the 503 attempt is recorded failed")
            guard case .object(let succeededFields) = succeeded,
                let responseID = succeededFields["response_id"]?.stringValue
            else {
                Issue.record("no response id in \(succeeded)")
                return
            }
            let response = try await ferry.request(
                client, .GET, "/api/v1/responses/\(responseID)?application_id=\(application)", token: token)
            guard case .object(let answer) = response.json else {
                Issue.record("no response: \(response.json)")
                return
            }
            #expect(answer["http_code"] == .number(201), "\(answer)")
            #expect(answer["body"] == .string(#"{"handled":true}"#), "\(answer)")
            #expect(first.text.contains("→ 503 Service Unavailable"), "\(first.text)")
            #expect(first.text.contains("→ 201 Created"), "\(first.text)")

            #expect(try await first.interrupt() == 0)
            #expect(first.text.contains("subscription \(subscriptionID) disabled"), "\(first.text)")
            let afterStop = try await ferry.request(
                client, .GET, "/api/v1/subscriptions/\(subscriptionID)?application_id=\(application)", token: token)
            guard case .object(let stopped) = afterStop.json else { return }
            #expect(stopped["is_enabled"] == .bool(false) && stopped["relayed"] == .bool(true))

            let second = try ListenProcess(
                receiverURL: receiver.url(), ferry: ferry, token: token, application: application,
                output: directory.path + "/listen-2.out")
            try await second.waitFor("forwarding deliveries")
            #expect(second.text.contains("reusing relayed subscription \(subscriptionID)"), "\(second.text)")
            #expect(try await second.interrupt() == 0)
        }
        try await client.shutdown()
    }
}

/// A `ferry listen` process whose output goes to a file.
private final class ListenProcess {
    private let process: Process
    private let output: String

    init(receiverURL: String, ferry: FerryProcess, token: String, application: String, output: String) throws {
        self.output = output
        FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FerryProcess.binary)
        process.arguments = [
            "listen", receiverURL, "--label", "env=demo", "--url", ferry.baseURL, "--token", token,
            "--application", application,
        ]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = process.standardOutput
        try process.run()
        self.process = process
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    var text: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

    func waitFor(_ phrase: String, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !text.contains(phrase), ContinuousClock.now < deadline, process.isRunning {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(text.contains(phrase), "\(text)")
    }

    /// Sends Ctrl-C's signal and returns the exit status (killing the process after 15 s).
    func interrupt() async throws -> Int32 {
        process.interrupt()
        if let status = await process.exitStatus(within: .seconds(15)) { return status }
        return await process.stop()
    }
}

extension JSONValue {
    fileprivate var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An attempt's `status.type`.
    fileprivate var statusType: String? {
        guard case .object(let fields) = self, case .object(let status)? = fields["status"],
            case .string(let type)? = status["type"]
        else { return nil }
        return type
    }
}
