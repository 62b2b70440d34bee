import Biscuit
import Crypto
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation

/// Issues service tokens: a Biscuit with Hook0's `service_access` facts, signed by the server's root key, stored
/// under the hash of its root block's revocation id, so that the token and every token attenuated from it are
/// found, and revoked, together.
public enum ServiceTokenIssuance {
    /// Mints and stores a service token of `organizationID`, created by the person `createdBy` (nil for the
    /// master key, a service token or first start); returns it with its bearer value (shown once).
    public static func issue(
        organizationID: UUID, name: String, createdBy: UUID?, store: some TenantStore, issuer: TokenIssuer,
        at now: Date = Date()
    ) async throws -> (token: ServiceToken, bearer: String) {
        let id = UUID()
        let biscuit = try issuer.serviceAccess(tokenID: id, organizationID: organizationID, createdAt: now)
        let bearer = try biscuit.base64()
        let token = ServiceToken(
            id: id, organizationID: organizationID, name: name, displayHint: hint(bearer), createdAt: now,
            createdBy: createdBy)
        try await store.createServiceToken(token, tokenHash: lookupHash(rootRevocationID: biscuit.revocationIDs[0]))
        return (token, bearer)
    }

    /// What a Biscuit service token is stored under: the SHA-256 of its root block's revocation id.
    public static func lookupHash(rootRevocationID: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(("biscuit-root:" + rootRevocationID).utf8)))
    }

    /// A non-secret hint of a bearer value for listings: its first characters (the same for every Biscuit) and its
    /// last ten (from the token's random proof key, so they tell tokens apart).
    static func hint(_ bearer: String) -> String {
        String(bearer.prefix(6)) + "…" + String(bearer.suffix(10))
    }
}
