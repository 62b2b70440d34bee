import Biscuit
import Configuration
import FerryAPI
import FerryCore
import FerryDelivery
import FerryIdentity
import FerryMail
import Foundation
import Logging

/// Ferry's effective configuration, read once at start-up: command-line flags, then `FERRY_*` environment
/// variables, then defaults.
public struct FerryConfiguration: Sendable {
    public var listenHost: String
    public var listenPort: Int
    public var databaseURL: String
    public var masterAPIKey: String?
    /// The configured Biscuit root key (32 bytes), or nil to use the one kept in the database.
    public var biscuitPrivateKey: [UInt8]?
    public var publicURL: String
    public var delivery: DeliveryConfiguration
    public var logLevel: Logger.Level
    /// Days events are kept unless their application sets its own retention.
    public var retentionDays: Int
    /// How often expired events are deleted.
    public var retentionInterval: Duration
    /// How log lines are written.
    public var logFormat: LogFormat
    /// The bearer token `/metrics` requires, if any; without one the API port serves no metrics.
    public var metricsToken: String?
    /// Where a separate listener serves metrics and probes, if anywhere.
    public var metricsListen: (host: String, port: Int)?
    /// How many application/event-type pairs get metric series of their own.
    public var metricsTenantSeries: Int
    /// The `?key=` `/api/v1/health` requires, if any.
    public var healthCheckKey: String?
    /// PostgreSQL pool size per process.
    public var databaseMaxConnections: Int
    /// Whether start-up applies pending migrations.
    public var autoMigrate: Bool
    /// Whether concurrent ingests share commits (group commit / batched inserts).
    public var groupCommit: Bool
    /// Whether the API process also serves the web dashboard.
    public var dashboard: Bool
    /// Largest request body in bytes.
    public var maxRequestBodyBytes: Int
    /// Time allowed for a request body to arrive.
    public var requestBodyTimeout: Duration
    /// Idle keep-alive connections are closed after this.
    public var idleTimeout: Duration
    /// Open client connections per process.
    public var maxConnections: Int
    /// A connection that sends no complete request head this long after connecting is closed.
    public var requestHeadTimeout: Duration
    /// Open connections one client address may hold; 0 for no cap.
    public var maxConnectionsPerClient: Int
    /// Registration, password and sign-in settings of the API.
    public var accounts: AccountSettings
    /// The SMTP server account mails go through, or nil to write them to the log.
    public var smtp: SMTPEndpoint?
    /// The sender of account mails.
    public var smtpFrom: String
    /// The e-mail address of the administrator account the first start creates.
    public var adminEmail: String

