import FerryCore
import FerryIdentity
import FerryPostgres
import FerrySQLite
import FerryServer
import FerryStorage
import FerryTestSupport
import Foundation
import Logging
import Testing

/// Several processes starting together on an empty database must create the starter tenant exactly once.
@Suite struct FirstStartTests {
    @Test(arguments: StoreBackend.available)
    func processesStartingTogetherBootstrapOnce(backend: StoreBackend) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var stores: [any FerryStore] = []
        var databaseName: String?
        switch backend {
        case .sqlite:
            let store = try await SQLiteStore.open(path: directory.path + "/ferry.sqlite")
            stores = Array(repeating: store, count: 4)
        case .postgres:
            let database = try await PostgresTestDatabases.shared.create()
            databaseName = database.name
            for _ in 0..<4 {
                stores.append(
                    try await PostgresStore.open(
                        url: database.url, maximumConnections: 3, logger: Logger(label: "first-start-test")))
            }
        }
        let issuer = TokenIssuer.ephemeral()
        let cheap = PasswordHasher(cost: .init(logN: 10, blockSize: 8, parallelism: 1))
        let welcomes = try await withThrowingTaskGroup(of: String?.self) { group in
            for store in stores {
                group.addTask {
                    try await FirstStart.bootstrapIfEmpty(
                        store: store, publicURL: "http://ferry.test", issuer: issuer, hasher: cheap)
                }
            }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(welcomes.compactMap { $0 }.count == 1)
        #expect(try await stores[0].organizationCount() == 1)
        // One administrator, verified, editor of the organization, signing in with the printed password.
        let welcome = try #require(welcomes.compactMap { $0 }.first)
        let users = try await stores[0].users()
        #expect(users.map(\.email) == ["admin@localhost"] && users.first?.emailVerifiedAt != nil)
        let printed = try #require(
            welcome.split(separator: "\n").first { $0.contains("password:") }?.split(separator: " ").dropFirst().first)
        let admin = try #require(users.first)
        let stored = try #require(try await stores[0].passwordHash(userID: admin.id))
        #expect(cheap.verify(String(printed), against: stored))
        #expect(try await stores[0].memberships(userID: admin.id).values.first == .editor)
        #expect(
            try await FirstStart.bootstrapIfEmpty(store: stores[0], publicURL: "http://ferry.test", issuer: issuer)
                == nil)
        for store in stores { try? await store.close() }
        if let databaseName { await PostgresTestDatabases.shared.drop(databaseName) }
    }
}
