import ArgumentParser
import FerryCLI
import Foundation

/// Where client commands send their requests: flags over `FERRY_URL`, `FERRY_TOKEN`, `FERRY_APPLICATION_ID`
/// over a saved profile.
struct ClientOptions: ParsableArguments {
    @Option(help: "The Ferry API's URL, e.g. http://127.0.0.1:8080 (FERRY_URL).") var url: String?
    @Option(help: "A service token or access token (FERRY_TOKEN).") var token: String?
    @Option(help: "The application the command is about (FERRY_APPLICATION_ID).") var application: String?
    @Option(help: "A profile saved with `ferry profile save` (FERRY_PROFILE; default: `default`).") var profile: String?
    @Flag(help: "Print the API's JSON instead of a table.") var json = false

    /// The commands over the resolved profile.
    func commands() throws -> ClientCommands {
        do {
            let resolved = try ClientProfile.resolve(
                url: url, token: token, application: application, profile: profile,
                environment: ProcessInfo.processInfo.environment)
            return ClientCommands(api: APIConnection(profile: resolved), json: json)
        } catch let error as ClientError {
            throw ValidationError(error.description)
        }
    }
}

/// Prints what a client command answers, or its error in words (exit status 1).
func runClient(_ body: () async throws -> String) async throws {
    do {
        print(try await body())
    } catch let error as ClientError {
        FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
        throw ExitCode.failure
    }
}

/// `--label key=value` options as a map.
func labelPairs(_ labels: [String]) throws -> [String: String] {
    var pairs: [String: String] = [:]
    for label in labels {
        let parts = label.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { throw ValidationError("--label \(label): expected key=value") }
        pairs[String(parts[0])] = String(parts[1])
    }
    return pairs
}

/// `ferry events`.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show and send an application's events (a client of the API).",
        subcommands: [List.self, Show.self, Send.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest events, newest first.")
        @OptionGroup var client: ClientOptions
        func run() async throws { try await runClient { try await client.commands().listEvents() } }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One event, its payload decoded.")
        @Argument(help: "The event's id.") var id: String
        @OptionGroup var client: ClientOptions
        func run() async throws { try await runClient { try await client.commands().showEvent(id) } }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send an event.")
        @Argument(help: "Its event type, e.g. billing.invoice.paid.") var type: String
        @Option(help: "The payload (JSON by default).") var payload = "{}"
        @Option(help: "The payload's content type.") var contentType = "application/json"
        @Option(name: .customLong("label"), help: "A label, key=value (1 to 10; repeat the option).")
        var labels: [String] = []
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let pairs = try labelPairs(labels)
            try await runClient {
                try await client.commands().sendEvent(
                    type: type, payload: payload, contentType: contentType, labels: pairs)
            }
        }
    }
}

/// `ferry attempts`.
struct Attempts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and show delivery attempts, or follow them live (a client of the API).",
        subcommands: [List.self, Show.self, Retry.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest attempts, newest first.")
        @Option(help: "Only this event's attempts.") var event: String?
        @Option(help: "Only this subscription's attempts.") var subscription: String?
        @Flag(help: "Keep printing new attempts and status changes (Ctrl-C stops).") var follow = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let commands = try client.commands()
            if follow {
                try await runClient {
                    try await commands.followAttempts(
                        event: event, subscription: subscription,
                        print: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) })
                    return ""
                }
            } else {
                try await runClient { try await commands.listAttempts(event: event, subscription: subscription) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One attempt and the receiver's answer.")
        @Argument(help: "The attempt's id.") var id: String
        @OptionGroup var client: ClientOptions
        func run() async throws { try await runClient { try await client.commands().showAttempt(id) } }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one attempt's event again to that attempt's subscription only.")
        @Argument(help: "The attempt's id.") var id: String
        @OptionGroup var client: ClientOptions
        func run() async throws { try await runClient { try await client.commands().retryAttempt(id) } }
    }
}