    /// Reads every setting of `FerrySetting.all` from `reader`, failing with a message naming the bad setting.
    public init(reader: ConfigReader) throws(ConfigurationError) {
        func value(_ name: String) -> String {
            guard let setting = FerrySetting.all.first(where: { $0.name == name }) else { return "" }
            return reader.string(forKey: ConfigKey(stringLiteral: setting.key), isSecret: setting.isSecret)
                ?? setting.defaultValue
        }
        func fail(_ name: String, _ reason: String) -> ConfigurationError {
            ConfigurationError(setting: name, reason: reason)
        }
        let listen = value("listen")
        guard let (host, port) = Self.parseListen(listen) else {
            throw fail("listen", "`\(listen)` is not host:port")
        }
        listenHost = host
        listenPort = port
        databaseURL = value("database_url")
        let master = value("master_api_key").trimmingCharacters(in: .whitespaces)
        if !master.isEmpty, UUID(uuidString: master) == nil {
            throw fail("master_api_key", "must be a UUID")
        }
        masterAPIKey = master.isEmpty ? nil : master.lowercased()
        let rootKey = value("biscuit_private_key").trimmingCharacters(in: .whitespaces)
        if rootKey.isEmpty {
            biscuitPrivateKey = nil
        } else {
            guard let bytes = Hex.decode(rootKey), bytes.count == 32 else {
                throw fail("biscuit_private_key", "expected 64 hexadecimal characters (an Ed25519 private key)")
            }
            biscuitPrivateKey = bytes
        }
        let configuredURL = value("public_url")
        publicURL = configuredURL.isEmpty ? "http://\(listen)" : configuredURL
        var delivery = DeliveryConfiguration()
        let networks = value("allowed_target_networks").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        .filter { !$0.isEmpty }
        delivery.allowedTargetNetworks = try networks.map { text throws(ConfigurationError) in
            guard let cidr = CIDR(text) else { throw fail("allowed_target_networks", "`\(text)` is not a CIDR") }
            return cidr
        }
        switch TargetPolicy.parseNetworksByApplication(value("allowed_target_networks_by_application")) {
        case .success(let byApplication): delivery.allowedTargetNetworksByApplication = byApplication
        case .failure(let failure):
            throw fail(
                "allowed_target_networks_by_application",
                "`\(failure.entry)` is not APPLICATION_ID=CIDR[,CIDR…] (entries separated by `;`)")
        }
        delivery.httpsOnly = try Self.flag(value("https_only"), "https_only")
        guard let schedule = RetryPolicy.parseSchedule(value("retry_schedule")) else {
            throw fail("retry_schedule", "expected durations like 3s,10s,3m")
        }
        guard let maxRetries = Int(value("max_retries")), maxRetries >= 0 else {
            throw fail("max_retries", "expected a whole number ≥ 0")
        }
        guard let jitter = Double(value("retry_jitter")), (0...1).contains(jitter) else {
            throw fail("retry_jitter", "expected a ratio between 0 and 1")
        }
        delivery.retryPolicy = RetryPolicy(schedule: schedule, maxRetries: maxRetries, jitterRatio: jitter)
        guard let concurrency = Int(value("worker_concurrency")), concurrency >= 1 else {
            throw fail("worker_concurrency", "expected a whole number ≥ 1")
        }
        delivery.concurrency = concurrency
        delivery.claimBatchSize = min(concurrency, 64)
        delivery.connectTimeout = try Self.duration(value("connect_timeout"), "connect_timeout")
        delivery.totalTimeout = try Self.duration(value("delivery_timeout"), "delivery_timeout")
        delivery.lease = try Self.duration(value("lease"), "lease")
        guard delivery.lease > delivery.totalTimeout else {
            throw fail("lease", "must be longer than delivery_timeout")
        }
        guard let bodyLimit = Int(value("response_body_limit")), bodyLimit >= 0 else {
            throw fail("response_body_limit", "expected a whole number of bytes")
        }
        delivery.responseBodyLimit = bodyLimit
        var versions = Set<Hook0Signature.Version>()
        for part in value("signature_versions").split(separator: ",") {
            guard let version = Hook0Signature.Version(rawValue: part.trimmingCharacters(in: .whitespaces)) else {
                throw fail("signature_versions", "expected v0, v1 or both")
            }
            versions.insert(version)
        }
        guard !versions.isEmpty else { throw fail("signature_versions", "expected v0, v1 or both") }
        delivery.signatureVersions = versions
        self.delivery = delivery
        guard let level = Logger.Level(rawValue: value("log_level").lowercased()) else {
            throw fail("log_level", "expected trace, debug, info, notice, warning, error or critical")
        }
        logLevel = level
        guard let format = LogFormat(rawValue: value("log_format").lowercased()) else {
            throw fail("log_format", "expected text or json")
        }
        logFormat = format
        guard let days = Int(value("retention_days")), (1...36_500).contains(days) else {
            throw fail("retention_days", "expected a whole number of days from 1 to 36500")
        }
        retentionDays = days
        retentionInterval = try Self.duration(value("retention_interval"), "retention_interval")
        let token = value("metrics_token")
        metricsToken = token.isEmpty ? nil : token
        let key = value("health_check_key")
        healthCheckKey = key.isEmpty ? nil : key
        let metricsAddress = value("metrics_listen")
        if metricsAddress.isEmpty {
            metricsListen = nil
        } else {
            guard let address = Self.parseListen(metricsAddress) else {
                throw fail("metrics_listen", "expected host:port, e.g. 127.0.0.1:9464")
            }
            metricsListen = address
        }
        guard let tenantSeries = Int(value("metrics_tenant_series")), tenantSeries >= 0 else {
            throw fail("metrics_tenant_series", "expected a whole number ≥ 0")
        }
        metricsTenantSeries = tenantSeries
        groupCommit = try Self.flag(value("group_commit"), "group_commit")
        autoMigrate = try Self.flag(value("auto_migrate"), "auto_migrate")
        dashboard = try Self.flag(value("dashboard"), "dashboard")
        guard let connections = Int(value("database_max_connections")), connections >= 2 else {
            throw fail("database_max_connections", "expected a whole number ≥ 2")
        }
        databaseMaxConnections = connections
        guard let bodyBytes = Int(value("max_request_body")), bodyBytes >= 1024 else {
            throw fail("max_request_body", "expected a whole number of bytes ≥ 1024")
        }
        maxRequestBodyBytes = bodyBytes
        requestBodyTimeout = try Self.duration(value("request_body_timeout"), "request_body_timeout")
        idleTimeout = try Self.duration(value("idle_timeout"), "idle_timeout")
        guard let maxConnections = Int(value("max_connections")), maxConnections >= 1 else {
            throw fail("max_connections", "expected a whole number ≥ 1")
        }
        self.maxConnections = maxConnections
        requestHeadTimeout = try Self.duration(value("request_head_timeout"), "request_head_timeout")
        guard let perClient = Int(value("max_connections_per_client")), perClient >= 0 else {
            throw fail("max_connections_per_client", "expected a whole number ≥ 0 (0: no cap)")
        }
        maxConnectionsPerClient = perClient
        guard let minimumLength = Int(value("password_minimum_length")), (8...100).contains(minimumLength) else {
            throw fail("password_minimum_length", "expected a whole number from 8 to 100")
        }
        guard let perAccount = Int(value("login_max_failures")), perAccount >= 1 else {
            throw fail("login_max_failures", "expected a whole number ≥ 1")
        }
        guard let perAddress = Int(value("login_max_failures_per_address")), perAddress >= 1 else {
            throw fail("login_max_failures_per_address", "expected a whole number ≥ 1")
        }
        guard let hashCost = Int(value("password_hash_cost")), (10...20).contains(hashCost) else {
            throw fail("password_hash_cost", "expected a whole number from 10 to 20")
        }
        accounts = AccountSettings(
            registrationDisabled: try Self.flag(value("disable_registration"), "disable_registration"),
            passwordPolicy: PasswordPolicy(minimumLength: minimumLength),
            passwordHasher: PasswordHasher(
                cost: .init(
                    logN: hashCost, blockSize: PasswordHasher.Cost.standard.blockSize,
                    parallelism: PasswordHasher.Cost.standard.parallelism)),
            maxLoginFailuresPerAccount: perAccount,
            maxLoginFailuresPerAddress: perAddress,
            loginFailureWindow: try Self.duration(value("login_failure_window"), "login_failure_window"))
        let smtpURL = value("smtp_url")
        if smtpURL.isEmpty {
            smtp = nil
        } else {
            do {
                smtp = try SMTPEndpoint(url: smtpURL)
            } catch {
                throw fail("smtp_url", error.description)
            }
        }
        smtpFrom = value("smtp_from")
        guard (try? SMTPTransport.address(smtpFrom)).map(EmailAddress.isValid) == true else {
            throw fail("smtp_from", "expected an address like Ferry <ferry@example.com>")
        }
        adminEmail = value("admin_email")
        guard EmailAddress.isValid(adminEmail) else { throw fail("admin_email", "expected an e-mail address") }
        guard sqlitePath != nil || postgresURL != nil else {
            throw fail("database_url", "`\(databaseURL)` is neither sqlite:PATH nor postgres://…")
        }
    }

    /// The PostgreSQL URL, when the database URL is `postgres://` or `postgresql://`.
    public var postgresURL: String? {
        let lowered = databaseURL.lowercased()
        return lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") ? databaseURL : nil
    }

    private static func flag(_ text: String, _ name: String) throws(ConfigurationError) -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError(setting: name, reason: "expected true or false")
        }
    }

    /// The SQLite file path from a `sqlite:PATH` database URL.
    public var sqlitePath: String? {
        guard databaseURL.hasPrefix("sqlite:") else { return nil }
        var path = String(databaseURL.dropFirst("sqlite:".count))
        if path.hasPrefix("//") { path.removeFirst(2) }
        return path.isEmpty ? nil : path
    }

    static func parseListen(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    private static func duration(_ text: String, _ name: String) throws(ConfigurationError) -> Duration {
        guard let seconds = DurationText.seconds(text), seconds > 0 else {
            throw ConfigurationError(setting: name, reason: "`\(text)` is not a duration like 5s or 250ms")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

/// A setting with a value Ferry cannot use.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var setting: String
    public var reason: String

    public var description: String {
        "invalid FERRY_\(setting.uppercased()) / --\(setting.replacingOccurrences(of: "_", with: "-")): \(reason)"
    }
}
