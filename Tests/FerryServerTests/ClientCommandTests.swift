import AsyncHTTPClient
import FerryCore
import FerryTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The command-line client against a real `ferry serve` and a real receiver: events sent, listed and shown with
/// their payload decoded, attempts listed, shown with the receiver's answer and followed live, a subscription
/// disabled and enabled with nothing else changed, an event replayed, a saved profile used, and errors in words.
@Suite struct ClientCommandTests {
    @Test func theClientDrivesTheAPIAsAPersonWould() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(
            databasePath: directory.path + "/ferry.sqlite",
            extraEnvironment: ["FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8"])
        try await ferry.start(client: client)
        defer { ferry.terminateInBackground() }
        let (token, application) = try ferry.firstStartCredentials()
        let connection = ["--url", ferry.baseURL, "--token", token, "--application", application]
        @Sendable func cli(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String) {
            let result = try await CommandLineTests.ferry(arguments + connection, environment: environment)
            return (result.status, result.output)
        }

        try await TestReceiver.with { receiver in
            _ = try await ferry.request(
                client, .POST, "/api/v1/event_types", token: token,
                body: [
                    "application_id": .string(application), "service": "billing", "resource_type": "invoice",
                    "verb": "paid",
                ])
            let subscription = try await ferry.request(
                client, .POST, "/api/v1/subscriptions", token: token,
                body: [
                    "application_id": .string(application), "is_enabled": true,
                    "event_types": ["billing.invoice.paid"], "labels": ["env": "demo"], "description": "billing",
                    "target": ["type": "http", "method": "POST", "url": .string(receiver.url()), "headers": [:]],
                ])
            let subscriptionID = try #require(subscription.json.string("subscription_id"))

            let (sentStatus, sent) = try await cli([
                "events", "send", "billing.invoice.paid", "--payload", #"{"amount":42}"#, "--label", "env=demo",
            ])
            #expect(sentStatus == 0, "\(sent)")
            let eventID = try #require(
                sent.split(separator: " ").dropFirst(2).first.map(String.init), "\(sent)")
            #expect(sent.hasPrefix("sent event \(eventID) (billing.invoice.paid)"))
            _ = await receiver.waitForRequests(1)

