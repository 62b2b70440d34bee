import Biscuit
import Crypto
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// Turns an `Authorization` header into a `Caller`: the master key, an application secret (a UUID), a legacy
/// `fst_` service token (looked up by hash), or a Biscuit verified with the root key whose root block is a live
/// stored token (so revoking a root revokes every token attenuated from it). `Bearer ` is optional, as in Hook0.
/// A service token's use is recorded (`last_used_at`) once a minute per token.
struct Authenticator<Store: TenantStore & IdentityStore>: Sendable {
    let store: Store
    let masterKey: String?
    let tokens: VerifiedTokens
    var uses = ServiceTokenUse()

    /// The caller, or a 401/403 problem.
    func caller(for request: Request) async throws -> Caller {
        let bearer = try AuthorizationHeader.bearer(of: request)
        if let masterKey, ConstantTime.equals(Array(bearer.utf8), Array(masterKey.utf8)) {
            return .master
        }
        if bearer.hasPrefix(ServiceTokenFormat.prefix) {
            guard let token = try await store.liveServiceToken(tokenHash: ServiceTokenFormat.hash(bearer)) else {
                throw ProblemCatalog.authInvalidBiscuit
            }
            await recordUse(of: token)
            return .legacyServiceToken(organizationID: token.organizationID)
        }
        if let uuid = UUID(hyphenated: bearer) {
            guard let (_, application) = try await store.liveApplicationSecret(token: uuid) else {
                throw ProblemCatalog.authInvalidApplicationSecret
            }
            return .applicationSecret(organizationID: application.organizationID, applicationID: application.id)
        }
        guard let biscuit = tokens.verified(bearer), let root = biscuit.revocationIDs.first else {
            throw ProblemCatalog.authInvalidBiscuit
        }
        let lookupHash = ServiceTokenIssuance.lookupHash(rootRevocationID: root)
        // One attenuated child can be revoked alone: any of its blocks may be deny-listed.
        if biscuit.revocationIDs.count > 1,
            try await store.isAnyBlockDenied(Array(biscuit.revocationIDs.dropFirst()))
        {
            throw ProblemCatalog.authInvalidBiscuit
        }
        switch RequestAuthorizer.authorityValue(biscuit, "type") {
        case .string(SessionTokenKind.access.rawValue):
            // A person: the session must be live and the account enabled, and the roles that count are the
            // memberships stored now, not those the token was minted with.
            guard let session = try await store.liveSession(lookupHash: lookupHash, kind: .access, at: Date()) else {
                throw ProblemCatalog.authInvalidBiscuit
            }
            return .token(biscuit, liveMemberships: session.memberships)
        case .string("service_access"):
            guard let token = try await store.liveServiceToken(tokenHash: lookupHash) else {
                throw ProblemCatalog.authInvalidBiscuit
            }
            await recordUse(of: token)
            return .token(biscuit)
        default:
            // Refresh and mail tokens are not bearers of the API (Hook0's authorizer refuses their types).
            throw ProblemCatalog.authInvalidBiscuit
        }
    }

    /// Stores the token's `last_used_at` if this request is the first of the minute to use it. The write is
    /// bookkeeping: when it fails the request goes on, and the next one tries again.
    private func recordUse(of token: ServiceToken) async {
        let now = Date()
        guard uses.claim(token.id, at: now) else { return }
        do {
            try await store.recordServiceTokenUse(id: token.id, at: now)
        } catch {
            uses.release(token.id)
        }
    }
}

/// The `Authorization` header of a request.
enum AuthorizationHeader {
    /// The bearer value of a request's `Authorization` header (`Bearer ` optional, as in Hook0), or a 401 problem
    /// when there is none.
    static func bearer(of request: Request) throws -> String {
        guard let header = request.headers[.authorization] else { throw ProblemCatalog.authNoAuthorizationHeader }
        var token = Substring(header)
        if token.hasPrefix("Bearer ") { token = token.dropFirst(7) }
        let bearer = trimmingWhitespace(token)
        guard !bearer.isEmpty else { throw ProblemCatalog.authNoAuthorizationHeader }
        return bearer
    }

    /// `text` without the whitespace around it, as Foundation's `trimmingCharacters(in: .whitespaces)` gives it,
    /// but without calling Foundation when both ends are plain ASCII: that call bridges through UTF-16 and cost
    /// several per cent of ingest's CPU for a Biscuit of a few hundred characters, trimmed on every request.
    static func trimmingWhitespace(_ text: String) -> String {
        hasPlainEnds(text.utf8.first, text.utf8.last) ? text : text.trimmingCharacters(in: .whitespaces)
    }

    /// The same for part of a header.
    static func trimmingWhitespace(_ text: Substring) -> String {
        hasPlainEnds(text.utf8.first, text.utf8.last) ? String(text) : text.trimmingCharacters(in: .whitespaces)
    }

    /// Whether both end bytes are ASCII and neither is a space or a tab (the only ASCII characters of
    /// `.whitespaces`), so that trimming would change nothing.
    private static func hasPlainEnds(_ first: UInt8?, _ last: UInt8?) -> Bool {
        guard let first, let last else { return false }
        func isPlain(_ byte: UInt8) -> Bool { byte < 0x80 && byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") }
        return isPlain(first) && isPlain(last)
    }
}

/// Reads this server's Biscuits: signatures checked against the root key once per distinct token (the cache
/// remembers verified ones).
struct VerifiedTokens: Sendable {
    let rootKey: PublicKey
    let cache: VerifiedTokenCache

    init(rootKey: PublicKey, cache: VerifiedTokenCache = VerifiedTokenCache()) {
        self.rootKey = rootKey
        self.cache = cache
    }

    /// The Biscuit `text` holds (a bearer or a request body's field), or nil when it is not one of this server's
    /// tokens.
    func verified(_ text: String) -> Biscuit? {
        let bearer = AuthorizationHeader.trimmingWhitespace(text)
        let key = Array(SHA256.hash(data: Array(bearer.utf8)))
        if let cached = cache.token(forKey: key) { return cached }
        guard let biscuit = try? Biscuit(base64: bearer, rootKey: rootKey) else { return nil }
        cache.remember(biscuit, forKey: key)
        return biscuit
    }
}

/// The opaque service tokens Ferry issued before its tokens were Biscuits: `fst_` + 43 URL-safe base64 characters,
/// stored as their SHA-256. No longer issued; those already out keep working as service tokens of their
/// organization (without attenuation) until revoked.
public enum ServiceTokenFormat {
    public static let prefix = "fst_"

    /// The stored form of a bearer value.
    public static func hash(_ bearer: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(bearer.utf8)))
    }
}
