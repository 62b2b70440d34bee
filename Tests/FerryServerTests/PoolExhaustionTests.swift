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
        let database = try await PostgresTestDatabases.shared.create()
        let logger = {
            var logger = Logger(label: "pool-exhaustion-test")
            logger.logLevel = .critical
            return logger
        }()
        let store = try await PostgresStore.open(
            url: database.url, maximumConnections: 2, operationTimeout: .seconds(1), logger: logger)
        do {
            let router = buildRouter(
                store: store,
                configuration: APIConfiguration(
                    publicURL: "http://ferry.test", masterAPIKey: APIClient.masterKey,
                    isTransientStorageFailure: PostgresFailure.isTransient),
                logger: logger)
            try await Application(router: router, logger: logger).test(.router) { client in
                let api = APIClient(client: client)
                #expect(try await api.call(.get, "/api/v1/organizations", token: APIClient.masterKey).status == 200)

                let holders = (0..<2).map { _ in
                    Task {
                        try await store.pool.withConnection { connection in
                            _ = try await connection.query("SELECT pg_sleep(3)", logger: logger)
                        }
                    }
                }
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
        } catch {
            try? await store.close()
            await PostgresTestDatabases.shared.drop(database.name)
            throw error
        }
        try await store.close()
        await PostgresTestDatabases.shared.drop(database.name)
    }
}
