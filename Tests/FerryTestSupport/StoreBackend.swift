import FerryCore
import FerryPostgres
import FerrySQLite
import FerryStorage
import Foundation
import Logging
import PostgresNIO

/// The storage backends every storage and integration suite runs against (one source, parametrized).
/// PostgreSQL joins when `FERRY_TEST_POSTGRES_URL` points at a server (scripts/test starts one).
public enum StoreBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// The URL of the test PostgreSQL server's admin database, if configured.
    public static var postgresURL: String? { ProcessInfo.processInfo.environment["FERRY_TEST_POSTGRES_URL"] }

    /// Every backend available in this run.
    public static var available: [StoreBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// Runs `body` with a fresh, migrated, empty store of this backend, then removes it.
    public func withStore<T: Sendable>(_ body: (any FerryStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let store = try await SQLiteStore.open(path: directory.path + "/ferry.sqlite")
            return try await Self.run(store, body)
        case .postgres:
            let database = try await PostgresTestDatabases.shared.create()
            let store = try await PostgresStore.open(
                url: database.url, maximumConnections: 6, operationTimeout: .seconds(120),
                logger: Logger(label: "test-postgres"))
            do {
                let result = try await Self.run(store, body)
                await PostgresTestDatabases.shared.drop(database.name)
                return result
            } catch {
                await PostgresTestDatabases.shared.drop(database.name)
                throw error
            }
        }
    }

    /// A URL for a fresh, empty database of this backend (for tests that run the `ferry` binary), and its cleanup.
    public func freshDatabaseURL(in directory: TemporaryDirectory) async throws -> String {
        switch self {
        case .sqlite: return "sqlite:\(directory.path)/ferry.sqlite"
        case .postgres: return try await PostgresTestDatabases.shared.create().url
        }
    }

    private static func run<T: Sendable>(_ store: any FerryStore, _ body: (any FerryStore) async throws -> T)
        async throws -> T
    {
        do {
            let result = try await body(store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// Creates and drops one database per test on the test PostgreSQL server.
public actor PostgresTestDatabases {
    public static let shared = PostgresTestDatabases()

    private var client: PostgresClient?
    private var runner: Task<Void, Never>?

    private func adminClient() throws -> PostgresClient {
        if let client { return client }
        guard let url = StoreBackend.postgresURL, let components = URLComponents(string: url) else {
            throw PostgresTestError(message: "FERRY_TEST_POSTGRES_URL is not set")
        }
        var configuration = PostgresClient.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password, database: "postgres", tls: .disable)
        configuration.options.maximumConnections = 4
        var logger = Logger(label: "test-postgres-admin")
        logger.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        runner = Task { await client.run() }
        self.client = client
        return client
    }

    /// Creates an empty database; returns its name and URL.
    public func create() async throws -> (name: String, url: String) {
        guard let url = StoreBackend.postgresURL, var components = URLComponents(string: url) else {
            throw PostgresTestError(message: "FERRY_TEST_POSTGRES_URL is not set")
        }
        let name = "ferry_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await adminClient().query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        components.path = "/" + name
        return (name, components.string ?? url)
    }

    /// Drops a database made by `create()` (ignoring failures: the cluster is thrown away after the run).
    public func drop(_ name: String) async {
        _ = try? await adminClient().query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
    }
}

/// The test PostgreSQL server is not usable.
public struct PostgresTestError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A fresh directory under the system temporary directory.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "ferry-test-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
