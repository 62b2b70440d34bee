import Biscuit
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation

/// What a person does to their account without being signed in, and changing their password: the rules of
/// `POST /register`, the verification and reset mails and their links, and the password policy, in one place for
/// the API's routes and the dashboard's forms. Every refusal is one of Hook0's problems.
///
/// Mails about an account go out at most once a minute and five times a day per address, and the answer never says
/// whether the address has an account.
public struct Accounts<Store: IdentityStore & TenantStore>: Sendable {
    let store: Store
    let settings: AccountSettings
    let issuer: TokenIssuer
    let tokens: VerifiedTokens
    let authorizer: RequestAuthorizer
    let mail: AccountMail

    /// The accounts of `store` under the API's `configuration`.
    public init(store: Store, configuration: APIConfiguration) {
        self.init(
            store: store, settings: configuration.accounts, issuer: configuration.tokenIssuer,
            tokens: VerifiedTokens(rootKey: configuration.tokenIssuer.rootKey.publicKey),
            authorizer: RequestAuthorizer(), publicURL: configuration.publicURL)
    }

    init(
        store: Store, settings: AccountSettings, issuer: TokenIssuer, tokens: VerifiedTokens,
        authorizer: RequestAuthorizer, publicURL: String
    ) {
        self.store = store
        self.settings = settings
        self.issuer = issuer
        self.tokens = tokens
        self.authorizer = authorizer
        mail = AccountMail(publicURL: publicURL)
    }

    /// Whether this server lets people create accounts (`FERRY_DISABLE_REGISTRATION` turns it off).
    public var registrationIsOpen: Bool { !settings.registrationDisabled }

    /// The smallest password length the policy accepts.
    public var minimumPasswordLength: Int { settings.passwordPolicy.minimumLength }

    /// Creates an account and its personal organization, and queues the verification mail; with an
    /// `invitationToken` (from an invitation mail to the same address) the address counts as verified and the
    /// account joins the inviting organization instead of receiving a mail.
    public func register(_ account: NewAccount, at now: Date = Date()) async throws -> (
        organizationID: UUID, user: User
    ) {
        if settings.registrationDisabled { throw ProblemCatalog.registrationDisabled }
        try account.validate()
        try checkPolicy(
            account.password, email: account.email, firstName: account.firstName, lastName: account.lastName)
        var invitation: PendingInvitation?
        if let secret = account.invitationToken {
            invitation = try await store.invitation(secretHash: InvitationSecret.hash(secret), at: now)
            guard let found = invitation, EmailAddress.canonical(found.email) == EmailAddress.canonical(account.email)
            else { throw ProblemCatalog.authEmailExpired }
        }
        let hash = try await hashPassword(account.password)
        // An accepted invitation came by mail to this address, which proves it.
        let user = User(
            id: UUID(), email: account.email.trimmingCharacters(in: .whitespaces), firstName: account.firstName,
            lastName: account.lastName, createdAt: now, emailVerifiedAt: invitation == nil ? nil : now)
        let verification =
            invitation == nil ? mail.verification(to: user, token: try mailToken(.emailVerification, for: user)) : nil
        let organizationID = try await store.register(
            Registration(
                user: user, passwordHash: hash,
                personalOrganizationName: "\(account.firstName) \(account.lastName)'s personal organization",
                acceptingInvitation: invitation, mail: verification))
        if verification != nil {
            try await store.recordThrottledEvent(keys: [Self.mailKey(.verification, user.email)], at: now)
        }
        return (organizationID, user)
    }

    /// The pending invitation an invitation link's secret opens, and its organization; nil when expired, accepted
    /// or unknown.
    public func invitation(secret: String, at now: Date = Date()) async throws
        -> (invitation: PendingInvitation, organization: Organization)?
    {
        guard let pending = try await store.invitation(secretHash: InvitationSecret.hash(secret), at: now),
            let organization = try await store.organization(id: pending.organizationID)
        else { return nil }
        return (pending, organization)
    }

    /// Queues a new verification mail for an unverified account at `email` (nothing for any other address).
    public func resendVerification(to email: String, at now: Date = Date()) async throws {
        if Validator.containsNUL(email) { throw ProblemCatalog.nulCharacter }
        try await sendThrottled(.verification, to: email, at: now) { user in
            guard user.emailVerifiedAt == nil else { return nil }
            return mail.verification(to: user, token: try mailToken(.emailVerification, for: user))
        }
    }

    /// Queues a password reset mail for the account at `email` (nothing when there is none).
    public func beginPasswordReset(for email: String, at now: Date = Date()) async throws {
        if Validator.containsNUL(email) { throw ProblemCatalog.nulCharacter }
        try await sendThrottled(.reset, to: email, at: now) { user in
            mail.passwordReset(to: user, token: try mailToken(.passwordReset, for: user))
        }
    }

    /// Marks the address of a verification link's token as verified and queues the welcome mail; answers the
    /// verified account, for the caller to open its session.
    public func verifyEmail(token text: String, at now: Date = Date()) async throws -> User {
        guard let token = tokens.verified(text),
            let userID = authorizer.mailTokenUser(token, kind: .emailVerification, at: now),
            let user = try await store.user(id: userID), user.disabledAt == nil
        else { throw ProblemCatalog.authEmailExpired }
        guard try await store.markEmailVerified(userID: userID, at: now) else {
            throw user.emailVerifiedAt == nil
                ? ProblemCatalog.authEmailExpired : ProblemCatalog.authEmailAlreadyVerified
        }
        try await store.enqueueMail(mail.welcome(to: user), at: now)
        var verified = user
        verified.emailVerifiedAt = now
        return verified
    }

