import Crypto
import FerryCore
import FerryStorage
import Foundation
import Hummingbird

/// Turns an `Authorization` header into a `Principal`: the master key, a service token (looked up by hash),
/// or an application secret. `Bearer ` is optional, as in Hook0.
struct Authenticator<Store: FerryStore>: Sendable {
    let store: Store
    let masterKey: String?

    /// The caller, or a 401/403 problem.
    func principal(for request: Request) async throws -> Principal {
        guard let header = request.headers[.authorization] else { throw ProblemCatalog.authNoAuthorizationHeader }
        var token = Substring(header)
        if token.hasPrefix("Bearer ") { token = token.dropFirst(7) }
        let bearer = token.trimmingCharacters(in: .whitespaces)
        guard !bearer.isEmpty else { throw ProblemCatalog.authNoAuthorizationHeader }
        if let masterKey, Self.constantTimeEquals(Array(bearer.utf8), Array(masterKey.utf8)) {
            return .master
        }
        if bearer.hasPrefix(ServiceTokenFormat.prefix) {
            guard let token = try await store.liveServiceToken(tokenHash: ServiceTokenFormat.hash(bearer)) else {
                throw ProblemCatalog.authInvalidBiscuit
            }
            return .organization(token.organizationID)
        }
        if let uuid = UUID(uuidString: bearer) {
            guard let (_, application) = try await store.liveApplicationSecret(token: uuid) else {
                throw ProblemCatalog.authInvalidApplicationSecret
            }
            return .application(organizationID: application.organizationID, applicationID: application.id)
        }
        throw ProblemCatalog.authInvalidBiscuit
    }

    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

/// Ferry's opaque service tokens: `fst_` + 43 URL-safe base64 characters (32 random bytes); stored as SHA-256.
public enum ServiceTokenFormat {
    public static let prefix = "fst_"

    /// A fresh bearer value.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let encoded = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + encoded
    }

    /// The stored form of a bearer value.
    public static func hash(_ bearer: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(bearer.utf8)))
    }

    /// A non-secret hint shown in listings instead of the token.
    public static func hint(_ bearer: String) -> String {
        String(bearer.prefix(prefix.count + 6)) + "…"
    }
}
