import FerryCore
import FerryStorage
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    public func register(_ registration: Registration) async throws -> UUID {
        let organizationID = UUID()
        let logger = logger
        try await transaction { connection in
            let user = registration.user
            let inserted = try await connection.query(
                """
                INSERT INTO user_account (id, email, email_canonical, first_name, last_name, password_hash, created_at,
                    email_verified_at)
                VALUES (\(user.id), \(user.email), \(EmailAddress.canonical(user.email)), \(user.firstName),
                    \(user.lastName), \(registration.passwordHash), \(user.createdAt.postgres),
                    \(user.emailVerifiedAt?.postgres))
                ON CONFLICT (email_canonical) DO NOTHING RETURNING id
                """, logger: logger
            ).collect()
            guard !inserted.isEmpty else { throw DomainError.userAlreadyExists }
            let now = user.createdAt.postgres
            try await connection.query(
                """
                INSERT INTO organization (id, name, created_at)
                VALUES (\(organizationID), \(registration.personalOrganizationName), \(now))
                """, logger: logger)
            try await Self.insertMember(connection, organizationID, user.id, .editor, now, logger)
            if let invitation = registration.acceptingInvitation {
                let accepted = try await connection.query(
                    """
                    UPDATE invitation SET accepted_at = \(now) WHERE id = \(invitation.id) AND accepted_at IS NULL
                    RETURNING id
                    """, logger: logger
                ).collect()
                guard !accepted.isEmpty else { throw DomainError.forbidden }
                try await Self.insertMember(
                    connection, invitation.organizationID, user.id, invitation.role, now, logger)
            }
            if let mail = registration.mail { try await Self.insertMail(connection, mail, at: user.createdAt, logger) }
        }
        return organizationID
    }

    public func user(id: UUID) async throws -> User? {
        try await client.query("SELECT * FROM user_account WHERE id = \(id)", logger: logger).first.map {
            try Self.user(Columns($0))
        }
    }

    public func userCredentials(email: String) async throws -> (User, passwordHash: String)? {
        guard
            let row = try await client.query(
                "SELECT * FROM user_account WHERE email_canonical = \(EmailAddress.canonical(email))", logger: logger
            ).first
        else { return nil }
        let columns = Columns(row)
        return (try Self.user(columns), try columns.get("password_hash"))
    }

    public func passwordHash(userID: UUID) async throws -> String? {
        try await client.query("SELECT password_hash FROM user_account WHERE id = \(userID)", logger: logger).first.map
        { try Columns($0).get("password_hash") }
    }

    public func users() async throws -> [User] {
        try await client.query("SELECT * FROM user_account ORDER BY created_at", logger: logger).map {
            try Self.user(Columns($0))
        }
    }

    public func setPassword(
        userID: UUID, hash: String, endingSessions: Bool, consumingMailToken: [UInt8]?, at now: Date
    ) async throws -> Bool {
        let logger = logger
        return try await transaction { connection in
            if let spent = consumingMailToken {
                let fresh = try await connection.query(
                    """
                    INSERT INTO spent_mail_token (lookup_hash, spent_at) VALUES (\(ByteBuffer(bytes: spent)), \(now.postgres))
                    ON CONFLICT DO NOTHING RETURNING spent_at
                    """, logger: logger
                ).collect()
                guard !fresh.isEmpty else { return false }
            }
            let verifies = consumingMailToken != nil
            let updated = try await connection.query(
                """
                UPDATE user_account SET password_hash = \(hash),
                    email_verified_at = CASE WHEN \(verifies) THEN coalesce(email_verified_at, \(now.postgres))
                        ELSE email_verified_at END
                WHERE id = \(userID) RETURNING id
                """, logger: logger
            ).collect()
            guard !updated.isEmpty else { return false }
            if endingSessions {
                try await connection.query(
                    "UPDATE session_token SET ended_at = \(now.postgres) WHERE user_id = \(userID) AND ended_at IS NULL",
                    logger: logger)
            }
            return true
        }
    }

    public func markEmailVerified(userID: UUID, at now: Date) async throws -> Bool {
        try await !client.query(
            """
            UPDATE user_account SET email_verified_at = \(now.postgres)
            WHERE id = \(userID) AND email_verified_at IS NULL RETURNING id
            """, logger: logger
        ).isEmpty
    }

    public func setUserDisabled(userID: UUID, disabled: Bool, at now: Date) async throws -> Bool {
        let logger = logger
        return try await transaction { connection in
            let disabledAt: PostgresTimestamp? = disabled ? now.postgres : nil
            let updated = try await connection.query(
                "UPDATE user_account SET disabled_at = \(disabledAt) WHERE id = \(userID) RETURNING id", logger: logger
            ).collect()
            guard !updated.isEmpty else { return false }
            if disabled {
                try await connection.query(
                    "UPDATE session_token SET ended_at = \(now.postgres) WHERE user_id = \(userID) AND ended_at IS NULL",
                    logger: logger)
            }
            return true
        }
    }

    public func memberships(userID: UUID) async throws -> [UUID: OrganizationRole] {
        var memberships: [UUID: OrganizationRole] = [:]
        for row in try await client.query(
            "SELECT organization_id, role FROM membership WHERE user_id = \(userID)", logger: logger
        ) {
            let columns = Columns(row)
            memberships[try columns.get("organization_id")] = try Self.role(columns)
        }
        return memberships
    }

    public func members(organizationID: UUID) async throws -> [Member] {
        try await client.query(
            """
            SELECT u.*, m.role FROM membership m JOIN user_account u ON u.id = m.user_id
            WHERE m.organization_id = \(organizationID) ORDER BY u.email_canonical
            """, logger: logger
        ).map { row in
            let columns = Columns(row)
            return Member(user: try Self.user(columns), role: try Self.role(columns))
        }
    }

    public func createOrganization(name: String, editor: UUID) async throws -> Organization {
        let organization = Organization(id: UUID(), name: name, createdAt: Date())
        let logger = logger
        try await transaction { connection in
            let now = organization.createdAt.postgres
            try await connection.query(
                "INSERT INTO organization (id, name, created_at) VALUES (\(organization.id), \(name), \(now))",
                logger: logger)
            try await Self.insertMember(connection, organization.id, editor, .editor, now, logger)
        }
        return organization
    }

    public func addMember(organizationID: UUID, userID: UUID, role: OrganizationRole) async throws {
        let inserted = try await client.query(
            """
            INSERT INTO membership (organization_id, user_id, role, created_at)
            VALUES (\(organizationID), \(userID), \(role.rawValue), \(Date().postgres))
            ON CONFLICT DO NOTHING RETURNING user_id
            """, logger: logger
        )
        if inserted.isEmpty { throw DomainError.invitedUserAlreadyInOrganization }
    }

    public func setMemberRole(organizationID: UUID, userID: UUID, role: OrganizationRole) async throws -> Bool {
        let logger = logger
        return try await transaction { connection in
            guard let current = try await Self.lockedRole(connection, organizationID, userID, logger) else {
                return false
            }
            if current == .editor && role != .editor {
                try await Self.requireAnotherEditor(connection, organizationID, userID, logger)
            }
            try await connection.query(
                """
                UPDATE membership SET role = \(role.rawValue)
                WHERE organization_id = \(organizationID) AND user_id = \(userID)
                """, logger: logger)
            return true
        }
    }

    public func removeMember(organizationID: UUID, userID: UUID) async throws -> Bool {
        let logger = logger
        return try await transaction { connection in
            guard let current = try await Self.lockedRole(connection, organizationID, userID, logger) else {
                return false
            }
            if current == .editor { try await Self.requireAnotherEditor(connection, organizationID, userID, logger) }
            try await connection.query(
                "DELETE FROM membership WHERE organization_id = \(organizationID) AND user_id = \(userID)",
                logger: logger)
            return true
        }
    }

    public func createInvitation(_ invitation: PendingInvitation, secretHash: [UInt8], mail: OutboundMail?)
        async throws
    {
        let logger = logger
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO invitation (id, organization_id, email, email_canonical, role, secret_hash, created_at,
                    expires_at)
                VALUES (\(invitation.id), \(invitation.organizationID), \(invitation.email),
                    \(EmailAddress.canonical(invitation.email)), \(invitation.role.rawValue),
                    \(ByteBuffer(bytes: secretHash)), \(invitation.createdAt.postgres), \(invitation.expiresAt.postgres))
                ON CONFLICT (organization_id, email_canonical) DO UPDATE SET id = excluded.id, email = excluded.email,
                    role = excluded.role, secret_hash = excluded.secret_hash, created_at = excluded.created_at,
                    expires_at = excluded.expires_at, accepted_at = NULL
                """, logger: logger)
            if let mail { try await Self.insertMail(connection, mail, at: invitation.createdAt, logger) }
        }
    }

    public func invitation(secretHash: [UInt8], at now: Date) async throws -> PendingInvitation? {
        try await client.query(
            """
            SELECT * FROM invitation
            WHERE secret_hash = \(ByteBuffer(bytes: secretHash)) AND accepted_at IS NULL AND expires_at > \(now.postgres)
            """, logger: logger
        ).first.map { try Self.invitation(Columns($0)) }
    }

    public func invitations(organizationID: UUID, at now: Date) async throws -> [PendingInvitation] {
        try await client.query(
            """
            SELECT * FROM invitation
            WHERE organization_id = \(organizationID) AND accepted_at IS NULL AND expires_at > \(now.postgres)
            ORDER BY created_at
            """, logger: logger
        ).map { try Self.invitation(Columns($0)) }
    }

    public func deleteInvitation(id: UUID, organizationID: UUID) async throws -> Bool {
        try await !client.query(
            """
            DELETE FROM invitation WHERE id = \(id) AND organization_id = \(organizationID) AND accepted_at IS NULL
            RETURNING id
            """, logger: logger
        ).isEmpty
    }

    public func invitation(id: UUID, organizationID: UUID) async throws -> PendingInvitation? {
        try await client.query(
            """
            SELECT * FROM invitation WHERE id = \(id) AND organization_id = \(organizationID) AND accepted_at IS NULL
            """, logger: logger
        ).first.map { try Self.invitation(Columns($0)) }
    }

    public func renewInvitation(
        id: UUID, organizationID: UUID, secretHash: [UInt8], sentAt: Date, expiresAt: Date, mail: OutboundMail?
    ) async throws -> Bool {
        let logger = logger
        return try await transaction { connection in
            let renewed = try await connection.query(
                """
                UPDATE invitation SET secret_hash = \(ByteBuffer(bytes: secretHash)), created_at = \(sentAt.postgres),
                    expires_at = \(expiresAt.postgres)
                WHERE id = \(id) AND organization_id = \(organizationID) AND accepted_at IS NULL RETURNING id
                """, logger: logger
            ).collect()
            guard !renewed.isEmpty else { return false }
            if let mail { try await Self.insertMail(connection, mail, at: sentAt, logger) }
            return true
        }
    }

    public func storeSessionTokens(_ tokens: [SessionToken], signingIn: Bool, at now: Date) async throws {
        let logger = logger
        try await transaction { connection in
            try await Self.insertSessionTokens(connection, tokens, at: now, logger)
            if signingIn, let user = tokens.first?.userID {
                try await connection.query(
                    "UPDATE user_account SET last_login_at = \(now.postgres) WHERE id = \(user)", logger: logger)
            }
        }
    }

    public func liveSession(lookupHash: [UInt8], kind: SessionTokenKind, at now: Date) async throws
        -> (token: SessionToken, memberships: [UUID: OrganizationRole])?
    {
        var session: SessionToken?
        var memberships: [UUID: OrganizationRole] = [:]
        for row in try await client.query(
            """
            SELECT t.*, m.organization_id AS member_of, m.role FROM session_token t
            JOIN user_account u ON u.id = t.user_id LEFT JOIN membership m ON m.user_id = t.user_id
            WHERE t.lookup_hash = \(ByteBuffer(bytes: lookupHash)) AND t.kind = \(kind.rawValue) AND t.ended_at IS NULL
                AND t.expires_at > \(now.postgres) AND u.disabled_at IS NULL
            """, logger: logger)
        {
            let columns = Columns(row)
            if session == nil { session = try Self.sessionToken(columns) }
            if let organization = try columns.get("member_of", as: UUID?.self) {
                memberships[organization] = try Self.role(columns)
            }
        }
        return session.map { ($0, memberships) }
    }

    public func rotateRefreshToken(lookupHash: [UInt8], replacements: [SessionToken], at now: Date) async throws
        -> RefreshOutcome
    {
        let logger = logger
        return try await transaction { connection in
            guard
                let row = try await connection.query(
                    """
                    SELECT t.*, u.disabled_at FROM session_token t JOIN user_account u ON u.id = t.user_id
                    WHERE t.lookup_hash = \(ByteBuffer(bytes: lookupHash)) AND t.kind = 'refresh' FOR UPDATE OF t
                    """, logger: logger
                ).collect().first
            else { return .refused }
            let columns = Columns(row)
            let token = try Self.sessionToken(columns)
            if try columns.get("rotated", as: Bool.self) {
                try await connection.query(
                    """
                    UPDATE session_token SET ended_at = \(now.postgres)
                    WHERE user_id = \(token.userID) AND session_id = \(token.sessionID) AND ended_at IS NULL
                    """, logger: logger)
                return .reused
            }
            guard try columns.get("ended_at", as: Date?.self) == nil, token.expiresAt > now,
                try columns.get("disabled_at", as: Date?.self) == nil
            else { return .refused }
            try await connection.query(
                """
                UPDATE session_token SET ended_at = \(now.postgres), rotated = true
                WHERE lookup_hash = \(ByteBuffer(bytes: lookupHash))
                """, logger: logger)
            try await Self.insertSessionTokens(connection, replacements, at: now, logger)
            return .rotated
        }
    }

    public func endSession(userID: UUID, sessionID: UUID, at now: Date) async throws {
        try await client.query(
            """
            UPDATE session_token SET ended_at = \(now.postgres)
            WHERE user_id = \(userID) AND session_id = \(sessionID) AND ended_at IS NULL
            """, logger: logger)
    }

    public func mailTokenIsSpent(lookupHash: [UInt8]) async throws -> Bool {
        try await !client.query(
            "SELECT 1 FROM spent_mail_token WHERE lookup_hash = \(ByteBuffer(bytes: lookupHash))", logger: logger
        ).isEmpty
    }

    public func sessions(userID: UUID, at now: Date) async throws -> [AccountSession] {
        try await client.query(
            """
            SELECT session_id, min(created_at) AS opened_at, max(created_at) AS renewed_at,
                max(expires_at) FILTER (WHERE ended_at IS NULL) AS expires_at,
                bool_or(kind = 'dashboard') AS in_dashboard
            FROM session_token WHERE user_id = \(userID)
            GROUP BY session_id
            HAVING count(*) FILTER (WHERE ended_at IS NULL AND expires_at > \(now.postgres)) > 0
            ORDER BY opened_at DESC LIMIT 100
            """, logger: logger
        ).map { try AccountSession(stored: Columns($0)) }
    }

    public func endSessions(userID: UUID, except keeping: UUID, at now: Date) async throws -> Int {
        let rows = try await client.query(
            """
            WITH ended AS (
                UPDATE session_token SET ended_at = \(now.postgres)
                WHERE user_id = \(userID) AND session_id <> \(keeping) AND ended_at IS NULL
                RETURNING session_id, expires_at)
            SELECT count(DISTINCT session_id) AS sessions FROM ended WHERE expires_at > \(now.postgres)
            """, logger: logger)
        return try rows.first.map { try Columns($0).get("sessions", as: Int.self) } ?? 0
    }

    public func recordThrottledEvent(keys: [String], at now: Date) async throws {
        try await client.query(
            """
            INSERT INTO throttle_event (key, happened_at) SELECT unnest(\(keys)::text[]), \(now.postgres)
            """, logger: logger)
        try await client.query(
            "DELETE FROM throttle_event WHERE happened_at < \(now.addingTimeInterval(-86_400).postgres)", logger: logger
        )
    }

    public func throttledEvents(key: String, since: Date) async throws -> [Date] {
        try await client.query(
            """
            SELECT happened_at FROM throttle_event WHERE key = \(key) AND happened_at >= \(since.postgres)
            ORDER BY happened_at
            """, logger: logger
        ).map { try Columns($0).get("happened_at") }
    }

    public func clearThrottledEvents(key: String) async throws {
        try await client.query("DELETE FROM throttle_event WHERE key = \(key)", logger: logger)
    }

    public func enqueueMail(_ mail: OutboundMail, at now: Date) async throws {
        let logger = logger
        try await transaction { connection in try await Self.insertMail(connection, mail, at: now, logger) }
    }

    public func claimDueMails(limit: Int, lease: Duration, at now: Date) async throws -> [OutboundMail] {
        let leaseEnd = now.addingTimeInterval(Double(lease.components.seconds))
        return try await client.query(
            """
            WITH claimed AS (
                UPDATE mail_outbox SET next_attempt_at = \(leaseEnd.postgres)
                WHERE id IN (
                    SELECT id FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= \(now.postgres)
                    ORDER BY created_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING *)
            SELECT * FROM claimed ORDER BY created_at
            """, logger: logger
        ).map { row in
            let columns = Columns(row)
            return OutboundMail(
                id: try columns.get("id"), recipient: try columns.get("recipient"), subject: try columns.get("subject"),
                body: try columns.get("body"), failedAttempts: try columns.get("failed_attempts", as: Int.self))
        }
    }

    public func markMailSent(id: UUID, at now: Date) async throws {
        try await client.query("UPDATE mail_outbox SET sent_at = \(now.postgres) WHERE id = \(id)", logger: logger)
    }

    public func deferMail(id: UUID, until: Date, error: String) async throws {
        try await client.query(
            """
            UPDATE mail_outbox SET next_attempt_at = \(until.postgres), failed_attempts = failed_attempts + 1,
                last_error = \(error)
            WHERE id = \(id)
            """, logger: logger)
    }

    private static func insertMember(
        _ connection: PostgresConnection, _ organization: UUID, _ user: UUID, _ role: OrganizationRole,
        _ now: PostgresTimestamp, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO membership (organization_id, user_id, role, created_at)
            VALUES (\(organization), \(user), \(role.rawValue), \(now))
            """, logger: logger)
    }

    private static func lockedRole(
        _ connection: PostgresConnection, _ organization: UUID, _ user: UUID, _ logger: Logger
    ) async throws -> OrganizationRole? {
        // Locks every membership row of the organization, so two concurrent demotions cannot both see another editor.
        let rows = try await connection.query(
            "SELECT user_id, role FROM membership WHERE organization_id = \(organization) FOR UPDATE", logger: logger
        ).collect()
        for row in rows {
            let columns = Columns(row)
            if try columns.get("user_id", as: UUID.self) == user { return try role(columns) }
        }
        return nil
    }

    private static func requireAnotherEditor(
        _ connection: PostgresConnection, _ organization: UUID, _ user: UUID, _ logger: Logger
    ) async throws {
        let others =
            try await connection.query(
                """
                SELECT count(*) FROM membership
                WHERE organization_id = \(organization) AND role = 'editor' AND user_id <> \(user)
                """, logger: logger
            ).collect().first.map { try Columns($0).get("count", as: Int.self) } ?? 0
        if others == 0 { throw DomainError.lastEditor }
    }

    private static func insertSessionTokens(
        _ connection: PostgresConnection, _ tokens: [SessionToken], at now: Date, _ logger: Logger
    ) async throws {
        for token in tokens {
            try await connection.query(
                """
                INSERT INTO session_token (lookup_hash, kind, user_id, session_id, created_at, expires_at)
                VALUES (\(ByteBuffer(bytes: token.lookupHash)), \(token.kind.rawValue), \(token.userID),
                    \(token.sessionID), \(now.postgres), \(token.expiresAt.postgres))
                """, logger: logger)
        }
    }

    private static func insertMail(
        _ connection: PostgresConnection, _ mail: OutboundMail, at now: Date, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO mail_outbox (id, recipient, subject, body, created_at, next_attempt_at)
            VALUES (\(mail.id), \(mail.recipient), \(mail.subject), \(mail.body), \(now.postgres), \(now.postgres))
            """, logger: logger)
    }

    static func user(_ columns: Columns) throws -> User {
        User(
            id: try columns.get("id"), email: try columns.get("email"), firstName: try columns.get("first_name"),
            lastName: try columns.get("last_name"), createdAt: try columns.get("created_at"),
            emailVerifiedAt: try columns.get("email_verified_at"), disabledAt: try columns.get("disabled_at"),
            lastLoginAt: try columns.get("last_login_at"))
    }

    static func role(_ columns: Columns) throws -> OrganizationRole {
        let text = try columns.get("role", as: String.self)
        guard let role = OrganizationRole(rawValue: text) else {
            throw StorageError.failed("membership role \(text) is not editor or viewer")
        }
        return role
    }

    static func invitation(_ columns: Columns) throws -> PendingInvitation {
        PendingInvitation(
            id: try columns.get("id"), organizationID: try columns.get("organization_id"),
            email: try columns.get("email"), role: try role(columns), createdAt: try columns.get("created_at"),
            expiresAt: try columns.get("expires_at"))
    }

    static func sessionToken(_ columns: Columns) throws -> SessionToken {
        let kind = try columns.get("kind", as: String.self)
        guard let parsed = SessionTokenKind(rawValue: kind) else {
            throw StorageError.failed("session token kind \(kind) is unknown")
        }
        return SessionToken(
            lookupHash: try columns.bytes("lookup_hash"), kind: parsed, userID: try columns.get("user_id"),
            sessionID: try columns.get("session_id"), expiresAt: try columns.get("expires_at"))
    }
}
