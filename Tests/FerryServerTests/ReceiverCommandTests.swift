import AsyncHTTPClient
import FerryCore
import FerryTestSupport
import Foundation
import NIOHTTP1
import Testing

/// `ferry receiver` end to end: a real `ferry serve` delivers an event to it, and it prints the delivery with both
/// signatures found valid for the subscription's secret (and not valid for another).
@Suite struct ReceiverCommandTests {
    @Test func theReceiverPrintsADeliveryAndFindsBothSignaturesValid() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(
            databasePath: directory.path + "/ferry.sqlite",
            extraEnvironment: ["FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8"])
        try await ferry.start(client: client)
        defer { ferry.terminateInBackground() }
        let (token, application) = try ferry.firstStartCredentials()
        let port = FerryProcess.freePort()
        _ = try await ferry.request(
            client, .POST, "/api/v1/event_types", token: token,
            body: [
                "application_id": .string(application), "service": "billing", "resource_type": "invoice",
                "verb": "paid",
            ])
        let subscription = try await ferry.request(
            client, .POST, "/api/v1/subscriptions", token: token,
            body: [
                "application_id": .string(application), "is_enabled": true, "event_types": ["billing.invoice.paid"],
                "labels": ["env": "demo"],
                "target": [
                    "type": "http", "method": "POST", "url": .string("http://127.0.0.1:\(port)/hook"), "headers": [:],
                ],
            ])
        let secret = try #require(subscription.json.string("secret"))

        let receiverOutput = directory.path + "/receiver.out"
        FileManager.default.createFile(atPath: receiverOutput, contents: nil)
        let receiver = Process()
        receiver.executableURL = URL(fileURLWithPath: FerryProcess.binary)
        receiver.arguments = ["receiver", "--port", "\(port)", "--secret", secret]
        receiver.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: receiverOutput))
        receiver.standardError = receiver.standardOutput
        try receiver.run()
        defer { receiver.stopInBackground() }
        func receiverText() -> String { (try? String(contentsOfFile: receiverOutput, encoding: .utf8)) ?? "" }
        var deadline = ContinuousClock.now + .seconds(20)
        while !receiverText().contains("listening on"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let event = try await ferry.request(
            client, .POST, "/api/v1/event", token: token,
            body: [
                "application_id": .string(application), "event_type": "billing.invoice.paid",
                "payload": #"{"amount":42}"#, "payload_content_type": "application/json", "labels": ["env": "demo"],
                "occurred_at": .string(Timestamp.format(Date())),
            ])
        #expect(event.status == 201)
        deadline = ContinuousClock.now + .seconds(20)
        while !receiverText().contains("webhook-signature:"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let text = receiverText()
        #expect(text.contains("POST /hook → 200"), "\(text)")
        #expect(text.contains("event type:  billing.invoice.paid"), "\(text)")
        #expect(text.contains("X-Hook0-Signature:  valid (v1)"), "\(text)")
        #expect(text.contains("webhook-signature:  valid (v1)"), "\(text)")
        #expect(text.contains(#""amount" : 42"#), "\(text)")
        #expect(await receiver.stop() == 0)
        try await client.shutdown()
    }
}
