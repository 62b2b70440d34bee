import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

/// A person's session as every request of theirs reads it: the live token and the memberships stored now, in one
/// query, on every backend.
@Suite struct SessionTests {
    static func person(_ email: String, in store: any FerryStore) async throws -> (User, UUID) {
        let user = User(
            id: UUID(), email: email, firstName: "Sam", lastName: "Session", createdAt: Date(),
            emailVerifiedAt: Date())
        let personal = try await store.register(
            Registration(user: user, passwordHash: "not-a-real-hash", personalOrganizationName: "own"))
        return (user, personal)
    }

    static func session(of user: User, hash: UInt8, expiresIn seconds: TimeInterval = 300) -> SessionToken {
        SessionToken(
            lookupHash: Array(repeating: hash, count: 32), kind: .access, userID: user.id, sessionID: UUID(),
            // Whole seconds: stores keep microseconds, so an exact read-back needs a date they can hold.
            expiresAt: Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + seconds).rounded(.down)))
    }

    @Test(arguments: StoreBackend.available)
    func aLiveSessionComesWithTheMembershipsStoredNow(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (user, personal) = try await Self.person("sam@example.com", in: store)
            let (organization, _) = try await Fixtures.tenant(in: store)
            try await store.addMember(organizationID: organization.id, userID: user.id, role: .viewer)
            let token = Self.session(of: user, hash: 1)
            try await store.storeSessionTokens([token], signingIn: true, at: Date())

            let live = try #require(
                try await store.liveSession(lookupHash: token.lookupHash, kind: .access, at: Date()))
            #expect(live.token == token)
            #expect(live.memberships == [personal: .editor, organization.id: .viewer])
            _ = try await store.setMemberRole(organizationID: organization.id, userID: user.id, role: .editor)
            let promoted = try await store.liveSession(lookupHash: token.lookupHash, kind: .access, at: Date())
            #expect(promoted?.memberships[organization.id] == .editor)
            #expect(try await store.liveSession(lookupHash: token.lookupHash, kind: .refresh, at: Date()) == nil)
            #expect(
                try await store.liveSession(lookupHash: Array(repeating: 2, count: 32), kind: .access, at: Date())
                    == nil)
            #expect(
                try await store.liveSession(
                    lookupHash: token.lookupHash, kind: .access, at: Date().addingTimeInterval(301)) == nil)
            try await store.endSession(userID: user.id, sessionID: token.sessionID, at: Date())
            #expect(try await store.liveSession(lookupHash: token.lookupHash, kind: .access, at: Date()) == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aPersonWithoutMembershipsStillHasASessionAndADisabledOneHasNone(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (user, personal) = try await Self.person("lone@example.com", in: store)
            let (successor, _) = try await Self.person("successor@example.com", in: store)
            try await store.addMember(organizationID: personal, userID: successor.id, role: .editor)
            #expect(try await store.removeMember(organizationID: personal, userID: user.id))
            let token = Self.session(of: user, hash: 3)
            try await store.storeSessionTokens([token], signingIn: true, at: Date())
            let live = try #require(
                try await store.liveSession(lookupHash: token.lookupHash, kind: .access, at: Date()))
            #expect(live.token == token && live.memberships.isEmpty)
            #expect(try await store.setUserDisabled(userID: user.id, disabled: true, at: Date()))
            #expect(try await store.liveSession(lookupHash: token.lookupHash, kind: .access, at: Date()) == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aPersonsSessionsAreListedAndAllButOneEndTogether(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (user, _) = try await Self.person("many@example.com", in: store)
            let (stranger, _) = try await Self.person("stranger@example.com", in: store)
            let start = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
            let browser = SessionToken(
                lookupHash: Array(repeating: 10, count: 32), kind: .dashboard, userID: user.id, sessionID: UUID(),
                expiresAt: start.addingTimeInterval(3600))
            try await store.storeSessionTokens([browser], signingIn: true, at: start)
            // An API session: its access token and refresh token, then a refresh that renews it a minute later.
            let api = UUID()
            let refresh = SessionToken(
                lookupHash: Array(repeating: 11, count: 32), kind: .refresh, userID: user.id, sessionID: api,
                expiresAt: start.addingTimeInterval(7200))
            try await store.storeSessionTokens(
                [
                    SessionToken(
                        lookupHash: Array(repeating: 12, count: 32), kind: .access, userID: user.id, sessionID: api,
                        expiresAt: start.addingTimeInterval(600)),
                    refresh,
                ], signingIn: true, at: start.addingTimeInterval(1))
            let renewed = SessionToken(
                lookupHash: Array(repeating: 13, count: 32), kind: .refresh, userID: user.id, sessionID: api,
                expiresAt: start.addingTimeInterval(9000))
            #expect(
                try await store.rotateRefreshToken(
                    lookupHash: refresh.lookupHash, replacements: [renewed], at: start.addingTimeInterval(60))
                    == .rotated)
            let gone = Self.session(of: user, hash: 14)
            try await store.storeSessionTokens([gone], signingIn: true, at: start)
            try await store.endSession(userID: user.id, sessionID: gone.sessionID, at: start)
            try await store.storeSessionTokens([Self.session(of: stranger, hash: 15)], signingIn: true, at: start)

            let listed = try await store.sessions(userID: user.id, at: start.addingTimeInterval(120))
            #expect(
                listed == [
                    AccountSession(
                        sessionID: api, openedAt: start.addingTimeInterval(1), renewedAt: start.addingTimeInterval(60),
                        expiresAt: start.addingTimeInterval(9000), isDashboard: false),
                    AccountSession(
                        sessionID: browser.sessionID, openedAt: start, renewedAt: start,
                        expiresAt: start.addingTimeInterval(3600), isDashboard: true),
                ])
            #expect(
                try await store.sessions(userID: user.id, at: start.addingTimeInterval(3700)).map(\.sessionID) == [api])

            let ended = try await store.endSessions(
                userID: user.id, except: browser.sessionID, at: start.addingTimeInterval(120))
            #expect(ended == 1)
            #expect(
                try await store.sessions(userID: user.id, at: start.addingTimeInterval(121)).map(\.sessionID)
                    == [browser.sessionID])
            #expect(try await store.sessions(userID: stranger.id, at: start.addingTimeInterval(121)).count == 1)
            #expect(
                try await store.endSessions(
                    userID: user.id, except: browser.sessionID, at: start.addingTimeInterval(122))
                    == 0)
        }
    }
}
