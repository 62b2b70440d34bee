import FerryCore
import Foundation

/// What each client command does, as text to print: human tables by default, the API's JSON with `json`.
public struct ClientCommands: Sendable {
    public let api: APIConnection
    public let json: Bool

    public init(api: APIConnection, json: Bool) {
        self.api = api
        self.json = json
    }

    // MARK: events

    public func listEvents() async throws -> String {
        let application = try api.profile.requireApplication()
        let events = try await api.get("/events", query: [("application_id", application)])
        if json { return events.pretty }
        return TextTable(
            header: ["EVENT", "TYPE", "RECEIVED", "LABELS"],
            rows: events.items.map { event in
                [
                    event["event_id"]?.text ?? "", event["event_type_name"]?.text ?? "",
                    event["received_at"]?.text ?? "", Self.pairs(event["labels"]),
                ]
            }
        ).rendered
    }

    public func showEvent(_ id: String) async throws -> String {
        let application = try api.profile.requireApplication()
        let event = try await api.get("/events/\(id)", query: [("application_id", application)])
        if json { return event.pretty }
        var lines = [
            "event       \(event["event_id"]?.text ?? id)",
            "type        \(event["event_type_name"]?.text ?? "")",
            "occurred    \(event["occurred_at"]?.text ?? "")",
            "received    \(event["received_at"]?.text ?? "")",
            "labels      \(Self.pairs(event["labels"]))",
            "metadata    \(Self.pairs(event["metadata"]))",
            "payload     (\(event["payload_content_type"]?.text ?? "?"))",
        ]
        lines += Self.decodedPayload(event["payload"]?.text, contentType: event["payload_content_type"]?.text)
            .split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        return lines.joined(separator: "\n")
    }

    public func sendEvent(type: String, payload: String, contentType: String, labels: [String: String]) async throws
        -> String
    {
        let application = try api.profile.requireApplication()
        let answer = try await api.post(
            "/event",
            .object([
                "application_id": .string(application), "event_type": .string(type), "payload": .string(payload),
                "payload_content_type": .string(contentType), "labels": .object(labels.mapValues(JSONValue.string)),
                "occurred_at": .string(Timestamp.format(Date())),
            ]))
        if json { return answer.pretty }
        return "sent event \(answer["event_id"]?.text ?? "?") (\(type)); follow its deliveries with "
            + "`ferry attempts list --event \(answer["event_id"]?.text ?? "ID") --follow`"
    }

    public func replay(_ eventID: String) async throws -> String {
        let application = try api.profile.requireApplication()
        let answer = try await api.post("/events/\(eventID)/replay", .object(["application_id": .string(application)]))
        if json { return answer.pretty }
        return "event \(eventID) is being sent again to every subscription it matches"
    }

    // MARK: attempts

    /// The attempts as the list shows them, newest first.
    public func attempts(event: String?, subscription: String?) async throws -> [JSONValue] {
        let application = try api.profile.requireApplication()
        return try await api.get(
            "/request_attempts",
            query: [("application_id", application), ("event_id", event), ("subscription_id", subscription)]
        ).items
    }

    public func listAttempts(event: String?, subscription: String?) async throws -> String {
        let attempts = try await attempts(event: event, subscription: subscription)
        if json { return JSONValue.array(attempts).pretty }
        return TextTable(header: Self.attemptHeader, rows: attempts.map(Self.attemptRow)).rendered
    }

    /// Sends one attempt's event again to that attempt's subscription only.
    public func retryAttempt(_ id: String) async throws -> String {
        let application = try api.profile.requireApplication()
        let answer = try await api.post(
            "/request_attempts/\(id)/retry", .object(["application_id": .string(application)]))
        if json { return answer.pretty }
        return "attempt \(id) is being sent again to its subscription as attempt "
            + (answer["request_attempt_id"]?.text ?? "?")
    }

    // MARK: dead letters

    /// The attempts that gave up, newest first, filtered as the API filters them.
    public func listDeadLetters(subscription: String?, since: String?, until: String?, reason: String?)
        async throws -> String
    {
        let application = try api.profile.requireApplication()
        let attempts = try await api.get(
            "/dead_letters",
            query: [
                ("application_id", application), ("subscription_id", subscription), ("min_created_at", since),
                ("max_created_at", until), ("reason", reason),
            ])
        if json { return attempts.pretty }
        return TextTable(header: Self.attemptHeader, rows: attempts.items.map(Self.attemptRow)).rendered
    }

