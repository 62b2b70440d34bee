import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    public func register(_ registration: Registration) async throws -> UUID {
        let organizationID = UUID()
        try await write { db in
            let user = registration.user
            let canonical = EmailAddress.canonical(user.email)
            guard
                try Row.fetchOne(
                    db, sql: "SELECT 1 FROM user_account WHERE email_canonical = ?", arguments: [canonical]) == nil
            else { throw DomainError.userAlreadyExists }
            try db.execute(
                sql: """
                    INSERT INTO user_account (id, email, email_canonical, first_name, last_name, password_hash,
                        created_at, email_verified_at, disabled_at, last_login_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
                    """,
                arguments: [
                    user.id.lowercased, user.email, canonical, user.firstName, user.lastName,
                    registration.passwordHash, SQLValues.micros(user.createdAt),
                    user.emailVerifiedAt.map(SQLValues.micros),
                ])
            let now = SQLValues.micros(user.createdAt)
            try db.execute(
                sql: "INSERT INTO organization (id, name, created_at) VALUES (?, ?, ?)",
                arguments: [organizationID.lowercased, registration.personalOrganizationName, now])
            try Self.insertMember(db, organizationID, user.id, .editor, now)
            if let invitation = registration.acceptingInvitation {
                try db.execute(
                    sql: "UPDATE invitation SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL",
                    arguments: [now, invitation.id.lowercased])
                guard db.changesCount > 0 else { throw DomainError.forbidden }
                try Self.insertMember(db, invitation.organizationID, user.id, invitation.role, now)
            }
            if let mail = registration.mail { try Self.insertMail(db, mail, at: user.createdAt) }
        }
        return organizationID
    }

    public func user(id: UUID) async throws -> User? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM user_account WHERE id = ?", arguments: [id.lowercased])
                .map(Self.user)
        }
    }

    public func userCredentials(email: String) async throws -> (User, passwordHash: String)? {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM user_account WHERE email_canonical = ?",
                    arguments: [EmailAddress.canonical(email)])
            else { return nil }
            return (try Self.user(row), row["password_hash"])
        }
    }

    public func passwordHash(userID: UUID) async throws -> String? {
        try await read { db in
            try String.fetchOne(
                db, sql: "SELECT password_hash FROM user_account WHERE id = ?", arguments: [userID.lowercased])
        }
    }

    public func users() async throws -> [User] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM user_account ORDER BY created_at").map(Self.user)
        }
    }

    public func setPassword(
        userID: UUID, hash: String, endingSessions: Bool, consumingMailToken: [UInt8]?, at now: Date
    ) async throws -> Bool {
        try await write { db in
            let micros = SQLValues.micros(now)
            if let spent = consumingMailToken {
                try db.execute(
                    sql: "INSERT INTO spent_mail_token (lookup_hash, spent_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    arguments: [Data(spent), micros])
                guard db.changesCount > 0 else { return false }
            }
            try db.execute(
                sql: """
                    UPDATE user_account SET password_hash = ?,
                        email_verified_at = CASE WHEN ? THEN coalesce(email_verified_at, ?) ELSE email_verified_at END
                    WHERE id = ?
                    """,
                arguments: [hash, consumingMailToken != nil, micros, userID.lowercased])
            guard db.changesCount > 0 else { return false }
            if endingSessions {
                try db.execute(
                    sql: "UPDATE session_token SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                    arguments: [micros, userID.lowercased])
            }
            return true
        }
    }

    public func markEmailVerified(userID: UUID, at now: Date) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE user_account SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL",
                arguments: [SQLValues.micros(now), userID.lowercased])
            return db.changesCount > 0
        }
    }

    public func setUserDisabled(userID: UUID, disabled: Bool, at now: Date) async throws -> Bool {
        try await write { db in
            let micros = SQLValues.micros(now)
            try db.execute(
                sql: "UPDATE user_account SET disabled_at = ? WHERE id = ?",
                arguments: [disabled ? micros : nil, userID.lowercased])
            guard db.changesCount > 0 else { return false }
            if disabled {
                try db.execute(
                    sql: "UPDATE session_token SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                    arguments: [micros, userID.lowercased])
            }
            return true
        }
    }

    public func memberships(userID: UUID) async throws -> [UUID: OrganizationRole] {
        try await read { db in
            var memberships: [UUID: OrganizationRole] = [:]
            for row in try db.cachedRows(
                "SELECT organization_id, role FROM membership WHERE user_id = ?", [userID.lowercased])
            {
                memberships[try SQLValues.uuid(row, "organization_id")] = try Self.role(row)
            }
            return memberships
        }
    }

    public func members(organizationID: UUID) async throws -> [Member] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT u.*, m.role FROM membership m JOIN user_account u ON u.id = m.user_id
                    WHERE m.organization_id = ? ORDER BY u.email_canonical
                    """,
                arguments: [organizationID.lowercased]
            ).map { Member(user: try Self.user($0), role: try Self.role($0)) }
        }
    }

    public func createOrganization(name: String, editor: UUID) async throws -> Organization {
        let organization = Organization(id: UUID(), name: name, createdAt: Date())
        try await write { db in
            let now = SQLValues.micros(organization.createdAt)
            try db.execute(
                sql: "INSERT INTO organization (id, name, created_at) VALUES (?, ?, ?)",
                arguments: [organization.id.lowercased, name, now])
            try Self.insertMember(db, organization.id, editor, .editor, now)
        }
        return organization
    }

    public func addMember(organizationID: UUID, userID: UUID, role: OrganizationRole) async throws {
        try await write { db in
            guard
                try Row.fetchOne(
                    db, sql: "SELECT 1 FROM membership WHERE organization_id = ? AND user_id = ?",
                    arguments: [organizationID.lowercased, userID.lowercased]) == nil
            else { throw DomainError.invitedUserAlreadyInOrganization }
            try Self.insertMember(db, organizationID, userID, role, SQLValues.micros(Date()))
        }
    }

    public func setMemberRole(organizationID: UUID, userID: UUID, role: OrganizationRole) async throws -> Bool {
        try await write { db in
            guard let current = try Self.memberRole(db, organizationID, userID) else { return false }
            if current == .editor && role != .editor { try Self.requireAnotherEditor(db, organizationID, userID) }
            try db.execute(
                sql: "UPDATE membership SET role = ? WHERE organization_id = ? AND user_id = ?",
                arguments: [role.rawValue, organizationID.lowercased, userID.lowercased])
            return true
        }
    }

    public func removeMember(organizationID: UUID, userID: UUID) async throws -> Bool {
        try await write { db in
            guard let current = try Self.memberRole(db, organizationID, userID) else { return false }
            if current == .editor { try Self.requireAnotherEditor(db, organizationID, userID) }
            try db.execute(
                sql: "DELETE FROM membership WHERE organization_id = ? AND user_id = ?",
                arguments: [organizationID.lowercased, userID.lowercased])
            return true
        }
    }

    public func createInvitation(_ invitation: PendingInvitation, secretHash: [UInt8], mail: OutboundMail?)
        async throws
    {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO invitation (id, organization_id, email, email_canonical, role, secret_hash, created_at,
                        expires_at, accepted_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
                    ON CONFLICT (organization_id, email_canonical) DO UPDATE SET id = excluded.id,
                        email = excluded.email, role = excluded.role, secret_hash = excluded.secret_hash,
                        created_at = excluded.created_at, expires_at = excluded.expires_at, accepted_at = NULL
                    """,
                arguments: [
                    invitation.id.lowercased, invitation.organizationID.lowercased, invitation.email,
                    EmailAddress.canonical(invitation.email), invitation.role.rawValue, Data(secretHash),
                    SQLValues.micros(invitation.createdAt), SQLValues.micros(invitation.expiresAt),
                ])
            if let mail { try Self.insertMail(db, mail, at: invitation.createdAt) }
        }
    }

    public func invitation(secretHash: [UInt8], at now: Date) async throws -> PendingInvitation? {
        try await read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM invitation WHERE secret_hash = ? AND accepted_at IS NULL AND expires_at > ?",
                arguments: [Data(secretHash), SQLValues.micros(now)]
            ).map(Self.invitation)
        }
    }

    public func invitations(organizationID: UUID, at now: Date) async throws -> [PendingInvitation] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM invitation WHERE organization_id = ? AND accepted_at IS NULL AND expires_at > ?
                    ORDER BY created_at
                    """,
                arguments: [organizationID.lowercased, SQLValues.micros(now)]
            ).map(Self.invitation)
        }
    }

    public func deleteInvitation(id: UUID, organizationID: UUID) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM invitation WHERE id = ? AND organization_id = ? AND accepted_at IS NULL",
                arguments: [id.lowercased, organizationID.lowercased])
            return db.changesCount > 0
        }
    }

    public func invitation(id: UUID, organizationID: UUID) async throws -> PendingInvitation? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM invitation WHERE id = ? AND organization_id = ? AND accepted_at IS NULL",
                arguments: [id.lowercased, organizationID.lowercased]
            ).map(Self.invitation)
        }
    }

    public func renewInvitation(
        id: UUID, organizationID: UUID, secretHash: [UInt8], sentAt: Date, expiresAt: Date, mail: OutboundMail?
    ) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE invitation SET secret_hash = ?, created_at = ?, expires_at = ?
                    WHERE id = ? AND organization_id = ? AND accepted_at IS NULL
                    """,
                arguments: [
                    Data(secretHash), SQLValues.micros(sentAt), SQLValues.micros(expiresAt), id.lowercased,
                    organizationID.lowercased,
                ])
            guard db.changesCount > 0 else { return false }
            if let mail { try Self.insertMail(db, mail, at: sentAt) }
            return true
        }
    }

    public func storeSessionTokens(_ tokens: [SessionToken], signingIn: Bool, at now: Date) async throws {
        try await write { db in
            try Self.insertSessionTokens(db, tokens, at: now)
            if signingIn, let user = tokens.first?.userID {
                try db.execute(
                    sql: "UPDATE user_account SET last_login_at = ? WHERE id = ?",
                    arguments: [SQLValues.micros(now), user.lowercased])
            }
        }
    }

    public func liveSession(lookupHash: [UInt8], kind: SessionTokenKind, at now: Date) async throws
        -> (token: SessionToken, memberships: [UUID: OrganizationRole])?
    {
        try await read { db in
            let rows = try db.cachedRows(
                """
                SELECT t.*, m.organization_id AS member_of, m.role FROM session_token t
                JOIN user_account u ON u.id = t.user_id LEFT JOIN membership m ON m.user_id = t.user_id
                WHERE t.lookup_hash = ? AND t.kind = ? AND t.ended_at IS NULL AND t.expires_at > ?
                    AND u.disabled_at IS NULL
                """,
                [Data(lookupHash), kind.rawValue, SQLValues.micros(now)])
            guard let first = rows.first else { return nil }
            var memberships: [UUID: OrganizationRole] = [:]
            for row in rows {
                guard let organization = try SQLValues.optionalUUID(row, "member_of") else { continue }
                memberships[organization] = try Self.role(row)
            }
            return (try Self.sessionToken(first), memberships)
        }
    }

    public func rotateRefreshToken(lookupHash: [UInt8], replacements: [SessionToken], at now: Date) async throws
        -> RefreshOutcome
    {
        try await write { db in
            let micros = SQLValues.micros(now)
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT t.*, u.disabled_at FROM session_token t JOIN user_account u ON u.id = t.user_id
                        WHERE t.lookup_hash = ? AND t.kind = 'refresh'
                        """,
                    arguments: [Data(lookupHash)])
            else { return .refused }
            let token = try Self.sessionToken(row)
            if (row["rotated"] as Int64) != 0 {
                try db.execute(
                    sql: """
                        UPDATE session_token SET ended_at = ? WHERE user_id = ? AND session_id = ? AND ended_at IS NULL
                        """,
                    arguments: [micros, token.userID.lowercased, token.sessionID.lowercased])
                return .reused
            }
            guard row["ended_at"] as Int64? == nil else { return .refused }
            guard token.expiresAt > now, row["disabled_at"] as Int64? == nil else { return .refused }
            try db.execute(
                sql: "UPDATE session_token SET ended_at = ?, rotated = 1 WHERE lookup_hash = ?",
                arguments: [micros, Data(lookupHash)])
            try Self.insertSessionTokens(db, replacements, at: now)
            return .rotated
        }
    }

    public func endSession(userID: UUID, sessionID: UUID, at now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE session_token SET ended_at = ? WHERE user_id = ? AND session_id = ? AND ended_at IS NULL",
                arguments: [SQLValues.micros(now), userID.lowercased, sessionID.lowercased])
        }
    }

    public func mailTokenIsSpent(lookupHash: [UInt8]) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM spent_mail_token WHERE lookup_hash = ?)",
                arguments: [Data(lookupHash)]) ?? false
        }
    }

    public func sessions(userID: UUID, at now: Date) async throws -> [AccountSession] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT session_id, MIN(created_at) AS opened_at, MAX(created_at) AS renewed_at,
                        MAX(CASE WHEN ended_at IS NULL THEN expires_at END) AS expires_at,
                        MAX(kind = 'dashboard') AS in_dashboard
                    FROM session_token WHERE user_id = ?
                    GROUP BY session_id
                    HAVING SUM(ended_at IS NULL AND expires_at > ?) > 0
                    ORDER BY opened_at DESC LIMIT 100
                    """,
                arguments: [userID.lowercased, SQLValues.micros(now)]
            ).map { try AccountSession(stored: SQLiteRow($0)) }
        }
    }

    public func endSessions(userID: UUID, except keeping: UUID, at now: Date) async throws -> Int {
        try await write { db in
            let ended = try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT session_id FROM session_token
                    WHERE user_id = ? AND session_id <> ? AND ended_at IS NULL AND expires_at > ?
                    """,
                arguments: [userID.lowercased, keeping.lowercased, SQLValues.micros(now)])
            try db.execute(
                sql: "UPDATE session_token SET ended_at = ? WHERE user_id = ? AND session_id <> ? AND ended_at IS NULL",
                arguments: [SQLValues.micros(now), userID.lowercased, keeping.lowercased])
            return ended.count
        }
    }

    public func recordThrottledEvent(keys: [String], at now: Date) async throws {
        try await write { db in
            for key in keys {
                try db.execute(
                    sql: "INSERT INTO throttle_event (key, happened_at) VALUES (?, ?)",
                    arguments: [key, SQLValues.micros(now)])
            }
            try db.execute(
                sql: "DELETE FROM throttle_event WHERE happened_at < ?",
                arguments: [SQLValues.micros(now.addingTimeInterval(-86_400))])
        }
    }

    public func throttledEvents(key: String, since: Date) async throws -> [Date] {
        try await read { db in
            try Int64.fetchAll(
                db,
                sql: "SELECT happened_at FROM throttle_event WHERE key = ? AND happened_at >= ? ORDER BY happened_at",
                arguments: [key, SQLValues.micros(since)]
            ).map(Timestamp.date(microseconds:))
        }
    }

    public func clearThrottledEvents(key: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM throttle_event WHERE key = ?", arguments: [key])
        }
    }

    public func enqueueMail(_ mail: OutboundMail, at now: Date) async throws {
        try await write { db in try Self.insertMail(db, mail, at: now) }
    }

    public func claimDueMails(limit: Int, lease: Duration, at now: Date) async throws -> [OutboundMail] {
        try await write { db in
            let mails = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= ?
                    ORDER BY created_at LIMIT ?
                    """,
                arguments: [SQLValues.micros(now), limit]
            ).map { row in
                OutboundMail(
                    id: try SQLValues.uuid(row, "id"), recipient: row["recipient"], subject: row["subject"],
                    body: row["body"], failedAttempts: row["failed_attempts"])
            }
            let leaseEnd = SQLValues.micros(now.addingTimeInterval(Double(lease.components.seconds)))
            for mail in mails {
                try db.execute(
                    sql: "UPDATE mail_outbox SET next_attempt_at = ? WHERE id = ?",
                    arguments: [leaseEnd, mail.id.lowercased])
            }
            return mails
        }
    }

    public func markMailSent(id: UUID, at now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE mail_outbox SET sent_at = ? WHERE id = ?",
                arguments: [SQLValues.micros(now), id.lowercased])
        }
    }

    public func deferMail(id: UUID, until: Date, error: String) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE mail_outbox SET next_attempt_at = ?, failed_attempts = failed_attempts + 1, last_error = ?
                    WHERE id = ?
                    """,
                arguments: [SQLValues.micros(until), error, id.lowercased])
        }
    }

    private static func insertMember(
        _ db: Database, _ organization: UUID, _ user: UUID, _ role: OrganizationRole, _ now: Int64
    ) throws {
        try db.execute(
            sql: "INSERT INTO membership (organization_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
            arguments: [organization.lowercased, user.lowercased, role.rawValue, now])
    }

    private static func memberRole(_ db: Database, _ organization: UUID, _ user: UUID) throws -> OrganizationRole? {
        try Row.fetchOne(
            db, sql: "SELECT role FROM membership WHERE organization_id = ? AND user_id = ?",
            arguments: [organization.lowercased, user.lowercased]
        ).map(role)
    }

    private static func requireAnotherEditor(_ db: Database, _ organization: UUID, _ user: UUID) throws {
        let others =
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM membership WHERE organization_id = ? AND role = 'editor' AND user_id != ?",
                arguments: [organization.lowercased, user.lowercased]) ?? 0
        if others == 0 { throw DomainError.lastEditor }
    }

    private static func insertSessionTokens(_ db: Database, _ tokens: [SessionToken], at now: Date) throws {
        for token in tokens {
            try db.execute(
                sql: """
                    INSERT INTO session_token (lookup_hash, kind, user_id, session_id, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(token.lookupHash), token.kind.rawValue, token.userID.lowercased, token.sessionID.lowercased,
                    SQLValues.micros(now), SQLValues.micros(token.expiresAt),
                ])
        }
    }

    private static func insertMail(_ db: Database, _ mail: OutboundMail, at now: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO mail_outbox (id, recipient, subject, body, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                mail.id.lowercased, mail.recipient, mail.subject, mail.body, SQLValues.micros(now),
                SQLValues.micros(now),
            ])
    }

    static func user(_ row: Row) throws -> User {
        User(
            id: try SQLValues.uuid(row, "id"), email: row["email"], firstName: row["first_name"],
            lastName: row["last_name"], createdAt: SQLValues.date(row, "created_at"),
            emailVerifiedAt: SQLValues.optionalDate(row, "email_verified_at"),
            disabledAt: SQLValues.optionalDate(row, "disabled_at"),
            lastLoginAt: SQLValues.optionalDate(row, "last_login_at"))
    }

    static func role(_ row: Row) throws -> OrganizationRole {
        let text: String = row["role"]
        guard let role = OrganizationRole(rawValue: text) else {
            throw StorageError.failed("membership role \(text) is not editor or viewer")
        }
        return role
    }

    static func invitation(_ row: Row) throws -> PendingInvitation {
        PendingInvitation(
            id: try SQLValues.uuid(row, "id"), organizationID: try SQLValues.uuid(row, "organization_id"),
            email: row["email"], role: try role(row), createdAt: SQLValues.date(row, "created_at"),
            expiresAt: SQLValues.date(row, "expires_at"))
    }

    static func sessionToken(_ row: Row) throws -> SessionToken {
        let kind: String = row["kind"]
        guard let parsed = SessionTokenKind(rawValue: kind) else {
            throw StorageError.failed("session token kind \(kind) is unknown")
        }
        return SessionToken(
            lookupHash: SQLValues.bytes(row, "lookup_hash"), kind: parsed, userID: try SQLValues.uuid(row, "user_id"),
            sessionID: try SQLValues.uuid(row, "session_id"), expiresAt: SQLValues.date(row, "expires_at"))
    }
}
