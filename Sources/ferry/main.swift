import ArgumentParser
import FerryCore
import FerryServer
import Foundation

/// The `ferry` command: thin sub-commands over FerryServer.
@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ferry: a Hook0-compatible webhooks server.",
        subcommands: [Serve.self, API.self, Worker.self, Migrate.self, Users.self, ShowConfig.self, Version.self],
        defaultSubcommand: Serve.self)
}

/// Options shared by commands that read the configuration; each overrides its `FERRY_*` variable.
struct SettingOptions: ParsableArguments {
    @Option(help: "Address of the HTTP API (FERRY_LISTEN).") var listen: String?
    @Option(help: "sqlite:PATH or postgres://… (FERRY_DATABASE_URL).") var databaseUrl: String?
    @Option(help: "PostgreSQL pool size (FERRY_DATABASE_MAX_CONNECTIONS).") var databaseMaxConnections: String?
    @Option(help: "Migrate at start: true/false (FERRY_AUTO_MIGRATE).") var autoMigrate: String?
    @Option(help: "Master API key, a UUID (FERRY_MASTER_API_KEY).") var masterApiKey: String?
    @Option(help: "Base URL for links (FERRY_PUBLIC_URL).") var publicUrl: String?
    @Option(help: "Serve the web dashboard: true/false (FERRY_DASHBOARD).") var dashboard: String?
    @Option(help: "CIDRs exempt from the target guard (FERRY_ALLOWED_TARGET_NETWORKS).") var allowedTargetNetworks:
        String?
    @Option(help: "Refuse http:// targets: true/false (FERRY_HTTPS_ONLY).") var httpsOnly: String?
    @Option(help: "Retry delays, e.g. 3s,10s,3m (FERRY_RETRY_SCHEDULE).") var retrySchedule: String?
    @Option(help: "Retries after the first attempt (FERRY_MAX_RETRIES).") var maxRetries: String?
    @Option(help: "Retry jitter ratio (FERRY_RETRY_JITTER).") var retryJitter: String?
    @Option(help: "Deliveries in flight (FERRY_WORKER_CONCURRENCY).") var workerConcurrency: String?
    @Option(help: "Connect timeout (FERRY_CONNECT_TIMEOUT).") var connectTimeout: String?
    @Option(help: "Total delivery timeout (FERRY_DELIVERY_TIMEOUT).") var deliveryTimeout: String?
    @Option(help: "Stored response body bytes (FERRY_RESPONSE_BODY_LIMIT).") var responseBodyLimit: String?
    @Option(help: "Delivery lease (FERRY_LEASE).") var lease: String?
    @Option(help: "Signature versions v0,v1 (FERRY_SIGNATURE_VERSIONS).") var signatureVersions: String?
    @Option(help: "Share commits among concurrent ingests: true/false (FERRY_GROUP_COMMIT).") var groupCommit: String?
    @Option(help: "Largest request body in bytes (FERRY_MAX_REQUEST_BODY).") var maxRequestBody: String?
    @Option(help: "Time allowed to send a request body (FERRY_REQUEST_BODY_TIMEOUT).") var requestBodyTimeout: String?
    @Option(help: "Idle keep-alive connection timeout (FERRY_IDLE_TIMEOUT).") var idleTimeout: String?
    @Option(help: "Open client connections per process (FERRY_MAX_CONNECTIONS).") var maxConnections: String?
    @Option(help: "Open connections per client address, 0 for no cap (FERRY_MAX_CONNECTIONS_PER_CLIENT).")
    var maxConnectionsPerClient: String?
    @Option(help: "Time a new connection has to send its request head (FERRY_REQUEST_HEAD_TIMEOUT).")
    var requestHeadTimeout: String?
    @Option(help: "Per-application target guard exemptions (FERRY_ALLOWED_TARGET_NETWORKS_BY_APPLICATION).")
    var allowedTargetNetworksByApplication: String?
    @Option(help: "Ed25519 Biscuit root key, 64 hex characters (FERRY_BISCUIT_PRIVATE_KEY).")
    var biscuitPrivateKey: String?
    @Option(help: "Days events are kept (FERRY_RETENTION_DAYS).") var retentionDays: String?
    @Option(help: "How often expired events are deleted (FERRY_RETENTION_INTERVAL).") var retentionInterval: String?
    @Option(help: "Log level (FERRY_LOG_LEVEL).") var logLevel: String?
    @Option(help: "Log format: text or json (FERRY_LOG_FORMAT).") var logFormat: String?
    @Option(help: "Bearer token for /metrics (FERRY_METRICS_TOKEN).") var metricsToken: String?
    @Option(help: "Key for /api/v1/health?key= (FERRY_HEALTH_CHECK_KEY).") var healthCheckKey: String?
    @Option(help: "Separate metrics and probes listener (FERRY_METRICS_LISTEN).") var metricsListen: String?
    @Option(help: "Applications/event types with own metric series (FERRY_METRICS_TENANT_SERIES).")
    var metricsTenantSeries: String?
    @Option(help: "true: POST /register answers 410 (FERRY_DISABLE_REGISTRATION).") var disableRegistration: String?
    @Option(help: "Fewest characters of a new password (FERRY_PASSWORD_MINIMUM_LENGTH).")
    var passwordMinimumLength: String?
    @Option(help: "scrypt cost of new password hashes, log2 N (FERRY_PASSWORD_HASH_COST).")
    var passwordHashCost: String?
    @Option(help: "Failed sign-ins per account before 429 (FERRY_LOGIN_MAX_FAILURES).") var loginMaxFailures: String?
    @Option(help: "Failed sign-ins per client address before 429 (FERRY_LOGIN_MAX_FAILURES_PER_ADDRESS).")
    var loginMaxFailuresPerAddress: String?
    @Option(help: "Window failed sign-ins are counted in (FERRY_LOGIN_FAILURE_WINDOW).") var loginFailureWindow: String?
    @Option(help: "SMTP server for account mails (FERRY_SMTP_URL).") var smtpUrl: String?
    @Option(help: "Sender of account mails (FERRY_SMTP_FROM).") var smtpFrom: String?
    @Option(help: "E-mail of the administrator the first start creates (FERRY_ADMIN_EMAIL).") var adminEmail: String?

