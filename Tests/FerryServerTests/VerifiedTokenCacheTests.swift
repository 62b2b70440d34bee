import Biscuit
import FerryIdentity
import Foundation
import Testing

@testable import FerryAPI

/// The verified-token cache never hands out, nor keeps room for, a token past its expiry.
@Suite struct VerifiedTokenCacheTests {
    static let issuer = TokenIssuer.ephemeral()

    static func access(createdAt: Date) throws -> Biscuit {
        try issuer.userAccess(
            tokenID: UUID(), sessionID: UUID(),
            user: TokenUser(userID: UUID(), email: "a@example.com", firstName: "A", lastName: "B"), memberships: [:],
            createdAt: createdAt)
    }

    @Test func anExpiredTokenIsNeitherKeptNorReturned() throws {
        let cache = VerifiedTokenCache(capacity: 4)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        cache.remember(try Self.access(createdAt: now.addingTimeInterval(-600)), forKey: [1], at: now)
        #expect(cache.count == 0)
        cache.remember(try Self.access(createdAt: now), forKey: [2], at: now)
        #expect(cache.token(forKey: [2], at: now.addingTimeInterval(299)) != nil)
        #expect(cache.token(forKey: [2], at: now.addingTimeInterval(301)) == nil)
        #expect(cache.count == 0)
    }

    @Test func expiredEntriesGoFirstWhenTheCacheIsFull() throws {
        let cache = VerifiedTokenCache(capacity: 4)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let service = try Self.issuer.serviceAccess(tokenID: UUID(), organizationID: UUID(), createdAt: now)
        cache.remember(service, forKey: [0], at: now)
        for key in 1...3 { cache.remember(try Self.access(createdAt: now), forKey: [UInt8(key)], at: now) }
        let later = now.addingTimeInterval(400)
        cache.remember(try Self.access(createdAt: later), forKey: [9], at: later)
        #expect(cache.count == 2)
        #expect(cache.token(forKey: [0], at: later) != nil && cache.token(forKey: [9], at: later) != nil)
    }
}
