import FerryCore
import FerryStorage
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// Ferry's scale-out backend: any number of API and worker processes share one PostgreSQL database.
/// Workers claim with `FOR UPDATE SKIP LOCKED` under a lease, and `LISTEN/NOTIFY` wakes idle workers.
public final class PostgresStore: FerryStore {
    /// The channel on which committed work is announced.
    static let workChannel = "ferry_work"
    /// The advisory lock key of `withSetupLock` ("ferry_su").
    static let setupLockKey: Int64 = 0x6665_7272_795f_7375

    /// The connection pool.
    let pool: PostgresClient
    /// The pool behind a deadline: single statements that cannot get an answer in time fail as transient.
    let client: DeadlineClient
    let logger: Logger
    /// The pool's size; one connection is kept for `LISTEN`.
    let maximumConnections: Int
    public let workSignal: WorkSignal
    /// Shares transactions among concurrent ingests.
    let ingestBatcher: StatementBatcher<Event, Event>
    /// Shares transactions among concurrent delivery outcomes.
    let outcomeBatcher: StatementBatcher<OutcomeRecord, Bool>
    private let tasks: Task<Void, Never>

    /// Connects to `url` (`postgres://user:password@host:port/database`), starts the pool and the work
    /// listener, and applies migrations unless `migrate` is false.
    /// - Parameters:
    ///   - operationTimeout: longest a statement or transaction may wait for a connection and an answer before it
    ///     fails as transient (the API's 503); keeps requests from hanging while the server is away.
    ///   - batchIngest: write concurrent ingests (and delivery outcomes) together, one transaction for many;
    ///     `false` gives every one its own transaction (only to measure the difference).
    public static func open(
        url: String, maximumConnections: Int = 20, migrate: Bool = true, operationTimeout: Duration = .seconds(5),
        batchIngest: Bool = true, logger: Logger
    ) async throws -> PostgresStore {
        var configuration = try PostgresURL.configuration(url)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        // PostgresNIO 1.33's pool stops the process on a precondition when it holds fewer than
        // `minimumConnections` (after the server restarted, say) and a request needs a new one; so the pool
        // keeps no minimum. It arms an idle timer with `Task.sleep` each time a connection goes idle, and a
        // cancelled sleep holds its memory until its deadline: a short idle timeout bounds those dead timers
        // (about one per statement for 3 s) and closes connections a quiet process no longer needs. Dead
        // connections are noticed when they close, or on their next use, which fails as transient.
        configuration.options.minimumConnections = 0
        configuration.options.connectionIdleTimeout = .seconds(3)
        configuration.options.keepAliveBehavior = nil
        let store = PostgresStore(
            pool: PostgresClient(configuration: configuration, backgroundLogger: logger),
            operationTimeout: operationTimeout, maxIngestBatch: batchIngest ? 256 : 1,
            maximumConnections: maximumConnections, logger: logger)
        if migrate {
            do {
                try await PostgresSchema.migrate(store.pool, logger: logger)
            } catch {
                try? await store.close()
                throw error
            }
        }
        return store
    }

