import AsyncHTTPClient
import Biscuit
import FerryAPI
import FerryCore
import FerryDashboard
import FerryDelivery
import FerryIdentity
import FerryMail
import FerryObservability
import FerryPostgres
import FerrySQLite
import FerryStorage
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Which parts of Ferry a process runs.
public enum FerryRole: Sendable {
    /// The HTTP API and the delivery worker (`ferry serve`).
    case all
    /// The HTTP API only (`ferry api`).
    case api
    /// The delivery worker only (`ferry worker`).
    case worker
}

/// The composition root: opens storage, builds the API and the delivery worker, and runs them until SIGTERM/SIGINT.
public enum FerryServer {
    /// Runs the given role on the configured database.
    public static func run(configuration: FerryConfiguration, role: FerryRole) async throws {
        ProcessTelemetry.bootstrapLogging(format: configuration.logFormat)
        let logger = makeLogger(level: configuration.logLevel)
        if let url = configuration.postgresURL {
            let store = try await openPostgres(
                url, configuration: configuration, maximumConnections: configuration.databaseMaxConnections,
                migrate: configuration.autoMigrate, logger: logger)
            try await run(store: store, configuration: configuration, role: role, logger: logger)
        } else {
            let store = try await openSQLite(configuration)
            try await run(store: store, configuration: configuration, role: role, logger: logger)
        }
    }

    /// Applies pending migrations and returns (`ferry migrate`), answering what it did.
    public static func migrate(configuration: FerryConfiguration) async throws -> String {
        ProcessTelemetry.bootstrapLogging(format: configuration.logFormat)
        let logger = makeLogger(level: configuration.logLevel)
        if let url = configuration.postgresURL {
            let store = try await openPostgres(
                url, configuration: configuration, maximumConnections: 2, migrate: true, logger: logger)
            let version = try await store.schemaVersion()
            try await store.close()
            return "PostgreSQL at \(PostgresURL.endpoint(url)) is at schema version \(version), the latest."
        } else {
            let store = try await openSQLite(configuration)
            let version = try await store.schemaVersion()
            try await store.close()
            return "\(configuration.sqlitePath ?? "") is at schema version \(version), the latest."
        }
    }

    /// Opens PostgreSQL once it is reachable, within `database_connect_timeout` for reaching it and for its
    /// first answers (migrations included): a starting process never waits forever.
    static func openPostgres(
        _ url: String, configuration: FerryConfiguration, maximumConnections: Int, migrate: Bool, logger: Logger
    ) async throws -> PostgresStore {
        let timeout = configuration.databaseConnectTimeout
        try await StartupChecks.reachable(postgresURL: url, within: timeout)
        let opening = Task {
            try await PostgresStore.open(
                url: url, maximumConnections: maximumConnections, migrate: migrate,
                batchIngest: configuration.groupCommit, logger: logger)
        }
        let watchdog = Task {
            try await Task.sleep(for: timeout + .seconds(20))
            opening.cancel()
        }
        defer { watchdog.cancel() }
        do {
            return try await opening.value
        } catch {
            if Task.isCancelled || opening.isCancelled {
                throw StartupError(
                    "PostgreSQL at \(PostgresURL.endpoint(url)) accepts connections but did not let Ferry in: check "
                        + "the user, password and database of FERRY_DATABASE_URL (the log above says what the server "
                        + "answered)")
            }
            throw StartupError("cannot open PostgreSQL at \(PostgresURL.endpoint(url)): \(error)")
        }
    }

    static func openSQLite(_ configuration: FerryConfiguration) async throws -> SQLiteStore {
        guard let path = configuration.sqlitePath else {
            throw StartupError("FERRY_DATABASE_URL names no SQLite file")
        }
        try StartupChecks.sqliteOpenable(path)
        do {
            return try await SQLiteStore.open(path: path, groupCommit: configuration.groupCommit)
        } catch {
            throw StartupError("cannot open the SQLite database \(path): \(error)")
        }
    }