            let (_, events) = try await cli(["events", "list"])
            #expect(events.contains("EVENT") && events.contains(eventID) && events.contains("env=demo"), "\(events)")
            let (_, shown) = try await cli(["events", "show", eventID])
            #expect(shown.contains(#""amount" : 42"#), "\(shown)")
            let (_, listedJSON) = try await cli(["events", "list", "--json"])
            let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(listedJSON.utf8))
            guard case .array(let items) = decoded else {
                Issue.record("not a JSON array: \(listedJSON)")
                return
            }
            #expect(items.count == 1)

            var attempts = ""
            let deadline = ContinuousClock.now + .seconds(15)
            while !attempts.contains("successful"), ContinuousClock.now < deadline {
                attempts = try await cli(["attempts", "list", "--event", eventID]).1
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(attempts.contains("successful") && attempts.contains("200"), "\(attempts)")
            let attemptID = try #require(
                attempts.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))
            let (_, attempt) = try await cli(["attempts", "show", attemptID])
            #expect(attempt.contains("response      200"), "\(attempt)")

            let (disabledStatus, disabled) = try await cli(["subscriptions", "disable", subscriptionID])
            #expect(disabledStatus == 0 && disabled.contains("is disabled"), "\(disabled)")
            let afterDisable = try await ferry.request(
                client, .GET, "/api/v1/subscriptions/\(subscriptionID)?application_id=\(application)", token: token)
            guard case .object(let fields) = afterDisable.json else {
                Issue.record("no subscription")
                return
            }
            #expect(fields["is_enabled"] == .bool(false))
            #expect(fields["labels"] == .object(["env": .string("demo")]))
            #expect(fields["description"] == .string("billing"))
            let (_, subscriptions) = try await cli(["subscriptions", "list"])
            #expect(subscriptions.contains(subscriptionID) && subscriptions.contains("false"), "\(subscriptions)")
            #expect(try await cli(["subscriptions", "enable", subscriptionID]).0 == 0)
            let (rotateStatus, rotated) = try await cli([
                "subscriptions", "rotate-secret", subscriptionID, "--grace", "1h",
            ])
            #expect(rotateStatus == 0 && rotated.contains("has a new secret"), "\(rotated)")
            #expect(rotated.contains("the previous secret keeps signing too until"), "\(rotated)")
            let afterRotation = try await ferry.request(
                client, .GET, "/api/v1/subscriptions/\(subscriptionID)?application_id=\(application)", token: token)
            guard case .object(let rotatedFields) = afterRotation.json,
                case .string(let newSecret)? = rotatedFields["secret"]
            else {
                Issue.record("no subscription after the rotation")
                return
            }
            #expect(rotatedFields["previous_secret_expires_at"] != .null)
            #expect(rotated.contains(newSecret), "\(rotated)")
            let (badGraceStatus, badGrace) = try await cli([
                "subscriptions", "rotate-secret", subscriptionID, "--grace", "soon",
            ])
            #expect(badGraceStatus != 0 && badGrace.contains("--grace takes a duration"), "\(badGrace)")

            let follower = Process()
            let followOutput = directory.path + "/follow.out"
            FileManager.default.createFile(atPath: followOutput, contents: nil)
            follower.executableURL = URL(fileURLWithPath: FerryProcess.binary)
            follower.arguments = ["attempts", "list", "--follow", "--event", eventID] + connection
            follower.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: followOutput))
            try follower.run()
            defer { follower.stopInBackground() }
            func followed() -> String { (try? String(contentsOfFile: followOutput, encoding: .utf8)) ?? "" }
            let before = Date()
            while !followed().contains(attemptID), Date().timeIntervalSince(before) < 15 {
                try await Task.sleep(for: .milliseconds(100))
            }
            let (replayStatus, replayed) = try await cli(["replay", eventID])
            #expect(replayStatus == 0 && replayed.contains("is being sent again"), "\(replayed)")
            _ = await receiver.waitForRequests(2)
            while followed().split(separator: "\n").filter({ $0.contains("successful") }).count < 2,
                Date().timeIntervalSince(before) < 20
            {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(
                followed().split(separator: "\n").filter { $0.contains("successful") }.count == 2, "\(followed())")
            _ = await follower.stop()
        }

        // A saved profile stands in for the flags, in a file only its owner reads.
        let config = directory.path + "/config"
        let saved = try await CommandLineTests.ferry(
            ["profile", "save", "--url", ferry.baseURL, "--token", token, "--application", application],
            environment: ["XDG_CONFIG_HOME": config])
        #expect(saved.status == 0 && saved.output.contains("saved profile default"), "\(saved.output)")
        let attributes = try FileManager.default.attributesOfItem(atPath: config + "/ferry/profiles.json")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let byProfile = try await CommandLineTests.ferry(["events", "list"], environment: ["XDG_CONFIG_HOME": config])
        #expect(byProfile.status == 0 && byProfile.output.contains("billing.invoice.paid"), "\(byProfile.output)")

        let refused = try await CommandLineTests.ferry(
            ["events", "list", "--url", ferry.baseURL, "--token", UUID().uuidString, "--application", application])
        #expect(refused.status != 0 && refused.output.contains("answered 403"), "\(refused.output)")
        let nowhere = try await CommandLineTests.ferry(
            ["events", "list"], environment: ["XDG_CONFIG_HOME": config + "-none"])
        #expect(nowhere.status != 0 && nowhere.output.contains("no API to talk to"), "\(nowhere.output)")
        try await client.shutdown()
    }

    @Test func deadLettersAreListedRecoveredAndRetriedFromTheCommandLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(
            databasePath: directory.path + "/ferry.sqlite",
            extraEnvironment: ["FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8", "FERRY_MAX_RETRIES": "0"])
        try await ferry.start(client: client)
        defer { ferry.terminateInBackground() }
        let (token, application) = try ferry.firstStartCredentials()
        let connection = ["--url", ferry.baseURL, "--token", token, "--application", application]
        @Sendable func cli(_ arguments: [String]) async throws -> (Int32, String) {
            let result = try await CommandLineTests.ferry(arguments + connection)
            return (result.status, result.output)
        }
        let since = Timestamp.format(Date().addingTimeInterval(-60))
        try await TestReceiver.with(reply: { _, _ in TestReceiver.Reply(status: 500) }) { receiver in
            _ = try await ferry.request(
                client, .POST, "/api/v1/event_types", token: token,
                body: [
                    "application_id": .string(application), "service": "billing", "resource_type": "invoice",
                    "verb": "paid",
                ])
            _ = try await ferry.request(
                client, .POST, "/api/v1/subscriptions", token: token,
                body: [
                    "application_id": .string(application), "is_enabled": true,
                    "event_types": ["billing.invoice.paid"], "labels": ["env": "demo"],
                    "target": ["type": "http", "method": "POST", "url": .string(receiver.url()), "headers": [:]],
                ])
            _ = try await cli(["events", "send", "billing.invoice.paid", "--label", "env=demo"])
            var listed = ""
            let deadline = ContinuousClock.now + .seconds(15)
            while !listed.contains("failed"), ContinuousClock.now < deadline {
                listed = try await cli(["dead-letters", "list", "--reason", "5xx"]).1
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(listed.contains("failed") && listed.contains("500"), "\(listed)")
            let attemptID = try #require(
                listed.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))

            let (previewStatus, preview) = try await cli(["dead-letters", "recover", "--since", since, "--dry-run"])
            #expect(previewStatus == 0 && preview.hasPrefix("1 given-up attempts from \(since)"), "\(preview)")
            let (_, recovered) = try await cli(["dead-letters", "recover", "--since", since])
            #expect(recovered.hasPrefix("sent 1 given-up attempts again"), "\(recovered)")
            _ = await receiver.waitForRequests(2)
            let (_, retried) = try await cli(["attempts", "retry", attemptID])
            #expect(retried.hasPrefix("attempt \(attemptID) is being sent again to its subscription"), "\(retried)")
            #expect(await receiver.waitForRequests(3).count == 3)
        }
        try await client.shutdown()
    }
}