/// `ferry dead-letters`.
struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List the attempts that gave up, and send them again (a client of the API).",
        subcommands: [List.self, Recover.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The given-up attempts, newest first.")
        @Option(help: "Only this subscription's.") var subscription: String?
        @Option(help: "Only those created at or after this RFC 3339 time.") var since: String?
        @Option(help: "Only those created at or before this RFC 3339 time.") var until: String?
        @Option(help: "Only this reason: no_answer, or a status class (4xx, 5xx, …).") var reason: String?
        @OptionGroup var client: ClientOptions
        func run() async throws {
            try await runClient {
                try await client.commands().listDeadLetters(
                    subscription: subscription, since: since, until: until, reason: reason)
            }
        }
    }

    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the given-up attempts of a time range again, once each (to enabled subscriptions).")
        @Option(help: "From this RFC 3339 time (attempts created at or after it).") var since: String
        @Option(help: "To this RFC 3339 time (default: now).") var until: String?
        @Option(help: "Only this subscription's.") var subscription: String?
        @Flag(help: "Only count what would be sent.") var dryRun = false
        @OptionGroup var client: ClientOptions
        func run() async throws {
            try await runClient {
                try await client.commands().recoverDeadLetters(
                    subscription: subscription, since: since, until: until, dryRun: dryRun)
            }
        }
    }
}

/// `ferry subscriptions`.
struct Subscriptions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "List, enable or disable an application's subscriptions, or rotate one's secret (a client of the API).",
        subcommands: [List.self, Enable.self, Disable.self, RotateSecret.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The application's subscriptions.")
        @OptionGroup var client: ClientOptions
        func run() async throws { try await runClient { try await client.commands().listSubscriptions() } }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a subscription (nothing else changes).")
        @Argument(help: "The subscription's id.") var id: String
        @OptionGroup var client: ClientOptions
        func run() async throws {
            try await runClient { try await client.commands().setSubscription(id, enabled: true) }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a subscription; its waiting attempts are cancelled (nothing else changes).")
        @Argument(help: "The subscription's id.") var id: String
        @OptionGroup var client: ClientOptions
        func run() async throws {
            try await runClient { try await client.commands().setSubscription(id, enabled: false) }
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Give a subscription a new signing secret; the old one keeps signing for the grace period.")
        @Argument(help: "The subscription's id.") var id: String
        @Option(help: "How long the old secret keeps signing too, like 24h or 0 (default: a day).") var grace: String?
        @OptionGroup var client: ClientOptions
        func run() async throws {
            try await runClient { try await client.commands().rotateSecret(id, grace: grace) }
        }
    }
}

/// `ferry replay`.
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send an event again to every subscription it matches now (a client of the API).")
    @Argument(help: "The event's id.") var eventID: String
    @OptionGroup var client: ClientOptions
    func run() async throws { try await runClient { try await client.commands().replay(eventID) } }
}

/// `ferry listen`.
struct Listen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Relay an application's deliveries to a receiver on this machine, for local development.",
        discussion: """
            Creates (or reuses) a relayed subscription whose deliveries the Ferry server hands to this command \
            over a stream instead of sending them itself; each one is sent to LOCAL_URL as a worker would send it \
            (same method, signed headers and body) and the answer is recorded as the attempt's response. The \
            server never connects to LOCAL_URL, so no public URL is needed. Ctrl-C disables the subscription.
            """)
    @Argument(help: "Where to send deliveries, e.g. http://localhost:3000/webhooks.") var localURL: String
    @Option(name: .customLong("event-type"), help: "An event type to receive (repeat; default: all of them).")
    var eventTypes: [String] = []
    @Option(name: .customLong("label"), help: "A label the events must carry, key=value (repeat; 1 to 10).")
    var labels: [String] = []
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let pairs = try labelPairs(labels)
        let api = try client.commands().api
        try await runClient {
            try await Listener(
                api: api, forwardURL: localURL, eventTypes: eventTypes, labels: pairs,
                print: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
            ).run()
            return ""
        }
    }
}

/// `ferry profile`.
struct Profile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save the API, token and application the client commands use.", subcommands: [Save.self])

    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save a profile (in ~/.config/ferry/profiles.json, readable by you only).")
        @Argument(help: "Its name; `default` is used when no profile is named.") var name = "default"
        @Option(help: "The Ferry API's URL, e.g. http://127.0.0.1:8080.") var url: String
        @Option(help: "A service token.") var token: String
        @Option(help: "The application the commands are about.") var application: String?

        func run() async throws {
            try await runClient {
                let resolved = ClientProfile(url: ClientProfile.apiURL(url), token: token, application: application)
                let file = try ClientProfile.save(resolved, as: name, environment: ProcessInfo.processInfo.environment)
                return "saved profile \(name) (\(resolved.url)) in \(file.path)"
            }
        }
    }
}