    func resolve() throws -> FerryConfiguration {
        let given: [(String, String?)] = [
            ("listen", listen), ("database_url", databaseUrl), ("master_api_key", masterApiKey),
            ("database_max_connections", databaseMaxConnections), ("auto_migrate", autoMigrate),
            ("public_url", publicUrl), ("dashboard", dashboard), ("allowed_target_networks", allowedTargetNetworks),
            ("https_only", httpsOnly),
            ("retry_schedule", retrySchedule), ("max_retries", maxRetries), ("retry_jitter", retryJitter),
            ("worker_concurrency", workerConcurrency), ("connect_timeout", connectTimeout),
            ("delivery_timeout", deliveryTimeout), ("response_body_limit", responseBodyLimit), ("lease", lease),
            ("signature_versions", signatureVersions), ("group_commit", groupCommit),
            ("max_request_body", maxRequestBody), ("request_body_timeout", requestBodyTimeout),
            ("idle_timeout", idleTimeout), ("max_connections", maxConnections), ("log_level", logLevel),
            ("retention_days", retentionDays), ("retention_interval", retentionInterval), ("log_format", logFormat),
            ("metrics_token", metricsToken), ("health_check_key", healthCheckKey),
            ("metrics_listen", metricsListen), ("metrics_tenant_series", metricsTenantSeries),
            ("max_connections_per_client", maxConnectionsPerClient), ("request_head_timeout", requestHeadTimeout),
            ("allowed_target_networks_by_application", allowedTargetNetworksByApplication),
            ("biscuit_private_key", biscuitPrivateKey), ("disable_registration", disableRegistration),
            ("password_minimum_length", passwordMinimumLength), ("password_hash_cost", passwordHashCost),
            ("login_max_failures", loginMaxFailures),
            ("login_max_failures_per_address", loginMaxFailuresPerAddress),
            ("login_failure_window", loginFailureWindow), ("smtp_url", smtpUrl), ("smtp_from", smtpFrom),
            ("admin_email", adminEmail),
        ]
        let overrides = Dictionary(given.compactMap { name, value in value.map { (name, $0) } }) { first, _ in first }
        let reader = ConfigurationSources.reader(overrides: overrides, environment: ProcessInfo.processInfo.environment)
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
    var settings: SettingOptions { get }
}

extension RoleCommand {
    func run() async throws {
        try await FerryServer.run(configuration: try settings.resolve(), role: Self.role)
    }
}

/// `ferry serve`: the API and the delivery worker in one process.
struct Serve: RoleCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API and the delivery worker.")
    static let role = FerryRole.all
    @OptionGroup var settings: SettingOptions
}