    private static func run<Store: FerryStore>(
        store: Store, configuration: FerryConfiguration, role: FerryRole, logger: Logger
    ) async throws {
        if role != .worker {
            try await StartupChecks.listenable(
                ListenAddress(host: configuration.listenHost, port: configuration.listenPort),
                hint: Settings.listen.described.hint)
        }
        if let metrics = configuration.metricsListen {
            try await StartupChecks.listenable(
                ListenAddress(host: metrics.host, port: metrics.port), hint: Settings.metricsListen.described.hint)
        }
        let tokenIssuer = try await rootKey(configuration: configuration, store: store)
        if role != .worker,
            let welcome = try await FirstStart.bootstrapIfEmpty(
                store: store, publicURL: configuration.publicURL, issuer: tokenIssuer,
                adminEmail: configuration.adminEmail, hasher: configuration.accounts.passwordHasher,
                dashboard: configuration.dashboard)
        {
            FileHandle.standardOutput.write(Data(welcome.utf8))
        }
        let httpClient = HTTPDeliverer.makeClient(configuration: configuration.delivery)
        let telemetry = ProcessTelemetry(tenantSeriesLimit: configuration.metricsTenantSeries)
        do {
            switch role {
            case .all, .api:
                let application = buildApplication(
                    configuration: configuration, store: store, httpClient: httpClient, logger: logger,
                    includeWorker: role == .all, telemetry: telemetry,
                    tokenIssuer: tokenIssuer)
                try await application.runService()
            case .worker:
                let worker = makeWorker(
                    configuration: configuration, store: store, httpClient: httpClient, logger: logger,
                    metrics: telemetry.metrics)
                let retention = makeRetention(
                    configuration: configuration, store: store, logger: logger, metrics: telemetry.metrics)
                let mail = makeMailOutbox(configuration: configuration, store: store, logger: logger)
                if let operations = operationsListener(
                    configuration: configuration, store: store, telemetry: telemetry,
                    services: [worker, retention, mail], logger: logger)
                {
                    try await operations.runService()
                } else {
                    let group = ServiceGroup(
                        configuration: .init(
                            services: [worker, retention, mail], gracefulShutdownSignals: [.sigterm, .sigint],
                            logger: logger))
                    try await group.run()
                }
            }
        } catch {
            try? await httpClient.shutdown()
            try? await store.close()
            throw error
        }
        try await httpClient.shutdown()
        try await store.close()
    }

