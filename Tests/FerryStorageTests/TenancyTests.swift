import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

/// Organizations, applications and credentials, run against every backend.
@Suite struct TenancyTests {
    @Test(arguments: StoreBackend.available)
    func serviceTokensAreFoundByHashUntilRevoked(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (organization, _) = try await Fixtures.tenant(in: store)
            let hash = Array(repeating: UInt8(7), count: 32)
            let token = ServiceToken(
                id: UUID(), organizationID: organization.id, name: "ci", displayHint: "fst_abc…", createdAt: Date())
            try await store.createServiceToken(token, tokenHash: hash)
            #expect(try await store.liveServiceToken(tokenHash: hash)?.id == token.id)
            #expect(try await store.liveServiceToken(tokenHash: Array(repeating: 8, count: 32)) == nil)
            #expect(try await store.revokeServiceToken(id: token.id, organizationID: organization.id))
            #expect(try await store.liveServiceToken(tokenHash: hash) == nil)
            #expect(try await store.serviceTokens(organizationID: organization.id).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func serviceTokensKeepTheirCreatorAndTheirLatestUse(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (organization, _) = try await Fixtures.tenant(in: store)
            let creator = UUID()
            let created = Date(timeIntervalSince1970: 1_800_000_000)
            let token = ServiceToken(
                id: UUID(), organizationID: organization.id, name: "ci", displayHint: "EoAB…", createdAt: created,
                createdBy: creator)
            let hash = Array(repeating: UInt8(9), count: 32)
            try await store.createServiceToken(token, tokenHash: hash)
            let unused = try #require(try await store.serviceToken(id: token.id, organizationID: organization.id))
            #expect(unused.createdBy == creator && unused.lastUsedAt == nil)
            let used = created.addingTimeInterval(120)
            try await store.recordServiceTokenUse(id: token.id, at: used)
            // An earlier use recorded late (another process, a slow request) does not move it back.
            try await store.recordServiceTokenUse(id: token.id, at: created.addingTimeInterval(60))
            let live = try #require(try await store.liveServiceToken(tokenHash: hash))
            #expect(live.lastUsedAt == used && live.createdBy == creator)
            let anonymous = ServiceToken(
                id: UUID(), organizationID: organization.id, name: "", displayHint: "EoAB…", createdAt: created)
            try await store.createServiceToken(anonymous, tokenHash: Array(repeating: UInt8(10), count: 32))
            let listed = try await store.serviceTokens(organizationID: organization.id)
            #expect(listed.map(\.createdBy) == [creator, nil])
            #expect(listed.map(\.lastUsedAt) == [used, nil])
        }
    }

    @Test(arguments: StoreBackend.available)
    func applicationSecretsAuthenticateOnlyWhileTheyAndTheirApplicationLive(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (organization, application) = try await Fixtures.tenant(in: store)
            let defaultSecret = try #require(try await store.applicationSecrets(applicationID: application.id).first)
            #expect(defaultSecret.name == "Default")
            let extra = try await store.createApplicationSecret(applicationID: application.id, name: "extra")
            #expect(try await store.liveApplicationSecret(token: extra.token)?.1.organizationID == organization.id)
            #expect(try await store.deleteApplicationSecret(applicationID: application.id, token: extra.token))
            #expect(try await store.liveApplicationSecret(token: extra.token) == nil)
            #expect(try await store.deleteApplication(id: application.id))
            #expect(try await store.liveApplicationSecret(token: defaultSecret.token) == nil)
            #expect(try await store.application(id: application.id) == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func organizationWithLiveApplicationsCannotBeDeleted(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (organization, application) = try await Fixtures.tenant(in: store)
            await #expect(throws: DomainError.organizationIsNotEmpty) {
                _ = try await store.deleteOrganization(id: organization.id)
            }
            _ = try await store.deleteApplication(id: application.id)
            #expect(try await store.deleteOrganization(id: organization.id))
            #expect(try await store.organization(id: organization.id) == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func deletingAnApplicationCancelsItsPendingAttempts(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))
            _ = try await store.deleteApplication(id: application.id)
            #expect(try await store.claimDueJobs(limit: 5, leaseFor: .seconds(30)).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aServerKeyIsStoredOnceAndEveryCallerGetsTheFirst(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let name = "test-key-\(UUID().uuidString)"
            let candidates = (0..<8).map { index in [UInt8](repeating: UInt8(index + 1), count: 32) }
            let answers = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for candidate in candidates {
                    group.addTask { try await store.serverKey(named: name, storingIfAbsent: candidate) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(answers).count == 1)
            #expect(candidates.contains(answers[0]))
            #expect(try await store.serverKey(named: name, storingIfAbsent: [9, 9]) == answers[0])
        }
    }

    @Test(arguments: StoreBackend.available)
    func anIngestRacingItsApplicationsDeletionLeavesNothingToDeliver(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            for _ in 0..<20 {
                let (_, application) = try await Fixtures.tenant(in: store)
                try await Fixtures.eventType(in: store, applicationID: application.id)
                _ = try await store.createSubscription(
                    Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
                async let ingests: [Bool] = withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            do {
                                _ = try await store.ingest(Fixtures.event(applicationID: application.id))
                                return true
                            } catch DomainError.forbidden {
                                return false
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                _ = try await store.deleteApplication(id: application.id)
                _ = try await ingests
                let after = Fixtures.event(applicationID: application.id)
                await #expect(throws: DomainError.forbidden) { _ = try await store.ingest(after) }
                #expect(try await store.event(id: after.id, applicationID: application.id) == nil)
            }
            #expect(try await store.claimDueJobs(limit: 500, leaseFor: .seconds(30)).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func eventTypeUpsertReactivatesAndSubscriptionsNeedDeclaredTypes(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            await #expect(throws: DomainError.eventTypeDoesNotExist) {
                _ = try await store.createSubscription(
                    Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
            }
            let type = try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.deactivateEventType(applicationID: application.id, name: type.name)
            #expect(try await store.eventTypes(applicationID: application.id).isEmpty)
            let onDeactivated = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
            #expect(onDeactivated.eventTypes == [type.name])
            try await Fixtures.eventType(in: store, applicationID: application.id)
            #expect(try await store.eventTypes(applicationID: application.id).map(\.name) == ["billing.invoice.paid"])
        }
    }

    @Test(arguments: StoreBackend.available)
    func createdValuesReadBackIdenticallyToTheMicrosecond(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            for _ in 0..<20 {
                let created = try await store.createSubscription(
                    Fixtures.draft(applicationID: application.id, url: "http://a.test/hook"), secret: UUID())
                let read = try #require(try await store.subscription(id: created.id))
                #expect(Timestamp.format(read.createdAt) == Timestamp.format(created.createdAt))
                #expect(read.labels == created.labels && read.target == created.target && read.secret == created.secret)
            }
        }
    }
}
