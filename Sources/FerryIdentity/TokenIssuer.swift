import Biscuit
import FerryCore
import Foundation

/// The person a `user_access` token speaks for.
public struct TokenUser: Sendable, Equatable {
    public var userID: UUID
    public var email: String
    public var firstName: String
    public var lastName: String

    public init(userID: UUID, email: String, firstName: String, lastName: String) {
        self.userID = userID
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
    }
}

/// The single-use tokens sent by e-mail, by Hook0's `type` names.
public enum MailTokenKind: String, Sendable, CaseIterable {
    case emailVerification = "email_verification"
    case passwordReset = "password_reset"
}

/// Mints every token Ferry hands out, signed by the server's root key, with exactly the authority facts Hook0
/// writes (UUIDs as 16-byte byte strings, times as Biscuit dates), so Hook0's tooling and biscuit-python read a
/// Ferry token as they read a Hook0 one.
public struct TokenIssuer: Sendable {
    /// How long a `user_access` token lives (Hook0: 5 minutes).
    public static let userAccessLifetime: Duration = .seconds(5 * 60)
    /// How long a `refresh` token lives (Hook0: 30 minutes).
    public static let refreshLifetime: Duration = .seconds(30 * 60)

    public let rootKey: PrivateKey

    public init(rootKey: PrivateKey) {
        self.rootKey = rootKey
    }

    /// An issuer with a fresh random key that nothing else knows (router tests, tools).
    public static func ephemeral() -> TokenIssuer {
        TokenIssuer(rootKey: PrivateKey(generating: .ed25519))
    }

    /// The root public key in hexadecimal, as `GET /api/v1/instance` publishes it (`biscuit_public_key`).
    public var publicKeyHex: String { Hex.encode(rootKey.publicKey.bytes) }

    /// A service token of an organization: no expiry, revoked by deleting its stored row.
    public func serviceAccess(tokenID: UUID, organizationID: UUID, createdAt: Date) throws(BiscuitError) -> Biscuit {
        try Biscuit.build(
            rootKey: rootKey,
            source: """
                type("service_access");
                version(1);
                token_id({token_id});
                created_at({created_at});
                organization_id({organization_id});
                """,
            parameters: [
                "token_id": Self.term(tokenID), "created_at": Self.term(createdAt),
                "organization_id": Self.term(organizationID),
            ])
    }

    /// A person's access token: their identity and every membership, valid for `userAccessLifetime`.
    public func userAccess(
        tokenID: UUID, sessionID: UUID, user: TokenUser, memberships: [UUID: OrganizationRole], createdAt: Date
    ) throws(BiscuitError) -> Biscuit {
        var source = """
            type("user_access");
            version(1);
            session_id({session_id});
            token_id({token_id});
            created_at({created_at});
            user_id({user_id});
            email({email});
            first_name({first_name});
            last_name({last_name});

            """
        var parameters: [String: Term] = [
            "session_id": Self.term(sessionID), "token_id": Self.term(tokenID), "created_at": Self.term(createdAt),
            "user_id": Self.term(user.userID), "email": .string(user.email), "first_name": .string(user.firstName),
            "last_name": .string(user.lastName),
            "expiry": Self.term(createdAt.addingTimeInterval(Self.seconds(Self.userAccessLifetime))),
        ]
        for (index, membership) in memberships.sorted(by: { $0.key.uuidString < $1.key.uuidString }).enumerated() {
            source += "organization_role({organization_\(index)}, {role_\(index)});\n"
            parameters["organization_\(index)"] = Self.term(membership.key)
            parameters["role_\(index)"] = .string(membership.value.rawValue)
        }
        source += "check if time($time), $time < {expiry};\n"
        return try Biscuit.build(rootKey: rootKey, source: source, parameters: parameters)
    }

    /// A refresh token of a session, valid for `refreshLifetime` and only on `/auth/refresh`.
    public func refresh(tokenID: UUID, sessionID: UUID, userID: UUID, createdAt: Date) throws(BiscuitError) -> Biscuit {
        try Biscuit.build(
            rootKey: rootKey,
            source: """
                type("refresh");
                version(1);
                token_id({token_id});
                session_id({session_id});
                user_id({user_id});
                created_at({created_at});
                check if time($time), $time < {expiry};
                """,
            parameters: [
                "token_id": Self.term(tokenID), "session_id": Self.term(sessionID), "user_id": Self.term(userID),
                "created_at": Self.term(createdAt),
                "expiry": Self.term(createdAt.addingTimeInterval(Self.seconds(Self.refreshLifetime))),
            ])
    }

    /// A single-use mail token (e-mail verification, password reset) that expires `lifetime` after `createdAt`.
    public func mailToken(_ kind: MailTokenKind, userID: UUID, createdAt: Date, lifetime: Duration)
        throws(BiscuitError) -> Biscuit
    {
        try Biscuit.build(
            rootKey: rootKey,
            source: """
                type({type});
                version(1);
                user_id({user_id});
                created_at({created_at});
                expired_at({expired_at});
                """,
            parameters: [
                "type": .string(kind.rawValue), "user_id": Self.term(userID), "created_at": Self.term(createdAt),
                "expired_at": Self.term(createdAt.addingTimeInterval(Self.seconds(lifetime))),
            ])
    }

    /// When a token Ferry minted stops being valid, read from its authority block: `created_at` plus the
    /// lifetime of a `user_access` or `refresh` token, or a mail token's `expired_at`; nil for a token that does not
    /// expire by itself (a service token) or one whose facts do not say.
    public static func expiry(of token: Biscuit) -> Date? {
        let facts = token.blocks.first?.content.facts ?? []
        func date(_ name: String) -> Date? {
            guard case .date(let seconds)? = facts.first(where: { $0.predicate.name == name })?.predicate.terms.first
            else { return nil }
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        }
        switch facts.first(where: { $0.predicate.name == "type" })?.predicate.terms.first {
        case .string("user_access"): return date("created_at")?.addingTimeInterval(seconds(userAccessLifetime))
        case .string("refresh"): return date("created_at")?.addingTimeInterval(seconds(refreshLifetime))
        case .string(MailTokenKind.emailVerification.rawValue), .string(MailTokenKind.passwordReset.rawValue):
            return date("expired_at")
        default: return nil
        }
    }

    /// A UUID as Hook0 writes it in a token: its 16 bytes.
    public static func term(_ id: UUID) -> Term {
        let value = id.uuid
        return .bytes([
            value.0, value.1, value.2, value.3, value.4, value.5, value.6, value.7, value.8, value.9, value.10,
            value.11, value.12, value.13, value.14, value.15,
        ])
    }

    /// A time as a Biscuit date (whole seconds since the Unix epoch).
    public static func term(_ date: Date) -> Term {
        .date(UInt64(max(0, date.timeIntervalSince1970.rounded(.down))))
    }

    /// The UUID a 16-byte term holds, or nil.
    public static func uuid(_ term: Term) -> UUID? {
        guard case .bytes(let bytes) = term, bytes.count == 16 else { return nil }
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
