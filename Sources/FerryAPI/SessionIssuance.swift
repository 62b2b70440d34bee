import Biscuit
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation

/// Opens and renews a person's sessions: mints the access and refresh tokens of a session with Hook0's facts and
/// lifetimes, the stored rows authentication finds them by, and the `LoginResponse` Hook0 answers.
struct SessionIssuance: Sendable {
    let issuer: TokenIssuer

    /// A freshly minted pair of one session.
    struct Pair {
        var access: Biscuit
        var refresh: Biscuit
        var accessExpiry: Date
        var refreshExpiry: Date
        var rows: [SessionToken]
    }

    /// Mints the pair of `session` for `user` with `memberships`.
    func mint(for user: User, memberships: [UUID: OrganizationRole], session: UUID, at now: Date) throws -> Pair {
        let tokenUser = TokenUser(
            userID: user.id, email: user.email, firstName: user.firstName, lastName: user.lastName)
        let access = try issuer.userAccess(
            tokenID: UUID(), sessionID: session, user: tokenUser, memberships: memberships, createdAt: now)
        let refresh = try issuer.refresh(tokenID: UUID(), sessionID: session, userID: user.id, createdAt: now)
        // The expiries the tokens' own time checks hold, read back from them rather than computed again.
        guard let accessExpiry = TokenIssuer.expiry(of: access), let refreshExpiry = TokenIssuer.expiry(of: refresh)
        else { throw BiscuitError(.execution, "a minted session token has no expiry") }
        return Pair(
            access: access, refresh: refresh, accessExpiry: accessExpiry, refreshExpiry: refreshExpiry,
            rows: [
                SessionToken(
                    lookupHash: ServiceTokenIssuance.lookupHash(rootRevocationID: access.revocationIDs[0]),
                    kind: .access, userID: user.id, sessionID: session, expiresAt: accessExpiry),
                SessionToken(
                    lookupHash: ServiceTokenIssuance.lookupHash(rootRevocationID: refresh.revocationIDs[0]),
                    kind: .refresh, userID: user.id, sessionID: session, expiresAt: refreshExpiry),
            ])
    }

    /// Opens a new session for `user` and stores it.
    func signIn(_ user: User, store: some IdentityStore, at now: Date) async throws -> JSONValue {
        let pair = try mint(
            for: user, memberships: try await store.memberships(userID: user.id), session: UUID(), at: now)
        try await store.storeSessionTokens(pair.rows, signingIn: true, at: now)
        return try Self.loginResponse(pair, user: user)
    }

    /// Hook0's `LoginResponse`.
    static func loginResponse(_ pair: Pair, user: User) throws -> JSONValue {
        .object([
            "access_token": .string(try pair.access.base64()),
            "access_token_expiration": .string(Timestamp.format(pair.accessExpiry)),
            "refresh_token": .string(try pair.refresh.base64()),
            "refresh_token_expiration": .string(Timestamp.format(pair.refreshExpiry)),
            "user_id": Representation.uuid(user.id), "email": .string(user.email),
            "first_name": .string(user.firstName), "last_name": .string(user.lastName),
        ])
    }

}