    /// Sends the given-up attempts created from `since` to `until` again, batch after batch until none is left
    /// (or only counts them with `dryRun`).
    public func recoverDeadLetters(subscription: String?, since: String, until: String?, dryRun: Bool)
        async throws -> String
    {
        let application = try api.profile.requireApplication()
        var body: [String: JSONValue] = [
            "application_id": .string(application), "since": .string(since), "dry_run": .bool(dryRun),
        ]
        if let subscription { body["subscription_id"] = .string(subscription) }
        // One end for every batch, so attempts given up again after the first batch are not taken.
        body["until"] = .string(until ?? Timestamp.format(Date()))
        var recovered = 0
        var answer: JSONValue = .null
        repeat {
            answer = try await api.post("/dead_letters/recover", .object(body))
            recovered += Int(answer["recovered"]?.text ?? "0") ?? 0
        } while !dryRun && (Int(answer["recovered"]?.text ?? "0") ?? 0) > 0
            && (Int(answer["remaining"]?.text ?? "0") ?? 0) > 0
        if json { return answer.pretty }
        let matching = answer["matching"]?.text ?? "0"
        if dryRun {
            return "\(matching) given-up attempts from \(since) to \(body["until"]?.text ?? "now") would be sent again "
                + "(those of disabled or deleted subscriptions excepted)"
        }
        let remaining = answer["remaining"]?.text ?? "0"
        return "sent \(recovered) given-up attempts again"
            + (remaining == "0" ? "" : "; \(remaining) stay given up (their subscription is disabled or deleted)")
    }

    /// Prints the attempts as they are now, then every new or changed one, polling every `interval`, until the
    /// task is cancelled (Ctrl-C) or `until` says so.
    public func followAttempts(
        event: String?, subscription: String?, interval: Duration = .seconds(1),
        print: @Sendable (String) -> Void, until done: @Sendable () -> Bool = { false }
    ) async throws {
        var shown: [String: JSONValue] = [:]
        if !json {
            print(TextTable(header: Self.attemptHeader, rows: []).rendered.split(separator: "\n")[0].description)
        }
        while !Task.isCancelled, !done() {
            for attempt in try await attempts(event: event, subscription: subscription).reversed() {
                let id = attempt["request_attempt_id"]?.text ?? ""
                guard shown[id] != attempt["status"] else { continue }
                shown[id] = attempt["status"]
                print(json ? String(decoding: attempt.encoded(), as: UTF8.self) : Self.attemptLine(attempt))
            }
            try await Task.sleep(for: interval)
        }
    }

