import AsyncHTTPClient
import FerryCore
import Foundation
import NIOCore
import NIOHTTP1
import UnixSignals

/// `ferry listen`: relays an application's deliveries to a receiver on this machine. It keeps one relayed
/// subscription per local URL (created, or reused and enabled), holds the server's relay stream for it, sends each
/// delivery to the local URL exactly as a worker would have sent it (same method, signed headers and body), and
/// posts the receiver's answer back as the attempt's response, so retries, the delivery log and the dashboard see a
/// normal attempt. The server never connects to the local URL. On Ctrl-C it disables the subscription (its waiting
/// attempts are cancelled, as any disable does) and ends.
public struct Listener: Sendable {
    /// The relayed subscription this session uses.
    public struct Session: Sendable, Equatable {
        public var subscriptionID: String
        public var created: Bool
        public var eventTypes: [String]
        public var labels: [String: String]
    }

    public let api: APIConnection
    public let forwardURL: String
    public let eventTypes: [String]
    public let labels: [String: String]
    /// Longest wait for the local receiver's answer (a worker's total timeout).
    public let timeout: Duration
    private let print: @Sendable (String) -> Void

    public init(
        api: APIConnection, forwardURL: String, eventTypes: [String], labels: [String: String],
        timeout: Duration = .seconds(15), print: @escaping @Sendable (String) -> Void
    ) {
        self.api = api
        self.forwardURL = forwardURL
        self.eventTypes = eventTypes
        self.labels = labels
        self.timeout = timeout
        self.print = print
    }

    /// Prepares the subscription, relays until Ctrl-C (SIGINT or SIGTERM) or the subscription is deleted, then
    /// disables it.
    public func run() async throws {
        guard TargetURL.isAcceptable(forwardURL) else {
            throw ClientError("`\(forwardURL)` is not an http:// or https:// URL, e.g. http://localhost:3000/webhooks")
        }
        // Trapped before the first line is printed: a Ctrl-C right after "forwarding deliveries" must not find
        // the default action (end at once) still in place.
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let session = try await prepare()
        print(
            "\(session.created ? "created" : "reusing") relayed subscription \(session.subscriptionID) "
                + "(event types: \(session.eventTypes.joined(separator: ", ")); labels: "
                + session.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                + ")")
        print("forwarding deliveries to \(forwardURL); Ctrl-C stops")
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.forwardingConfiguration)
        let outcome = await withTaskGroup(of: Result<Void, any Error>.self) { group in
            group.addTask {
                do {
                    try await relay(session.subscriptionID, through: client)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                for await _ in signals { break }
                return .success(())
            }
            let first = await group.next() ?? .success(())
            group.cancelAll()
            return first
        }
        try? await client.shutdown()
        // However the relay ended, the subscription is disabled: nothing waits for a session that is gone.
        if (try? await ClientCommands(api: api, json: false).setSubscription(session.subscriptionID, enabled: false))
            != nil
        {
            print("stopped; subscription \(session.subscriptionID) disabled (ferry listen enables it again)")
        } else {
            print(
                "stopped; could not disable subscription \(session.subscriptionID): disable it with "
                    + "`ferry subscriptions disable \(session.subscriptionID)`")
        }
        if case .failure(let error) = outcome, !(error is CancellationError) { throw error }
    }

