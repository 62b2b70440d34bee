import FerryCore
import Foundation

/// What a session token is: the short-lived access token or the refresh token that renews it.
public enum SessionTokenKind: String, Sendable {
    case access = "user_access"
    case refresh
    /// A signed-in browser of the dashboard, found by the hash of its session cookie's secret.
    case dashboard
}

/// A minted session token as stored: found by the SHA-256 of its root block's revocation id (a token attenuated
/// from it has the same root, so it is found too), live until it expires or is ended.
public struct SessionToken: Sendable, Equatable {
    public var lookupHash: [UInt8]
    public var kind: SessionTokenKind
    public var userID: UUID
    public var sessionID: UUID
    public var expiresAt: Date

    public init(lookupHash: [UInt8], kind: SessionTokenKind, userID: UUID, sessionID: UUID, expiresAt: Date) {
        self.lookupHash = lookupHash
        self.kind = kind
        self.userID = userID
        self.sessionID = sessionID
        self.expiresAt = expiresAt
    }
}

/// One live session of a person, as their settings page lists it.
public struct AccountSession: Sendable, Equatable {
    public var sessionID: UUID
    /// When the person signed in.
    public var openedAt: Date
    /// When a token of the session was last minted (a refresh renews an API session).
    public var renewedAt: Date
    /// When its last live token expires.
    public var expiresAt: Date
    /// Whether it is a dashboard browser rather than an API sign-in.
    public var isDashboard: Bool

    public init(sessionID: UUID, openedAt: Date, renewedAt: Date, expiresAt: Date, isDashboard: Bool) {
        self.sessionID = sessionID
        self.openedAt = openedAt
        self.renewedAt = renewedAt
        self.expiresAt = expiresAt
        self.isDashboard = isDashboard
    }

    /// A session from its grouped row (`session_id`, `opened_at`, `renewed_at`, `expires_at`, `in_dashboard`).
    public init(stored row: some StoredRow) throws {
        self.init(
            sessionID: try row.uuid("session_id"), openedAt: try row.date("opened_at"),
            renewedAt: try row.date("renewed_at"), expiresAt: try row.date("expires_at"),
            isDashboard: try row.bool("in_dashboard"))
    }
}

/// What happened to a refresh token presented for rotation.
public enum RefreshOutcome: Sendable, Equatable {
    /// It was live: it is now ended and the new pair is stored.
    case rotated
    /// It had already been rotated: someone replayed it, so the whole session (every token of it) was ended.
    case reused
    /// It is unknown, expired, its session was ended, or its account is disabled.
    case refused
}

/// A mail waiting in the outbox, stored in the same transaction as the change it tells of, so it is never lost
/// and never sent for a change that did not happen.
public struct OutboundMail: Sendable, Equatable {
    public var id: UUID
    public var recipient: String
    public var subject: String
    public var body: String
    /// How many delivery attempts failed so far.
    public var failedAttempts: Int

    public init(id: UUID = UUID(), recipient: String, subject: String, body: String, failedAttempts: Int = 0) {
        self.id = id
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.failedAttempts = failedAttempts
    }
}

/// A registration: the account, its personal organization (where it is `editor`), an optional pending invitation
/// it accepts (joining that organization too, its e-mail then counting as verified), and the mail to send.
public struct Registration: Sendable {
    public var user: User
    public var passwordHash: String
    public var personalOrganizationName: String
    public var acceptingInvitation: PendingInvitation?
    public var mail: OutboundMail?

    public init(
        user: User, passwordHash: String, personalOrganizationName: String,
        acceptingInvitation: PendingInvitation? = nil, mail: OutboundMail? = nil
    ) {
        self.user = user
        self.passwordHash = passwordHash
        self.personalOrganizationName = personalOrganizationName
        self.acceptingInvitation = acceptingInvitation
        self.mail = mail
    }
}

/// People: accounts, memberships, invitations, sessions, throttling of sign-ins and mails, and the mail outbox.
public protocol IdentityStore: Sendable {
    /// Creates the account and its personal organization in one transaction; returns the organization's id.
    /// Throws `DomainError.userAlreadyExists` when the e-mail address (compared without case) has an account.
    func register(_ registration: Registration) async throws -> UUID
    /// The account with this id.
    func user(id: UUID) async throws -> User?
    /// The account with this e-mail address (without regard to case) and its password hash.
    func userCredentials(email: String) async throws -> (User, passwordHash: String)?
    /// The password hash of an account.
    func passwordHash(userID: UUID) async throws -> String?
    /// Every account, by creation time.
    func users() async throws -> [User]
    /// Stores a new password hash. With `endingSessions`, every session of the account ends. With
    /// `consumingMailToken`, the reset link of that lookup hash is spent in the same transaction; false (and
    /// nothing changed) if it was spent already. A reset also proves the address, so it marks it verified.
    func setPassword(userID: UUID, hash: String, endingSessions: Bool, consumingMailToken: [UInt8]?, at now: Date)
        async throws -> Bool
    /// Marks the address verified; false if it already was (or the account is gone).
    func markEmailVerified(userID: UUID, at now: Date) async throws -> Bool
    /// Disables or re-enables an account; disabling ends its sessions.
    func setUserDisabled(userID: UUID, disabled: Bool, at now: Date) async throws -> Bool