    /// The account a reset link's token is for, or nil when the link is expired, spent or not one of ours.
    public func resetLinkAccount(token text: String, at now: Date = Date()) async throws -> User? {
        guard let token = tokens.verified(text), let root = token.revocationIDs.first,
            let userID = authorizer.mailTokenUser(token, kind: .passwordReset, at: now),
            try await !store.mailTokenIsSpent(lookupHash: ServiceTokenIssuance.lookupHash(rootRevocationID: root)),
            let user = try await store.user(id: userID), user.disabledAt == nil
        else { return nil }
        return user
    }

    /// Sets a new password with a reset link's token, which then stops working; every session of the account ends.
    public func resetPassword(token text: String, newPassword: String, at now: Date = Date()) async throws {
        guard let token = tokens.verified(text), let root = token.revocationIDs.first,
            let userID = authorizer.mailTokenUser(token, kind: .passwordReset, at: now),
            let user = try await store.user(id: userID), user.disabledAt == nil
        else { throw ProblemCatalog.authEmailExpired }
        try checkPolicy(newPassword, email: user.email, firstName: user.firstName, lastName: user.lastName)
        let hash = try await hashPassword(newPassword)
        guard
            try await store.setPassword(
                userID: userID, hash: hash, endingSessions: true,
                consumingMailToken: ServiceTokenIssuance.lookupHash(rootRevocationID: root), at: now)
        else { throw ProblemCatalog.authEmailExpired }
    }

    /// Replaces a signed-in person's password, which needs the current one; every session of the account ends.
    public func changePassword(userID: UUID, current: String, new: String, at now: Date = Date()) async throws {
        guard let user = try await store.user(id: userID),
            let stored = try await store.passwordHash(userID: userID)
        else { throw ProblemCatalog.forbidden }
        let hasher = settings.passwordHasher
        let matches = try await PasswordWork.run { hasher.verify(current, against: stored) }
        guard matches else { throw ProblemCatalog.authCurrentPasswordWrong }
        try checkPolicy(new, email: user.email, firstName: user.firstName, lastName: user.lastName)
        _ = try await store.setPassword(
            userID: userID, hash: try await hashPassword(new), endingSessions: true, consumingMailToken: nil, at: now)
    }

    /// How long after a mail about an account another may go to the same address.
    public static var mailCooldown: Duration { .seconds(60) }

    /// What a mail about an account is for; each has its own once-a-minute budget.
    enum MailPurpose: String, Sendable {
        case verification
        case reset
    }

    private func sendThrottled(
        _ purpose: MailPurpose, to email: String, at now: Date, _ compose: (User) throws -> OutboundMail?
    ) async throws {
        guard let (user, _) = try await store.userCredentials(email: email), user.disabledAt == nil else { return }
        let key = Self.mailKey(purpose, email)
        let recent = try await store.throttledEvents(key: key, since: now.addingTimeInterval(-86_400))
        if recent.count >= 5 { return }
        if let last = recent.last, now.timeIntervalSince(last) < Double(Self.mailCooldown.components.seconds) { return }
        guard let outbound = try compose(user) else { return }
        try await store.enqueueMail(outbound, at: now)
        try await store.recordThrottledEvent(keys: [key], at: now)
    }

    private func checkPolicy(_ password: String, email: String, firstName: String, lastName: String) throws {
        if let violation = settings.passwordPolicy.violation(
            of: password, email: email, firstName: firstName, lastName: lastName)
        {
            throw ProblemCatalog.password(violation, minimumLength: settings.passwordPolicy.minimumLength)
        }
    }

    /// Hashes on the password threads: scrypt takes tens of milliseconds of CPU and 32 MiB.
    private func hashPassword(_ password: String) async throws -> String {
        let hasher = settings.passwordHasher
        return try await PasswordWork.run { try hasher.hash(password) }
    }

    private func mailToken(_ kind: MailTokenKind, for user: User) throws -> String {
        let lifetime = kind == .emailVerification ? AccountMail.verificationLifetime : AccountMail.resetLifetime
        return try issuer.mailToken(kind, userID: user.id, createdAt: Date(), lifetime: lifetime).base64()
    }

    static func mailKey(_ purpose: MailPurpose, _ email: String) -> String {
        "mail-\(purpose.rawValue):" + EmailAddress.canonical(email)
    }
}

/// What a person gives to create an account.
public struct NewAccount: Sendable {
    public var firstName: String
    public var lastName: String
    public var email: String
    public var password: String
    /// The secret of an invitation mail to this address, if the account answers one.
    public var invitationToken: String?

    public init(firstName: String, lastName: String, email: String, password: String, invitationToken: String? = nil) {
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.password = password
        self.invitationToken = invitationToken
    }

    func validate() throws {
        var errors = ValidationErrors()
        check(into: &errors)
        if !errors.isEmpty { throw DomainError.validation(errors) }
    }

    /// Hook0's field rules: names 1–50 characters, an e-mail address of at most 100.
    func check(into errors: inout ValidationErrors) {
        Validator.text(firstName, field: "first_name", min: 1, max: 50, into: &errors)
        Validator.text(lastName, field: "last_name", min: 1, max: 50, into: &errors)
        if !EmailAddress.isValid(email) { errors.add("email", ValidationIssue(code: "email", message: nil)) }
    }
}
