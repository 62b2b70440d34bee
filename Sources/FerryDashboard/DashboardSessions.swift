import Biscuit
import Crypto
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird
import Synchronization

/// A signed-in browser: the person, their session, and the caller the authorizer sees for them.
struct SignedIn: Sendable {
    var user: User
    var sessionID: UUID
    /// A `user_access` Biscuit of this session with the memberships stored now: the dashboard asks the same
    /// authorizer as the API, with the same facts.
    var caller: Caller
    /// The token every form of this session must carry.
    var csrf: String
}

/// The dashboard's cookie sessions. A session is a Biscuit session like an API sign-in's: its row in the session
/// table (kind `dashboard`) is found by the SHA-256 of the cookie's random secret, so signing out, a password
/// change, disabling the account or an ended session end it at once, and the cookie itself is never stored. Each
/// request reads the row and the person's memberships in one query; the `user_access` token the authorizer needs is
/// minted once per session and kept in memory until shortly before it expires.
///
/// Forms are protected by a synchronizer token derived from the cookie's secret (an HMAC, so it needs no storage
/// and a page of another site can neither read nor guess it), and before sign-in by the same derivation from a
/// short-lived sign-in cookie.
struct DashboardSessions<Store: FerryStore>: Sendable {
    let store: Store
    let issuer: TokenIssuer
    /// Cookies are `Secure` and `__Host-` prefixed when the public URL is HTTPS.
    let secure: Bool
    private let minted = MintedTokens()

    /// How long a dashboard session lives.
    static var lifetime: TimeInterval { 12 * 3600 }

    init(store: Store, issuer: TokenIssuer, publicURL: String) {
        self.store = store
        self.issuer = issuer
        secure = publicURL.lowercased().hasPrefix("https://")
    }

    var sessionCookieName: String { secure ? "__Host-ferry_session" : "ferry_session" }
    var signInCookieName: String { secure ? "__Host-ferry_signin" : "ferry_signin" }

    /// The signed-in person of the request, or nil.
    func signedIn(_ request: Request, at now: Date = Date()) async throws -> SignedIn? {
        guard let secret = request.cookies[sessionCookieName]?.value, !secret.isEmpty else { return nil }
        guard
            let (row, memberships) = try await store.liveSession(
                lookupHash: Self.lookupHash(secret), kind: .dashboard, at: now)
        else { return nil }
        guard
            let (user, token) = try await minted.token(
                for: row.sessionID, at: now,
                mint: {
                    guard let user = try await store.user(id: row.userID), user.disabledAt == nil else { return nil }
                    let token = try issuer.userAccess(
                        tokenID: UUID(), sessionID: row.sessionID,
                        user: TokenUser(
                            userID: user.id, email: user.email, firstName: user.firstName, lastName: user.lastName),
                        memberships: memberships, createdAt: now)
                    return (user, token)
                })
        else { return nil }
        return SignedIn(
            user: user, sessionID: row.sessionID, caller: .token(token, liveMemberships: memberships),
            csrf: Self.csrfToken(secret))
    }

    /// Opens a session for `user`: stores its row and answers the cookie that carries it.
    func open(for user: User, at now: Date = Date()) async throws -> Cookie {
        let secret = Self.randomSecret()
        let row = SessionToken(
            lookupHash: Self.lookupHash(secret), kind: .dashboard, userID: user.id, sessionID: UUID(),
            expiresAt: now.addingTimeInterval(Self.lifetime))
        try await store.storeSessionTokens([row], signingIn: true, at: now)
        return cookie(sessionCookieName, secret, maxAge: Int(Self.lifetime))
    }

    /// Ends the session (every token of it) and answers the cookie that clears it in the browser.
    func close(_ signedIn: SignedIn, at now: Date = Date()) async throws -> Cookie {
        try await store.endSession(userID: signedIn.user.id, sessionID: signedIn.sessionID, at: now)
        minted.forget(signedIn.sessionID)
        return cookie(sessionCookieName, "", maxAge: 0)
    }

    /// The sign-in form's cookie and the token its form carries: the cookie the request already has, or a new one.
    func signInChallenge(_ request: Request) -> (cookie: Cookie?, csrf: String) {
        if let secret = request.cookies[signInCookieName]?.value, secret.count >= 32 {
            return (nil, Self.csrfToken(secret))
        }
        let secret = Self.randomSecret()
        return (cookie(signInCookieName, secret, maxAge: 3600), Self.csrfToken(secret))
    }

    /// Whether a submitted sign-in form carries the token of the request's sign-in cookie.
    func signInFormIsGenuine(_ request: Request, csrf: String?) -> Bool {
        guard let secret = request.cookies[signInCookieName]?.value, secret.count >= 32, let csrf else { return false }
        return ConstantTime.equals(Array(csrf.utf8), Array(Self.csrfToken(secret).utf8))
    }

    private func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// 32 random bytes, URL-safe base64 without padding.
    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return base64URL(bytes)
    }

    /// What a session row is found by.
    static func lookupHash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(("dashboard-session:" + secret).utf8)))
    }

    /// The synchronizer token of a cookie secret.
    static func csrfToken(_ secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("ferry-dashboard-csrf".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return base64URL(Array(mac))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// The `user_access` tokens minted for dashboard sessions, by session, each kept until a minute before its expiry
/// (so the authorizer's own expiry check never refuses a kept one). Bounded: past `capacity` sessions, expired
/// entries go first, then everything.
final class MintedTokens: Sendable {
    private let tokens = Mutex<[UUID: (user: User, token: Biscuit, until: Date)]>([:])
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The kept token of `session`, or the one `mint` makes (nil when the account is gone or disabled).
    func token(
        for session: UUID, at now: Date, mint: () async throws -> (User, Biscuit)?
    ) async throws -> (User, Biscuit)? {
        if let kept = tokens.withLock({ $0[session] }), kept.until > now { return (kept.user, kept.token) }
        guard let (user, token) = try await mint() else { return nil }
        let until = (TokenIssuer.expiry(of: token) ?? now).addingTimeInterval(-60)
        tokens.withLock { tokens in
            if tokens.count >= capacity {
                tokens = tokens.filter { $0.value.until > now }
                if tokens.count >= capacity { tokens.removeAll() }
            }
            tokens[session] = (user, token, until)
        }
        return (user, token)
    }

    /// Drops a session's token (at sign-out).
    func forget(_ session: UUID) {
        _ = tokens.withLock { $0.removeValue(forKey: session) }
    }
}
