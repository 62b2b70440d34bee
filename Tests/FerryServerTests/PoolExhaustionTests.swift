import FerryAPI
import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import FerryPostgres

/// When every pooled PostgreSQL connection is busy, requests must get 503 with `Retry-After` within the operation
/// deadline (not hang until a connection frees up), and the API must serve again as soon as one does.
@Suite(.enabled(if: StoreBackend.postgresURL != nil))
struct PoolExhaustionTests {
    @Test func exhaustedPoolAnswers503WithRetryAfterAndRecovers() async throws {
        try await Self.withAPI(operationTimeout: .seconds(1), storageTimeout: .seconds(5)) { api, store in
            #expect(try await api.call(.get, "/api/v1/organizations", token: APIClient.masterKey).status == 200)
            let holders = Self.holdEveryConnection(of: store, seconds: 3)
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let started = clock.now
            let busy = try await api.call(.get, "/api/v1/organizations", token: APIClient.masterKey)
            let waited = clock.now - started
            #expect(busy.status == 503)
            #expect(busy.headers[.retryAfter] == "5")
            #expect(busy.string("id") == "ServiceUnavailable")
            #expect(waited < .milliseconds(2500), "answered after \(waited)")

            for holder in holders { try await holder.value }
            let recovered = try await api.call(.get, "/api/v1/organizations", token: APIClient.masterKey)
            #expect(recovered.status == 200)
        }
    }

    /// A request's storage work shares one deadline: with statements allowed 6 s each but requests 2 s in all,
    /// an ingest that cannot get a connection is answered 503 after about 2 s, not 6 s or more.
    @Test func requestStorageTimeoutCutsStatementTimeoutsShort() async throws {
        try await Self.withAPI(operationTimeout: .seconds(6), storageTimeout: .seconds(2)) { api, store in
            let tenant = try await api.tenant()
            let eventType = try await api.call(
                .post, "/api/v1/event_types", token: APIClient.masterKey,
                body: [
                    "application_id": .string(tenant.application), "service": "billing", "resource_type": "invoice",
                    "verb": "paid",
                ])
            #expect(eventType.status == 201, "\(eventType.text)")
            let event = APIClient.eventBody(application: tenant.application, id: UUID().uuidString.lowercased())
            let first = try await api.call(.post, "/api/v1/event", token: APIClient.masterKey, body: event)
            #expect(first.status == 201, "\(first.text)")
            let holders = Self.holdEveryConnection(of: store, seconds: 7)
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let started = clock.now
            let busy = try await api.call(
                .post, "/api/v1/event", token: APIClient.masterKey,
                body: APIClient.eventBody(application: tenant.application))
            let waited = clock.now - started
            #expect(busy.status == 503, "\(busy.text)")
            #expect(waited >= .milliseconds(1900) && waited < .milliseconds(4500), "answered after \(waited)")
            for holder in holders { try await holder.value }
            #expect(try await api.call(.post, "/api/v1/event", token: APIClient.masterKey, body: event).status == 409)
        }
    }

    /// Occupies both pooled connections with `pg_sleep(seconds)`.
    static func holdEveryConnection(of store: PostgresStore, seconds: Int) -> [Task<Void, any Error>] {
        (0..<2).map { _ in
            Task {
                try await store.pool.withConnection { connection in
                    _ = try await connection.query("SELECT pg_sleep(\(seconds))", logger: store.logger)
                }
            }
        }
    }

    /// An API on a fresh database whose pool has 2 connections.
    static func withAPI(
        operationTimeout: Duration, storageTimeout: Duration,
        _ body: @Sendable (APIClient, PostgresStore) async throws -> Void
    ) async throws {
        let database = try await PostgresTestDatabases.shared.create()
        let logger = {
            var logger = Logger(label: "pool-exhaustion-test")
            logger.logLevel = .critical
            return logger
        }()
        let store = try await PostgresStore.open(
            url: database.url, maximumConnections: 2, operationTimeout: operationTimeout, logger: logger)
        do {
            let router = buildRouter(
                store: store,
                configuration: APIConfiguration(
                    publicURL: "http://ferry.test", masterAPIKey: APIClient.masterKey, storageTimeout: storageTimeout))
            try await Application(router: router, logger: logger).test(.router) { client in
                try await body(APIClient(client: client), store)
            }
        } catch {
            try? await store.close()
            await PostgresTestDatabases.shared.drop(database.name)
            throw error
        }
        try await store.close()
        await PostgresTestDatabases.shared.drop(database.name)
    }
}