    private init(
        pool: PostgresClient, operationTimeout: Duration, maxIngestBatch: Int, maximumConnections: Int, logger: Logger
    ) {
        let client = DeadlineClient(pool: pool, timeout: operationTimeout)
        self.pool = pool
        self.maximumConnections = maximumConnections
        self.client = client
        self.logger = logger
        let database = DatabaseAccess(pool: pool, client: client, logger: logger)
        let isTransient: @Sendable (any Error) -> Bool = { PostgresFailure.isTransient(PostgresFailure.reported($0)) }
        ingestBatcher = StatementBatcher(
            maxBatchSize: maxIngestBatch, byteCount: { $0.payload.count }, key: \.id, isTransient: isTransient,
            writeBatch: { events in try await Self.writeIngestBatch(events, database: database) })
        outcomeBatcher = StatementBatcher(
            maxBatchSize: maxIngestBatch, byteCount: { $0.observation.body?.count ?? 0 }, key: \.job.attemptID,
            isTransient: isTransient,
            writeBatch: { records in try await Self.writeOutcomeBatch(records, database: database) })
        let signal = WorkSignal()
        self.workSignal = signal
        tasks = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await pool.run() }
                group.addTask { await Self.listenForWork(client: pool, signal: signal, logger: logger) }
            }
        }
    }

    /// Applies migrations (for `ferry migrate`).
    public func migrate() async throws {
        try await PostgresSchema.migrate(pool, logger: logger)
    }

    public var poolStatistics: PoolStatistics {
        let capacity = max(1, maximumConnections - 1)
        let inFlight = client.operationsInFlight.value.load(ordering: .relaxed)
        return PoolStatistics(inUse: min(inFlight, capacity), waiting: max(0, inFlight - capacity), capacity: capacity)
    }

    public func ping() async throws {
        try await client.query("SELECT 1", logger: logger)
    }

    /// Holds a PostgreSQL session advisory lock on one pooled connection while `body` runs on others.
    public func withSetupLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let key = Self.setupLockKey
        let logger = logger
        return try await pool.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(key))", logger: logger)
            do {
                let result = try await body()
                try await connection.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
                throw error
            }
        }
    }

    /// Stops the pool and the work listener; waits for them at most a few seconds, so a listener stuck on a
    /// connection that died with the server cannot keep the process from exiting.
    public func close() async throws {
        tasks.cancel()
        let finished = WorkSignal()
        let tasks = tasks
        Task {
            await tasks.value
            finished.signal()
        }
        await finished.wait(timeout: .seconds(3))
    }

    /// Runs `body` in a transaction; `NOTIFY` sent inside it reaches listeners at commit.
    /// A domain error thrown by `body` is rethrown as itself (not wrapped), so callers can match on it.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T
    {
        try await DatabaseAccess(pool: pool, client: client, logger: logger).transaction(body)
    }

    /// Announces new work to every process (delivered when the surrounding transaction commits).
    static func notifyWork(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("NOTIFY ferry_work", logger: logger)
    }

    /// Keeps a `LISTEN ferry_work` open, reconnecting after failures; every notification wakes local workers.
    private static func listenForWork(client: PostgresClient, signal: WorkSignal, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: workChannel) { notifications in
                        // A fresh listener may have missed notifications while it was down: look once.
                        signal.signal()
                        for try await _ in notifications { signal.signal() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("work listener lost its connection", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

/// The pool, its deadline and the logger: what a statement or transaction needs, without the store itself.
struct DatabaseAccess: Sendable {
    let pool: PostgresClient
    let client: DeadlineClient
    let logger: Logger

    /// Runs `body` in a transaction under the operation deadline; a `DomainError` thrown by `body` is rethrown
    /// as itself (not wrapped in a transaction error), so callers can match on it.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T
    {
        let pool = pool
        let logger = logger
        return try await client.withDeadline {
            do {
                return try await pool.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch let error as PostgresTransactionError {
                if let domainError = error.closureError as? DomainError { throw domainError }
                throw error
            }
        }
    }
}

/// `postgres://user:password@host:port/database?sslmode=…` URLs: what is wrong with one, and the client
/// configuration it gives.
public enum PostgresURL {
    /// What is wrong with `url` as a PostgreSQL URL, in words that never repeat its password; nil when nothing is.
    public static func problem(_ url: String) -> String? {
        guard let schemeEnd = url.range(of: "://"),
            ["postgres", "postgresql"].contains(url[..<schemeEnd.lowerBound].lowercased())
        else { return "it does not start with postgres:// or postgresql://" }
        let authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@"), !authority[..<at].prefix(while: { $0 != ":" }).isEmpty else {
            return "it names no user (postgres://USER:PASSWORD@HOST:PORT/DATABASE)"
        }
        let hostAndPort = authority[authority.index(after: at)...]
        let portStart = hostAndPort.hasPrefix("[") ? hostAndPort.firstIndex(of: "]") : hostAndPort.startIndex
        if let portStart, let colon = hostAndPort[portStart...].lastIndex(of: ":") {
            let port = hostAndPort[hostAndPort.index(after: colon)...]
            guard let number = Int(port), (1...65_535).contains(number) else {
                return "its port `\(port)` is not a number from 1 to 65535"
            }
        }
        let host = hostAndPort.prefix { $0 != ":" || hostAndPort.hasPrefix("[") }
        if host.isEmpty, !url.contains("host=/") { return "it names no host (postgres://user@HOST/database)" }
        guard URLComponents(string: url) != nil else {
            return "it is not a valid URL (in a password, percent-encode / ? # @ : and spaces)"
        }
        return nil
    }

    /// `host:port` of the server the URL names (the socket folder for a `?host=/…` URL).
    public static func endpoint(_ url: String) -> String {
        guard let components = URLComponents(string: url) else { return "?" }
        let port = components.port ?? 5432
        if let socket = components.queryItems?.first(where: { $0.name == "host" })?.value, socket.hasPrefix("/") {
            return "\(socket) (port \(port))"
        }
        return "\(components.host ?? "127.0.0.1"):\(port)"
    }

    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        if let problem = problem(url) { throw StorageError.failed("FERRY_DATABASE_URL is not usable: \(problem)") }
        guard let components = URLComponents(string: url), let username = components.user else {
            throw StorageError.failed("FERRY_DATABASE_URL is not usable: it names no user")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            let port = components.port ?? 5432
            return withoutJIT(
                PostgresClient.Configuration(
                    unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username,
                    password: components.password, database: database.isEmpty ? nil : database))
        }
        let tls: PostgresClient.Configuration.TLS
        switch query["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        return withoutJIT(
            PostgresClient.Configuration(
                host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: username,
                password: components.password, database: database.isEmpty ? nil : database, tls: tls))
    }

    /// Sessions with `jit = off`. Ferry's statements are short and run thousands of times a second; once a large
    /// backlog raises a claim's estimated cost past `jit_above_cost`, PostgreSQL compiled it again on every run,
    /// about 55 ms of the 90 ms a claim took with a million attempts pending.
    private static func withoutJIT(_ configuration: PostgresClient.Configuration) -> PostgresClient.Configuration {
        var configuration = configuration
        configuration.options.additionalStartupParameters.append(("jit", "off"))
        return configuration
    }
}

/// Column access by name on a result row.
struct Columns {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = PostgresRandomAccessRow(row)
    }

    func get<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try row[name].decode(T.self)
    }

    func map(_ name: String) throws -> [String: String] {
        let text = try get(name, as: String.self)
        return StoredJSON.map(text) ?? [:]
    }

    func optionalMap(_ name: String) throws -> [String: String]? {
        guard let text = try get(name, as: String?.self) else { return nil }
        return StoredJSON.map(text)
    }

    func bytes(_ name: String) throws -> [UInt8] {
        guard var buffer = try get(name, as: ByteBuffer?.self) else { return [] }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

extension Columns: StoredRow {
    func uuid(_ column: String) throws -> UUID { try get(column) }
    func text(_ column: String) throws -> String { try get(column) }
    func optionalText(_ column: String) throws -> String? { try get(column) }
    func bool(_ column: String) throws -> Bool { try get(column) }
    func date(_ column: String) throws -> Date { try get(column) }
    func optionalDate(_ column: String) throws -> Date? { try get(column) }
    func stringMap(_ column: String) throws -> [String: String] { try map(column) }
}

/// A PostgreSQL pool whose operations fail with a transient `StorageError` when they take longer than `timeout`
/// (server down or restarting, pool exhausted), so the API answers 503 instead of hanging. Every failure leaves it
/// as `PostgresFailure.reported(_:)` makes it: a `DomainError` or a `StorageError`, never a PostgresNIO type.
struct DeadlineClient: Sendable {
    let pool: PostgresClient
    let timeout: Duration
    /// Statements and transactions started and not yet finished (running or waiting for a connection).
    let operationsInFlight = OperationCounter()

    /// Runs one statement and collects its rows; the deadline covers getting a connection and every row.
    @discardableResult
    func query(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        let pool = pool
        return try await withDeadline { try await pool.query(query, logger: logger).collect() }
    }

    /// Runs `operation`, failing with a transient error if it has not finished within the timeout. The caller
    /// is answered at the deadline even if the operation ignores cancellation (a connection stuck on a server
    /// that went away); the operation is cancelled and left to finish in the background.
    /// The timeout is shortened to the request's `StorageDeadline` when there is one. Counted in
    /// `operationsInFlight` until the operation itself ends, even when its caller was answered at the deadline.
    func withDeadline<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let counter = operationsInFlight
        return try await withTimeLimit {
            counter.value.add(1, ordering: .relaxed)
            defer { counter.value.subtract(1, ordering: .relaxed) }
            return try await operation()
        }
    }

    /// Like `withDeadline`, for work that is not itself a database operation (waiting on a shared batch).
    /// Costs one task (the operation, which may outlive its caller) and one timer on an event loop.
    func withTimeLimit<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = StorageDeadline.remaining(within: timeout)
        guard timeout > .zero else {
            throw StorageError.unavailable("the request's time for the database ran out")
        }
        let outcome = FirstOutcome<T>()
        let work = Task {
            do {
                outcome.finish(.success(try await operation()))
            } catch {
                outcome.finish(.failure(PostgresFailure.reported(error)))
            }
        }
        let (seconds, attoseconds) = timeout.components
        let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(
            in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        ) {
            outcome.finish(.failure(StorageError.unavailable("database did not answer within \(timeout)")))
            work.cancel()
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                outcome.install(continuation)
            }
        } onCancel: {
            work.cancel()
        }
    }
}

/// A shared count of database operations in flight.
final class OperationCounter: Sendable {
    let value = Atomic<Int>(0)
}

/// Resumes a continuation with whichever result arrives first and ignores the rest.
private final class FirstOutcome<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, pending: Result<T, any Error>?)>(
        (nil, nil))

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let ready = state.withLock { state -> Result<T, any Error>? in
            if let pending = state.pending {
                state.pending = nil
                return pending
            }
            state.continuation = continuation
            return nil
        }
        if let ready { continuation.resume(with: ready) }
    }

    func finish(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            if let continuation = state.continuation {
                state.continuation = nil
                state.pending = .failure(CancellationError())
                return continuation
            }
            if state.pending == nil { state.pending = result }
            return nil
        }
        continuation?.resume(with: result)
    }
}

extension PostgresStore {
    /// The newest numbered migration the database has.
    public func schemaVersion() async throws -> Int {
        let rows = try await client.query("SELECT max(version) AS version FROM ferry_schema_migrations", logger: logger)
        return try rows.first.map { try Columns($0).get("version", as: Int?.self) ?? 0 } ?? 0
    }
}