    /// The account's organizations and its role in each (what the authorizer trusts for a person).
    func memberships(userID: UUID) async throws -> [UUID: OrganizationRole]
    /// The members of an organization, by e-mail address.
    func members(organizationID: UUID) async throws -> [Member]
    /// Creates an organization whose first editor is `editor`.
    func createOrganization(name: String, editor: UUID) async throws -> Organization
    /// Adds a member; throws `DomainError.invitedUserAlreadyInOrganization` if they are one.
    func addMember(organizationID: UUID, userID: UUID, role: OrganizationRole) async throws
    /// Changes a member's role; false if they are not a member. Throws `DomainError.lastEditor` when it would
    /// leave no editor.
    func setMemberRole(organizationID: UUID, userID: UUID, role: OrganizationRole) async throws -> Bool
    /// Removes a member; false if they are not one. Throws `DomainError.lastEditor` when it would leave no editor.
    func removeMember(organizationID: UUID, userID: UUID) async throws -> Bool

    /// Stores a pending invitation (and its mail) under the SHA-256 of its link's secret, replacing an earlier
    /// one for the same address and organization.
    func createInvitation(_ invitation: PendingInvitation, secretHash: [UInt8], mail: OutboundMail?) async throws
    /// The unexpired, unaccepted invitation with this secret hash.
    func invitation(secretHash: [UInt8], at now: Date) async throws -> PendingInvitation?
    /// The unexpired pending invitations of an organization.
    func invitations(organizationID: UUID, at now: Date) async throws -> [PendingInvitation]
    /// Cancels a pending invitation; false if there was none.
    func deleteInvitation(id: UUID, organizationID: UUID) async throws -> Bool
    /// An invitation of an organization that was not accepted, expired or not.
    func invitation(id: UUID, organizationID: UUID) async throws -> PendingInvitation?
    /// Sends an unaccepted invitation again under the same id: a new link secret, `sentAt` as its `createdAt`, a
    /// new expiry, and `mail` queued in the same transaction. False if it was accepted or cancelled meanwhile.
    func renewInvitation(
        id: UUID, organizationID: UUID, secretHash: [UInt8], sentAt: Date, expiresAt: Date, mail: OutboundMail?
    ) async throws -> Bool

    /// Stores freshly minted session tokens and records the sign-in time.
    func storeSessionTokens(_ tokens: [SessionToken], signingIn: Bool, at now: Date) async throws
    /// The live token of this kind stored under `lookupHash` whose account is enabled, with the account's
    /// memberships as stored now, read in one query (what every request of a person needs).
    func liveSession(lookupHash: [UInt8], kind: SessionTokenKind, at now: Date) async throws
        -> (token: SessionToken, memberships: [UUID: OrganizationRole])?
    /// Ends the refresh token under `lookupHash` and stores `replacements`, atomically; see `RefreshOutcome`.
    func rotateRefreshToken(lookupHash: [UInt8], replacements: [SessionToken], at now: Date) async throws
        -> RefreshOutcome
    /// Ends every token of one session at once.
    func endSession(userID: UUID, sessionID: UUID, at now: Date) async throws
    /// Whether the mail token stored under `lookupHash` was already used (a reset link works once).
    func mailTokenIsSpent(lookupHash: [UInt8]) async throws -> Bool
    /// A person's live sessions (API sign-ins and dashboard browsers), most recently opened first, at most 100.
    func sessions(userID: UUID, at now: Date) async throws -> [AccountSession]
    /// Ends every session of a person but `keeping`; answers how many sessions ended.
    func endSessions(userID: UUID, except keeping: UUID, at now: Date) async throws -> Int

    /// Records one occurrence of a throttled event under each key (a failed sign-in for an account and for a client
    /// address, a verification or reset mail sent to an address); occurrences older than a day are forgotten.
    func recordThrottledEvent(keys: [String], at now: Date) async throws
    /// The times of the occurrences recorded under `key` since `since`, oldest first.
    func throttledEvents(key: String, since: Date) async throws -> [Date]
    /// Forgets the occurrences under `key` (an account's failed sign-ins, after it signs in).
    func clearThrottledEvents(key: String) async throws

    /// Adds a mail to the outbox on its own.
    func enqueueMail(_ mail: OutboundMail, at now: Date) async throws
    /// Claims up to `limit` due mails, the longest queued first, returned in the order they were queued: each is held for `lease` (no other process sends
    /// it meanwhile; if this one dies, it is sent after the lease).
    func claimDueMails(limit: Int, lease: Duration, at now: Date) async throws -> [OutboundMail]
    /// Records a delivered mail.
    func markMailSent(id: UUID, at now: Date) async throws
    /// Records a failed delivery and when to try again.
    func deferMail(id: UUID, until: Date, error: String) async throws
}
