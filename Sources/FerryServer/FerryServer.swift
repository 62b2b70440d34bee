import AsyncHTTPClient
import FerryAPI
import FerryCore
import FerryDelivery
import FerrySQLite
import FerryStorage
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The composition root: opens storage, builds the API and the delivery worker, and runs them until SIGTERM/SIGINT.
public enum FerryServer {
    /// Opens the configured backend and applies migrations.
    public static func openStore(_ configuration: FerryConfiguration) async throws -> SQLiteStore {
        guard let path = configuration.sqlitePath else {
            throw ConfigurationError(
                setting: "database_url", reason: "`\(configuration.databaseURL)` is not supported; use sqlite:PATH")
        }
        return try await SQLiteStore.open(path: path, groupCommit: configuration.sqliteGroupCommit)
    }

    /// Builds the Hummingbird application serving the API over `store`, with the delivery worker as a service.
    public static func buildApplication<Store: FerryStore>(
        configuration: FerryConfiguration, store: Store, httpClient: HTTPClient, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = buildRouter(
            store: store,
            configuration: APIConfiguration(
                publicURL: configuration.publicURL, masterAPIKey: configuration.masterAPIKey),
            logger: logger)
        let deliverer = HTTPDeliverer(
            client: httpClient,
            targetGuard: TargetGuard(
                allowedNetworks: configuration.delivery.allowedTargetNetworks,
                dnsTimeout: configuration.delivery.dnsTimeout),
            configuration: configuration.delivery)
        let worker = DeliveryWorker(
            queue: store, deliverer: deliverer, configuration: configuration.delivery, logger: logger)
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: "Ferry"),
            services: [worker],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs `ferry serve`: API and worker in one process on the configured database.
    public static func serve(configuration: FerryConfiguration) async throws {
        let logger = makeLogger(level: configuration.logLevel)
        let store = try await openStore(configuration)
        if let welcome = try await FirstStart.bootstrapIfEmpty(store: store, publicURL: configuration.publicURL) {
            FileHandle.standardOutput.write(Data(welcome.utf8))
        }
        let httpClient = HTTPDeliverer.makeClient(configuration: configuration.delivery)
        let application = buildApplication(
            configuration: configuration, store: store, httpClient: httpClient, logger: logger)
        do {
            try await application.runService()
        } catch {
            try? await httpClient.shutdown()
            try? await store.close()
            throw error
        }
        try await httpClient.shutdown()
        try await store.close()
    }

    /// The process logger at the configured level.
    public static func makeLogger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "ferry")
        logger.logLevel = level
        return logger
    }
}
