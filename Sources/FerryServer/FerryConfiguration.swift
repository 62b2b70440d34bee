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
    /// Most events of one batch ingest request.
    public var maxBatchEvents: Int
    /// The API's rate limits as they apply to this process (none when off, or `auto` on a loopback address).
    public var rateLimits: RateLimits
    /// Reverse proxies believed about the client they forward for.
    public var trustedProxies: [CIDR]
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

    /// How long a starting process tries to reach PostgreSQL.
    public var databaseConnectTimeout: Duration
    /// Where the data is kept.
    public var database: DatabaseLocation

    /// Reads every setting (`Settings`) from `reader`, failing with a message naming the bad setting.
    public init(reader: ConfigReader) throws(ConfigurationError) {
        func value<Value>(_ setting: Setting<Value>) throws(ConfigurationError) -> Value {
            let text =
                reader.string(
                    forKey: ConfigKey(stringLiteral: "ferry." + setting.name), isSecret: setting.display != .plain)
                ?? setting.defaultText
            switch setting.parse(text) {
            case .success(let value): return value
            case .failure(let refusal): throw ConfigurationError(setting: setting.name, reason: refusal.reason)
            }
        }
        let listen = try value(Settings.listen)
        listenHost = listen.host
        listenPort = listen.port
        database = try value(Settings.databaseURL)
        databaseConnectTimeout = try value(Settings.databaseConnectTimeout)
        masterAPIKey = try value(Settings.masterAPIKey)
        biscuitPrivateKey = try value(Settings.biscuitPrivateKey)
        publicURL = try value(Settings.publicURL) ?? "http://\(listen)"
        var delivery = DeliveryConfiguration()
        delivery.allowedTargetNetworks = try value(Settings.allowedTargetNetworks)
        delivery.allowedTargetNetworksByApplication = try value(Settings.allowedTargetNetworksByApplication)
        delivery.httpsOnly = try value(Settings.httpsOnly)
        delivery.retryPolicy = RetryPolicy(
            schedule: try value(Settings.retrySchedule), maxRetries: try value(Settings.maxRetries),
            jitterRatio: try value(Settings.retryJitter))
        delivery.failingRule = FailingSubscriptionRule(span: try value(Settings.disableFailingAfter))
        let circuitThreshold = try value(Settings.circuitBreakerThreshold)
        delivery.circuitPolicy = CircuitBreakerPolicy(
            failureThreshold: circuitThreshold == 0 ? nil : circuitThreshold,
            openFor: try value(Settings.circuitBreakerOpenFor))
        delivery.concurrency = try value(Settings.workerConcurrency)
        delivery.claimBatchSize = min(delivery.concurrency, 64)
        delivery.connectTimeout = try value(Settings.connectTimeout)
        delivery.totalTimeout = try value(Settings.deliveryTimeout)
        delivery.lease = try value(Settings.lease)
        guard delivery.lease > delivery.totalTimeout else {
            throw ConfigurationError(setting: Settings.lease.name, reason: "must be longer than delivery_timeout")
        }
        delivery.responseBodyLimit = try value(Settings.responseBodyLimit)
        delivery.signatureVersions = Set(try value(Settings.signatureVersions).compactMap(Hook0Signature.Version.init))
        self.delivery = delivery
        logLevel = try value(Settings.logLevel)
        logFormat = try value(Settings.logFormat)
        retentionDays = try value(Settings.retentionDays)
        retentionInterval = try value(Settings.retentionInterval)
        metricsToken = try value(Settings.metricsToken)
        healthCheckKey = try value(Settings.healthCheckKey)
        metricsListen = try value(Settings.metricsListen).map { ($0.host, $0.port) }
        metricsTenantSeries = try value(Settings.metricsTenantSeries)
        groupCommit = try value(Settings.groupCommit)
        autoMigrate = try value(Settings.autoMigrate)
        dashboard = try value(Settings.dashboard)
        databaseMaxConnections = try value(Settings.databaseMaxConnections)
        maxRequestBodyBytes = try value(Settings.maxRequestBody)
        maxBatchEvents = try value(Settings.ingestBatchMaxEvents)
        let rateLimitMode = try value(Settings.rateLimits)
        let listening = try value(Settings.listen)
        trustedProxies = try value(Settings.trustedProxies)
        let limited =
            rateLimitMode == .on
            || (rateLimitMode == .auto && (!Self.isLoopback(listening.host) || !trustedProxies.isEmpty))
        // Read (and so checked) whether or not they apply here.
        let global = try value(Settings.rateLimitGlobal)
        let perClient = try value(Settings.rateLimitPerClient)
        let perCredential = try value(Settings.rateLimitPerCredential)
        rateLimits = RateLimits(
            global: limited ? global : nil, perClient: limited ? perClient : nil,
            perCredential: limited ? perCredential : nil)
        requestBodyTimeout = try value(Settings.requestBodyTimeout)
        idleTimeout = try value(Settings.idleTimeout)
        maxConnections = try value(Settings.maxConnections)
        requestHeadTimeout = try value(Settings.requestHeadTimeout)
        maxConnectionsPerClient = try value(Settings.maxConnectionsPerClient)
        accounts = AccountSettings(
            registrationDisabled: try value(Settings.disableRegistration),
            passwordPolicy: PasswordPolicy(minimumLength: try value(Settings.passwordMinimumLength)),
            passwordHasher: PasswordHasher(
                cost: .init(
                    logN: try value(Settings.passwordHashCost), blockSize: PasswordHasher.Cost.standard.blockSize,
                    parallelism: PasswordHasher.Cost.standard.parallelism)),
            maxLoginFailuresPerAccount: try value(Settings.loginMaxFailures),
            maxLoginFailuresPerAddress: try value(Settings.loginMaxFailuresPerAddress),
            loginFailureWindow: try value(Settings.loginFailureWindow))
        smtp = try value(Settings.smtpURL)
        smtpFrom = try value(Settings.smtpFrom)
        adminEmail = try value(Settings.adminEmail)
    }

    /// The PostgreSQL URL, when the data is kept in PostgreSQL.
    public var postgresURL: String? {
        if case .postgres(let url) = database { return url }
        return nil
    }

    /// The SQLite file, when the data is kept in SQLite.
    public var sqlitePath: String? {
        if case .sqlite(let path) = database { return path }
        return nil
    }

    /// Whether a listen host reaches this machine only (`localhost`, 127.0.0.0/8, ::1).
    static func isLoopback(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        guard let address = IPAddress(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) else {
            return false
        }
        return ["127.0.0.0/8", "::1/128"].compactMap(CIDR.init).contains { $0.contains(address) }
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
