import ArgumentParser
import Configuration
import FerryCore
import FerryServer
import Foundation

/// The `ferry` command: thin sub-commands over FerryServer.
@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ferry: a Hook0-compatible webhooks server.", version: "ferry \(FerryVersion.current)",
        subcommands: [
            Serve.self, API.self, Worker.self, Migrate.self, Users.self, ShowConfig.self, Receiver.self, Events.self,
            Attempts.self, DeadLetters.self, Subscriptions.self, Replay.self, Listen.self, Profile.self, Version.self,
        ],
        defaultSubcommand: Serve.self)
}

/// The settings given as flags; which flags a command takes, and what they mean, come from `Settings`.
struct SettingOptions: ParsableArguments {
    @Argument(parsing: .allUnrecognized, help: .hidden) var given: [String] = []

    /// The reader of the settings: these flags, then the `FERRY_*` environment variables, then the defaults.
    func reader(for command: SettingCommand) throws -> ConfigReader {
        let overrides: [String: String]
        do {
            overrides = try SettingArguments.parse(given, for: command)
        } catch {
            throw ValidationError(error.description)
        }
        return ConfigurationSources.reader(overrides: overrides, environment: ProcessInfo.processInfo.environment)
    }

    /// The configuration `command` runs with.
    func resolve(for command: SettingCommand) throws -> FerryConfiguration {
        let reader = try reader(for: command)
        do {
            return try FerryConfiguration(reader: reader)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// A command that runs one role of Ferry with the shared settings.
protocol RoleCommand: AsyncParsableCommand {
    static var role: FerryRole { get }
    static var command: SettingCommand { get }
    var settings: SettingOptions { get }
}

extension RoleCommand {
    func run() async throws {
        try await FerryServer.run(configuration: try settings.resolve(for: Self.command), role: Self.role)
    }
}

/// `ferry serve`: the API and the delivery worker in one process.
struct Serve: RoleCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API, the dashboard and the delivery worker (the default command).",
        discussion: SettingArguments.help(for: .serve))
    static let role = FerryRole.all
    static let command = SettingCommand.serve
    @OptionGroup var settings: SettingOptions
}

/// `ferry api`: the HTTP API only (scale it out beside `ferry worker` processes on PostgreSQL).
struct API: RoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "api", abstract: "Run the HTTP API and the dashboard only.",
        discussion: SettingArguments.help(for: .api))
    static let role = FerryRole.api
    static let command = SettingCommand.api
    @OptionGroup var settings: SettingOptions
}

/// `ferry worker`: the delivery worker only.
struct Worker: RoleCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the delivery worker only.", discussion: SettingArguments.help(for: .worker))
    static let role = FerryRole.worker
    static let command = SettingCommand.worker
    @OptionGroup var settings: SettingOptions
}

/// `ferry migrate`: applies pending database migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations.", discussion: SettingArguments.help(for: .migrate))
    @OptionGroup var settings: SettingOptions

    func run() async throws {
        print(try await FerryServer.migrate(configuration: try settings.resolve(for: .migrate)))
    }
}

/// `ferry users`: accounts, against the configured database.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, create, verify, reset or disable accounts.", discussion: SettingArguments.help(for: .users),
        subcommands: [List.self, Create.self, Verify.self, ResetPassword.self, Disable.self])

    /// Runs `body` with the administration of the configured database, printing its answer.
    static func administer(
        _ settings: SettingOptions, _ body: @Sendable @escaping (UserAdministration) async throws -> String
    ) async throws {
        let configuration = try settings.resolve(for: .users)
        let answer = try await FerryServer.withStore(configuration: configuration) { store in
            try await body(UserAdministration(store: store, configuration: configuration))
        }
        print(answer)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every account.")
        @OptionGroup var settings: SettingOptions
        func run() async throws { try await Users.administer(settings) { try await $0.list() } }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a verified account (a password is generated and printed unless --password is given).")
        @Argument(help: "The account's e-mail address.") var email: String
        @Option(help: "First name.") var firstName: String = "New"
        @Option(help: "Last name.") var lastName: String = "User"
        @Option(help: "The password (it must meet the password policy).") var password: String?
        @OptionGroup var settings: SettingOptions
        func run() async throws {
            let (email, firstName, lastName, password) = (email, firstName, lastName, password)
            try await Users.administer(settings) {
                try await $0.create(email: email, firstName: firstName, lastName: lastName, password: password)
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an account's e-mail address verified.")
        @Argument(help: "The account's e-mail address.") var email: String
        @OptionGroup var settings: SettingOptions
        func run() async throws {
            let email = email
            try await Users.administer(settings) { try await $0.verify(email: email) }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password (generated unless --password is given) and end the account's sessions.")
        @Argument(help: "The account's e-mail address.") var email: String
        @Option(help: "The new password.") var password: String?
        @OptionGroup var settings: SettingOptions
        func run() async throws {
            let (email, password) = (email, password)
            try await Users.administer(settings) { try await $0.resetPassword(email: email, password: password) }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account (its sessions end at once); --enable re-enables it.")
        @Argument(help: "The account's e-mail address.") var email: String
        @Flag(help: "Re-enable the account instead.") var enable = false
        @OptionGroup var settings: SettingOptions
        func run() async throws {
            let (email, disabled) = (email, !enable)
            try await Users.administer(settings) { try await $0.setDisabled(email: email, disabled: disabled) }
        }
    }
}

/// `ferry config`: prints the effective configuration, secrets masked.
struct ShowConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration as FERRY_*= lines (secrets masked), or the table of settings.",
        discussion: SettingArguments.help(for: .config))
    @OptionGroup var settings: SettingOptions
    @Flag(help: "Print the table of every setting (docs/configuration.md) instead.") var reference = false
    @Flag(help: "Print an environment file with every setting commented out at its default, with its meaning.")
    var environmentFile = false

    func run() throws {
        if reference {
            print(FerrySetting.referenceTable, terminator: "")
        } else if environmentFile {
            print(FerrySetting.environmentFileTemplate, terminator: "")
        } else {
            _ = try settings.resolve(for: .config)
            print(EffectiveConfiguration.describe(reader: try settings.reader(for: .config)))
        }
    }
}

/// `ferry receiver`: a local webhook receiver for trying Ferry out.
struct Receiver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive webhooks on this machine, printing each delivery and whether its signatures match.",
        discussion: """
            Subscribe http://127.0.0.1:9000/ (the first start allows loopback targets) and give the subscription's \
            secret with --secret to check X-Hook0-Signature and the Standard Webhooks signature of each delivery.
            """)
    @Option(help: "The port to listen on.") var port = 9000
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The subscription's secret (a UUID), to check each delivery's signatures.") var secret: String?
    @Option(help: "The HTTP status every delivery is answered with.") var status = 200

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard (200...599).contains(status) else { throw ValidationError("--status must be from 200 to 599") }
    }

    func run() async throws {
        let receiver = EchoReceiver(
            address: ListenAddress(host: host, port: port), secret: secret?.lowercased(), status: status,
            print: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) })
        try await receiver.run()
    }
}

/// `ferry version`.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print Ferry's version.")

    func run() {
        print("ferry \(FerryVersion.current)")
    }
}