    public func showAttempt(_ id: String) async throws -> String {
        let application = try api.profile.requireApplication()
        let attempt = try await api.get("/request_attempts/\(id)", query: [("application_id", application)])
        var response: JSONValue?
        if let responseID = attempt["response_id"]?.text {
            response = try await api.get("/responses/\(responseID)", query: [("application_id", application)])
        }
        if json { return JSONValue.object(["attempt": attempt, "response": response ?? .null]).pretty }
        var lines = [
            "attempt       \(attempt["request_attempt_id"]?.text ?? id)",
            "status        \(Self.status(attempt))",
            "event         \(attempt["event_id"]?.text ?? "")",
            "subscription  \(attempt["subscription"]?["subscription_id"]?.text ?? "")",
            "created       \(attempt["created_at"]?.text ?? "")",
            "retries       \(attempt["retry_count"]?.text ?? "0")",
        ]
        if let response {
            lines.append(
                "response      \(response["http_code"]?.text ?? response["response_error_name"]?.text ?? "—")"
                    + (response["elapsed_time_ms"]?.text.map { " in \($0) ms" } ?? ""))
            if let headers = response["headers"], case .object(let fields) = headers {
                lines += fields.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value.text ?? "")" }
            }
            if let body = response["body"]?.text, !body.isEmpty {
                lines.append("body")
                lines += body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
            }
        } else {
            lines.append("response      none yet")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: subscriptions

    public func listSubscriptions() async throws -> String {
        let application = try api.profile.requireApplication()
        let subscriptions = try await api.get("/subscriptions", query: [("application_id", application)])
        if json { return subscriptions.pretty }
        return TextTable(
            header: ["SUBSCRIPTION", "ENABLED", "EVENT TYPES", "LABELS", "TARGET"],
            rows: subscriptions.items.map { subscription in
                [
                    subscription["subscription_id"]?.text ?? "",
                    (subscription["is_enabled"]?.text ?? "")
                        + (subscription["disabled_reason"]?.text.map { " (\($0))" } ?? ""),
                    subscription["event_types"]?.items.compactMap(\.text).joined(separator: ",") ?? "",
                    Self.pairs(subscription["labels"]),
                    (subscription["target"]?["url"]?.text ?? "")
                        + (subscription["relayed"] == .bool(true) ? " (relayed by ferry listen)" : ""),
                ]
            }
        ).rendered
    }

    /// Enables or disables a subscription, changing nothing else (Hook0's PUT replaces it: the rest is sent back
    /// as it is).
    public func setSubscription(_ id: String, enabled: Bool) async throws -> String {
        let application = try api.profile.requireApplication()
        let current = try await api.get("/subscriptions/\(id)", query: [("application_id", application)])
        guard case .object(var fields) = current else { throw ClientError("GET /subscriptions/\(id) gave no object") }
        var body: [String: JSONValue] = ["application_id": .string(application), "is_enabled": .bool(enabled)]
        for key in [
            "event_types", "description", "metadata", "labels", "target", "dedicated_workers", "relayed",
            "retry_schedule", "max_retries",
        ] {
            if let value = fields.removeValue(forKey: key), value != .null { body[key] = value }
        }
        let answer = try await api.put("/subscriptions/\(id)", .object(body))
        if json { return answer.pretty }
        return "subscription \(id) is \(enabled ? "enabled" : "disabled")"
            + (enabled ? "" : "; its waiting attempts were cancelled")
    }

    /// Gives a subscription a new signing secret (and Ed25519 key); the old ones keep signing for `grace` (a
    /// duration like `24h`; the server's default of a day when nil).
    public func rotateSecret(_ id: String, grace: String?) async throws -> String {
        let application = try api.profile.requireApplication()
        var body: [String: JSONValue] = ["application_id": .string(application)]
        if let grace {
            guard let seconds = DurationText.seconds(grace), seconds >= 0 else {
                throw ClientError("--grace takes a duration like 24h, 30m or 0")
            }
            body["grace_period_seconds"] = .number(seconds.rounded())
        }
        let answer = try await api.post("/subscriptions/\(id)/secret/rotate", .object(body))
        if json { return answer.pretty }
        var lines = [
            "subscription \(id) has a new secret: \(answer["secret"]?.text ?? "?")",
            "  Standard Webhooks secret: \(answer["standard_webhooks_secret"]?.text ?? "?")",
        ]
        if let key = answer["standard_webhooks_public_key"]?.text {
            lines.append("  Ed25519 public key (v1a): \(key)")
        }
        if let until = answer["previous_secret_expires_at"]?.text {
            lines.append("the previous secret keeps signing too until \(until)")
        } else {
            lines.append("the previous secret no longer signs")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: rendering

    static let attemptHeader = ["ATTEMPT", "STATUS", "HTTP", "EVENT TYPE", "SUBSCRIPTION", "CREATED"]

    static func attemptRow(_ attempt: JSONValue) -> [String] {
        [
            attempt["request_attempt_id"]?.text ?? "", status(attempt), attempt["http_response_status"]?.text ?? "—",
            attempt["event"]?["event_type_name"]?.text ?? "", attempt["subscription"]?["subscription_id"]?.text ?? "",
            attempt["created_at"]?.text ?? "",
        ]
    }

    static func attemptLine(_ attempt: JSONValue) -> String {
        attemptRow(attempt).joined(separator: "  ")
    }

    /// The attempt's status in words: `successful (12 ms)`, `waiting until …`, `cancelled`.
    static func status(_ attempt: JSONValue) -> String {
        guard let status = attempt["status"], let type = status["type"]?.text else { return "?" }
        if attempt["cancelled"] == .bool(true) { return "cancelled" }
        switch type {
        case "successful", "failed": return type + (status["full_processing_ms"]?.text.map { " (\($0) ms)" } ?? "")
        case "waiting": return "waiting until " + (status["until"]?.text ?? "?")
        default: return type
        }
    }

    static func pairs(_ value: JSONValue?) -> String {
        guard case .object(let object)? = value else { return "" }
        return object.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text ?? "")" }.joined(separator: ",")
    }

    /// The payload for people: its base64 decoded, shown as indented JSON or text when it is either, else as
    /// base64.
    static func decodedPayload(_ base64: String?, contentType: String?) -> String {
        guard let base64, let data = Data(base64Encoded: base64) else { return base64 ?? "" }
        if let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        {
            return String(decoding: pretty, as: UTF8.self)
        }
        if let text = String(data: data, encoding: .utf8), contentType?.hasPrefix("text/") ?? true { return text }
        return "base64: " + base64
    }
}