    /// Builds the Hummingbird application serving the API over `store`, with the delivery worker as a service
    /// when `includeWorker` is set.
    public static func buildApplication<Store: FerryStore>(
        configuration: FerryConfiguration, store: Store, httpClient: HTTPClient, logger: Logger,
        includeWorker: Bool = true,
        telemetry: ProcessTelemetry = ProcessTelemetry(), tokenIssuer: TokenIssuer = .ephemeral(),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var api = apiConfiguration(configuration, telemetry: telemetry)
        api.tokenIssuer = tokenIssuer
        let router = buildRouter(store: store, configuration: api)
        if configuration.dashboard {
            Dashboard(
                store: store, configuration: api,
                oneOffDelivery: OneOffDelivery(client: httpClient, configuration: configuration.delivery)
            ).addRoutes(to: router)
        }
        var services: [any Service] =
            includeWorker
            ? [
                makeWorker(
                    configuration: configuration, store: store, httpClient: httpClient, logger: logger,
                    metrics: telemetry.metrics),
                makeRetention(configuration: configuration, store: store, logger: logger, metrics: telemetry.metrics),
                makeMailOutbox(configuration: configuration, store: store, logger: logger),
            ] : []
        if let operations = operationsListener(
            configuration: configuration, store: store, telemetry: telemetry, services: [], logger: logger)
        {
            services.append(operations)
        }
        let connectionCounts = ClientConnectionCounts(limitPerClient: configuration.maxConnectionsPerClient)
        let requestHeadTimeout = timeAmount(configuration.requestHeadTimeout)
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        ConnectionGuardHandler(counts: connectionCounts, requestHeadTimeout: requestHeadTimeout)
                    ],
                    idleTimeout: timeAmount(configuration.idleTimeout))),
            configuration: .init(
                address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: "Ferry",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections, logger: logger)),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// The Biscuit root key: the configured one, or the one kept in the database (generated by the first process
    /// that needed it; every other process and restart reads the same).
    static func rootKey<Store: FerryStore>(configuration: FerryConfiguration, store: Store) async throws -> TokenIssuer
    {
        let bytes: [UInt8]
        if let configured = configuration.biscuitPrivateKey {
            bytes = configured
        } else {
            bytes = try await store.serverKey(
                named: "biscuit_root_ed25519", storingIfAbsent: PrivateKey(generating: .ed25519).bytes)
        }
        return TokenIssuer(rootKey: try PrivateKey(algorithm: .ed25519, bytes: bytes))
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let parts = duration.components
        return .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }

    /// The separate listener of `/metrics` and the probes (`metrics_listen`), running `services` beside it; nil when
    /// no address is configured.
    private static func operationsListener<Store: FerryStore>(
        configuration: FerryConfiguration, store: Store, telemetry: ProcessTelemetry,
        services: [any Service], logger: Logger
    ) -> Hummingbird.Application<RouterResponder<FerryRequestContext>>? {
        guard let address = configuration.metricsListen else { return nil }
        let router = buildOperationsRouter(
            store: store,
            configuration: apiConfiguration(configuration, telemetry: telemetry))
        return Hummingbird.Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "Ferry"),
            services: services, logger: logger)
    }

    private static func apiConfiguration(
        _ configuration: FerryConfiguration, telemetry: ProcessTelemetry
    ) -> APIConfiguration {
        APIConfiguration(
            publicURL: configuration.publicURL, masterAPIKey: configuration.masterAPIKey,
            targetPolicy: configuration.delivery.targetPolicy, maxRequestBodyBytes: configuration.maxRequestBodyBytes,
            maxBatchEvents: configuration.maxBatchEvents, rateLimits: configuration.rateLimits,
            trustedProxies: configuration.trustedProxies,
            requestBodyTimeout: configuration.requestBodyTimeout, metrics: telemetry.metrics,
            metricsExposition: { telemetry.exposition() }, metricsToken: configuration.metricsToken,
            healthCheckKey: configuration.healthCheckKey, accounts: configuration.accounts,
            retentionDays: configuration.retentionDays,
            documentedSettings: FerrySetting.all.map(\.documented), delivery: configuration.delivery)
    }

    private static func makeRetention<Store: FerryStore>(
        configuration: FerryConfiguration, store: Store, logger: Logger, metrics: FerryMetrics
    ) -> RetentionService<Store> {
        RetentionService(
            store: store, defaultRetentionDays: configuration.retentionDays, interval: configuration.retentionInterval,
            batchSize: 500, metrics: metrics, logger: logger)
    }

    /// The outbox sender of `ferry serve` and `ferry worker`: over SMTP when `smtp_url` is set, to the log otherwise.
    private static func makeMailOutbox<Store: FerryStore>(
        configuration: FerryConfiguration, store: Store, logger: Logger
    ) -> MailOutboxService<Store> {
        let transport: any MailTransport =
            configuration.smtp.map { SMTPTransport(endpoint: $0) } ?? LogMailTransport(logger: logger)
        return MailOutboxService(
            store: store, transport: transport, sender: configuration.smtpFrom, interval: .seconds(1), logger: logger)
    }

    private static func makeWorker<Store: FerryStore>(
        configuration: FerryConfiguration, store: Store, httpClient: HTTPClient, logger: Logger, metrics: FerryMetrics
    ) -> DeliveryWorker<Store> {
        let deliverer = HTTPDeliverer(
            client: httpClient,
            targetGuard: TargetGuard(
                policy: configuration.delivery.targetPolicy, dnsTimeout: configuration.delivery.dnsTimeout),
            configuration: configuration.delivery)
        return DeliveryWorker(
            queue: store, deliverer: deliverer, configuration: configuration.delivery, logger: logger, metrics: metrics,
            operationalEvents: StoreOperationalEvents(store: store, logger: logger))
    }

    /// The process logger at the configured level.
    public static func makeLogger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "ferry")
        logger.logLevel = level
        return logger
    }
}