/// `ferry api`: the HTTP API only (scale it out beside `ferry worker` processes on PostgreSQL).
struct API: RoleCommand {
    static let configuration = CommandConfiguration(commandName: "api", abstract: "Run the HTTP API only.")
    static let role = FerryRole.api
    @OptionGroup var settings: SettingOptions
}

/// `ferry worker`: the delivery worker only.
struct Worker: RoleCommand {
    static let configuration = CommandConfiguration(abstract: "Run the delivery worker only.")
    static let role = FerryRole.worker
    @OptionGroup var settings: SettingOptions
}

/// `ferry migrate`: applies pending database migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")
    @OptionGroup var settings: SettingOptions

    func run() async throws {
        try await FerryServer.migrate(configuration: try settings.resolve())
    }
}

/// `ferry users`: accounts, against the configured database.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, create, verify, reset or disable accounts.",
        subcommands: [List.self, Create.self, Verify.self, ResetPassword.self, Disable.self])

    /// Runs `body` with the administration of the configured database, printing its answer.
    static func administer(
        _ settings: SettingOptions, _ body: @Sendable @escaping (UserAdministration) async throws -> String
    ) async throws {
        let configuration = try settings.resolve()
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
        @OptionGroup var settings: SettingOptions
        @Argument(help: "The account's e-mail address.") var email: String
        @Option(help: "First name.") var firstName: String = "New"
        @Option(help: "Last name.") var lastName: String = "User"
        @Option(help: "The password (it must meet the password policy).") var password: String?
        func run() async throws {
            let (email, firstName, lastName, password) = (email, firstName, lastName, password)
            try await Users.administer(settings) {
                try await $0.create(email: email, firstName: firstName, lastName: lastName, password: password)
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an account's e-mail address verified.")
        @OptionGroup var settings: SettingOptions
        @Argument(help: "The account's e-mail address.") var email: String
        func run() async throws {
            let email = email
            try await Users.administer(settings) { try await $0.verify(email: email) }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password (generated unless --password is given) and end the account's sessions.")
        @OptionGroup var settings: SettingOptions
        @Argument(help: "The account's e-mail address.") var email: String
        @Option(help: "The new password.") var password: String?
        func run() async throws {
            let (email, password) = (email, password)
            try await Users.administer(settings) { try await $0.resetPassword(email: email, password: password) }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account (its sessions end at once); --enable re-enables it.")
        @OptionGroup var settings: SettingOptions
        @Argument(help: "The account's e-mail address.") var email: String
        @Flag(help: "Re-enable the account instead.") var enable = false
        func run() async throws {
            let (email, disabled) = (email, !enable)
            try await Users.administer(settings) { try await $0.setDisabled(email: email, disabled: disabled) }
        }
    }
}

/// `ferry config`: prints the effective configuration, secrets masked.
struct ShowConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Print the effective configuration.")
    @OptionGroup var settings: SettingOptions
    @Flag(help: "Print the table of every setting (docs/configuration.md) instead.") var reference = false

    func run() throws {
        if reference {
            print(FerrySetting.referenceTable, terminator: "")
        } else {
            print(EffectiveConfiguration.describe(try settings.resolve()))
        }
    }
}

/// `ferry version`.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print Ferry's version.")

    func run() {
        print("ferry \(FerryVersion.current)")
    }
}