    /// The relayed subscription to `forwardURL`: reused (enabled, with the event types and labels asked for) if
    /// the application has one, created otherwise.
    public func prepare() async throws -> Session {
        let application = try api.profile.requireApplication()
        let subscriptions = try await api.get("/subscriptions", query: [("application_id", application)])
        let existing = subscriptions.items.first { item in
            item["relayed"] == .bool(true) && item["target"]?["url"]?.text == forwardURL
        }
        var types = eventTypes
        if types.isEmpty {
            types = existing?["event_types"]?.items.compactMap(\.text) ?? []
        }
        if types.isEmpty {
            types = try await api.get("/event_types", query: [("application_id", application)]).items.compactMap {
                $0["event_type_name"]?.text
            }
        }
        guard !types.isEmpty else {
            throw ClientError(
                "the application has no event types yet: create one (POST /api/v1/event_types) or give --event-type")
        }
        var chosenLabels = labels
        if chosenLabels.isEmpty, let existing {
            for (key, value) in existing["labels"]?.objectMembers ?? [:] { chosenLabels[key] = value.text ?? "" }
        }
        guard !chosenLabels.isEmpty else {
            throw ClientError(
                "give at least one --label key=value: a subscription receives the events that carry all of its "
                    + "labels with the same values (1 to 10, as in Hook0)")
        }
        // A reused subscription keeps what was set on it (description, metadata, headers, retry settings); the
        // session sets only what it needs.
        var fields: [String: JSONValue] = [:]
        for key in ["description", "metadata", "target", "retry_schedule", "max_retries"] {
            if let value = existing?[key], value != .null { fields[key] = value }
        }
        fields["application_id"] = .string(application)
        fields["is_enabled"] = .bool(true)
        fields["event_types"] = .array(types.map(JSONValue.string))
        fields["labels"] = .object(chosenLabels.mapValues(JSONValue.string))
        fields["relayed"] = .bool(true)
        if fields["description"] == nil {
            fields["description"] = .string(String("ferry listen \(forwardURL)".prefix(100)))
        }
        if fields["target"] == nil {
            fields["target"] = .object([
                "type": .string("http"), "method": .string("POST"), "url": .string(forwardURL),
                "headers": .object([:]),
            ])
        }
        let body: JSONValue = .object(fields)
        let answer: JSONValue
        if let id = existing?["subscription_id"]?.text {
            answer = try await api.put("/subscriptions/\(id)", body)
        } else {
            answer = try await api.post("/subscriptions", body)
        }
        guard let id = answer["subscription_id"]?.text else { throw ClientError("the API answered no subscription") }
        return Session(subscriptionID: id, created: existing == nil, eventTypes: types, labels: chosenLabels)
    }

    /// Holds the relay stream, reconnecting after a second when it drops, until the task is cancelled or the
    /// server ends it because the subscription is gone.
    public func relay(_ subscriptionID: String, through client: HTTPClient) async throws {
        let application = try api.profile.requireApplication()
        var announcedDrop = false
        while !Task.isCancelled {
            do {
                if try await stream(subscriptionID, application: application, through: client) { return }
                announcedDrop = false
            } catch is CancellationError {
                return
            } catch let error as ClientError {
                throw error
            } catch {
                if Task.isCancelled { return }
                if !announcedDrop { print("lost the stream (\(error)); reconnecting…") }
                announcedDrop = true
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Reads one stream until it ends; true when the server ended it for good.
    private func stream(_ subscriptionID: String, application: String, through client: HTTPClient) async throws
        -> Bool
    {
        var components = URLComponents(string: api.profile.url + "/subscriptions/\(subscriptionID)/relay")
        components?.queryItems = [URLQueryItem(name: "application_id", value: application)]
        guard let url = components?.string else { throw ClientError("`\(api.profile.url)` is not a URL") }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "authorization", value: "Bearer \(api.profile.token)")
        request.headers.add(name: "user-agent", value: "ferry-cli/\(FerryVersion.current)")
        request.headers.add(name: "accept", value: "application/x-ndjson")
        let response = try await client.execute(request, deadline: .distantFuture)
        guard response.status == .ok else {
            let bytes = try await response.body.collect(upTo: 1024 * 1024)
            let problem = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))
            let said =
                "the relay stream answered \(response.status.code) "
                + "\(problem?["title"]?.text ?? response.status.reasonPhrase)"
                + (problem?["detail"]?.text.map { ": " + $0 } ?? "")
            // A server restarting, a proxy between, a rate limit: worth another try. Anything else is final.
            if response.status.code >= 500 || response.status.code == 429 { throw StreamInterrupted(said) }
            throw ClientError(said)
        }
        return try await withThrowingDiscardingTaskGroup { group in
            var pending: [UInt8] = []
            var bodyLimit = Self.bodyLimit
            for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(pending[..<newline])
                    pending.removeSubrange(...newline)
                    guard let message = try? JSONDecoder().decode(JSONValue.self, from: Data(line)) else { continue }
                    switch message["type"]?.text {
                    case "ready":
                        // Bytes past the server's limit are dropped there; one more says the body was cut.
                        if let limit = message["response_body_limit"]?.text.flatMap(Int.init) {
                            bodyLimit = min(Self.bodyLimit, limit + 1)
                        }
                    case "delivery":
                        let limit = bodyLimit
                        group.addTask {
                            await forward(message, subscriptionID: subscriptionID, bodyLimit: limit, through: client)
                        }
                    case "reconnect":
                        return false
                    case "end":
                        print("the server ended the relay: \(message["reason"]?.text ?? "")")
                        return true
                    default:
                        continue
                    }
                }
            }
            return false
        }
    }

    /// Sends one delivery to the local URL and posts what happened back.
    private func forward(_ delivery: JSONValue, subscriptionID: String, bodyLimit: Int, through client: HTTPClient)
        async
    {
        guard let attemptID = delivery["attempt_id"]?.text, let claimToken = delivery["claim_token"]?.text,
            let application = api.profile.application
        else { return }
        let started = ContinuousClock.now
        var answer: [String: JSONValue] = [
            "application_id": .string(application), "claim_token": .string(claimToken),
        ]
        let said: String
        if let error = delivery["error"]?.text {
            answer["error"] = .string(error)
            said = error
        } else {
            var request = HTTPClientRequest(url: forwardURL)
            request.method = HTTPMethod(rawValue: delivery["method"]?.text ?? "POST")
            for header in delivery["headers"]?.items ?? [] {
                let pair = header.items.compactMap(\.text)
                if pair.count == 2 { request.headers.add(name: pair[0], value: pair[1]) }
            }
            let body = Data(base64Encoded: delivery["body"]?.text ?? "") ?? Data()
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await client.execute(request, timeout: TimeAmount.nanoseconds(nanoseconds(timeout)))
                var received: [UInt8] = []
                for try await chunk in response.body where received.count < bodyLimit {
                    received.append(contentsOf: chunk.readableBytesView.prefix(bodyLimit - received.count))
                }
                var headers: [String: JSONValue] = [:]
                for header in response.headers { headers[header.name.lowercased()] = .string(header.value) }
                answer["status"] = .number(Double(response.status.code))
                answer["headers"] = .object(headers)
                answer["body"] = .string(Data(received).base64EncodedString())
                said = "\(response.status.code) \(response.status.reasonPhrase)"
            } catch {
                let name = Self.errorName(error)
                answer["error"] = .string(name.rawValue)
                said =
                    name == .timeout
                    ? "no answer within \(timeout)" : "cannot reach \(forwardURL) (\(name.rawValue))"
            }
        }
        let elapsed = ContinuousClock.now - started
        answer["elapsed_ms"] = .number(Double(nanoseconds(elapsed) / 1_000_000))
        let recorded: String
        do {
            let result = try await api.post("/subscriptions/\(subscriptionID)/relay/\(attemptID)", .object(answer))
            recorded = result["recorded"] == .bool(true) ? "" : "  (not recorded: the lease had passed)"
        } catch {
            recorded = "  (not recorded: \(error))"
        }
        let clock = Timestamp.format(Date()).dropFirst(11).prefix(8)
        print(
            "\(clock)  \(delivery["event_type"]?.text ?? "")  \(delivery["event_id"]?.text ?? "")  → \(said)  "
                + "\(nanoseconds(elapsed) / 1_000_000) ms\(recorded)")
    }

    /// The most of an answer's body posted back (the server keeps up to its own limit, announced when the stream
    /// opens, and marks the rest cut).
    static let bodyLimit = 1024 * 1024

    static var forwardingConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        // The server writes a line at least every 10 s: 35 s of silence means the connection is dead.
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(35))
        // The server hands over at most 16 unanswered deliveries at once: each gets its own connection.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        return configuration
    }

    /// Hook0's error name for a failure to reach the local receiver.
    static func errorName(_ error: any Error) -> ResponseErrorName {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout, .readTimeout, .deadlineExceeded, .writeTimeout: return .timeout
            case .invalidURL, .emptyHost, .emptyScheme: return .invalidTarget
            default: return .connection
            }
        }
        return .connection
    }

    private func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}

/// The relay stream broke off in a way another try can mend (a 5xx, a 429); `relay` reconnects.
struct StreamInterrupted: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension JSONValue {
    /// The members of an object (none for anything else).
    public var objectMembers: [String: JSONValue] {
        if case .object(let members) = self { return members }
        return [:]
    }
}
