import Biscuit
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// Accounts and sessions, with Hook0's routes and answers: `/register`, `/auth/login`, `/auth/refresh`,
/// `/auth/logout`, `/auth/verify-email`, `/auth/resend-verification-email`, `/auth/begin-reset-password`,
/// `/auth/reset-password` and `/auth/password`. Where Hook0 leaks or is lenient, Ferry is not (see
/// docs/sdk-compat-notes.md): reset links work once, a reused refresh token ends its session, changing a password
/// needs the current one, begin-reset answers 204 for every address, and sign-in is throttled per account and
/// per client address with the same work done for unknown addresses as for known ones.
struct AuthController<Store: IdentityStore & TenantStore> {
    let store: Store
    let access: AccessControl<Store>
    let settings: AccountSettings
    let issuer: TokenIssuer
    /// Reads the refresh, verification and reset tokens clients send.
    let tokens: VerifiedTokens
    /// The base of the links in account mails.
    let publicURL: String

    private var sessions: SessionIssuance { SessionIssuance(issuer: issuer) }
    private var mail: AccountMail { AccountMail(publicURL: publicURL) }

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.post("register") { request, _ in try await registerAccount(request) }
        group.post("auth/login") { request, context in try await login(request, clientIP: context.clientIP) }
        group.post("auth/refresh") { request, _ in try await refresh(request) }
        group.post("auth/logout") { _, context in
            guard
                case .person(let user, let session, _) = try access.authorize(
                    try await context.caller(), AuthorizationRequest(action: .authLogout))
            else { throw ProblemCatalog.forbidden }
            try await store.endSession(userID: user, sessionID: session, at: Date())
            return JSONBody.noContent()
        }
        group.post("auth/verify-email") { request, _ in try await verifyEmail(request) }
        group.post("auth/resend-verification-email") { request, _ in
            let body = try await JSONBody.decode(EmailBody.self, from: request)
            try body.validate()
            try await sendMailOncePerMinute(to: body.email, purpose: "verification") { user in
                guard user.emailVerifiedAt == nil else { return nil }
                return mail.verification(to: user, token: try mailToken(.emailVerification, for: user))
            }
            return JSONBody.noContent()
        }
        group.post("auth/begin-reset-password") { request, _ in
            let body = try await JSONBody.decode(EmailBody.self, from: request)
            try body.validate()
            try await sendMailOncePerMinute(to: body.email, purpose: "reset") { user in
                mail.passwordReset(to: user, token: try mailToken(.passwordReset, for: user))
            }
            return JSONBody.noContent()
        }
        group.post("auth/reset-password") { request, _ in try await resetPassword(request) }
        group.post("auth/password") { request, context in
            try await changePassword(request, caller: try await context.caller())
        }
    }

    private func registerAccount(_ request: Request) async throws -> Response {
        if settings.registrationDisabled { throw ProblemCatalog.registrationDisabled }
        let body = try await JSONBody.decode(RegistrationBody.self, from: request)
        try body.validate()
        try checkPolicy(body.password, email: body.email, firstName: body.firstName, lastName: body.lastName)
        let now = Date()
        var invitation: PendingInvitation?
        if let secret = body.invitationToken {
            invitation = try await store.invitation(secretHash: InvitationSecret.hash(secret), at: now)
            guard let found = invitation, EmailAddress.canonical(found.email) == EmailAddress.canonical(body.email)
            else { throw ProblemCatalog.authEmailExpired }
        }
        let hash = try await hashPassword(body.password)
        // An accepted invitation came by mail to this address, which proves it.
        let user = User(
            id: UUID(), email: body.email.trimmingCharacters(in: .whitespaces), firstName: body.firstName,
            lastName: body.lastName, createdAt: now, emailVerifiedAt: invitation == nil ? nil : now)
        let verification =
            invitation == nil ? mail.verification(to: user, token: try mailToken(.emailVerification, for: user)) : nil
        let organizationID = try await store.register(
            Registration(
                user: user, passwordHash: hash,
                personalOrganizationName: "\(body.firstName) \(body.lastName)'s personal organization",
                acceptingInvitation: invitation, mail: verification))
        if verification != nil {
            try await store.recordThrottledEvent(keys: [Self.mailKey("verification", user.email)], at: now)
        }
        return JSONBody.response(
            .object([
                "organization_id": Representation.uuid(organizationID), "user_id": Representation.uuid(user.id),
            ]), status: .created)
    }

    private func login(_ request: Request, clientIP: String) async throws -> Response {
        let body = try await JSONBody.decode(LoginBody.self, from: request)
        try body.validate()
        let now = Date()
        let user = try await PasswordSignIn(store: store, settings: settings).account(
            email: body.email, password: body.password, clientIP: clientIP, at: now)
        return JSONBody.response(try await sessions.signIn(user, store: store, at: now), status: .created)
    }

    private func refresh(_ request: Request) async throws -> Response {
        guard let token = tokens.verified(try AuthorizationHeader.bearer(of: request)),
            let root = token.revocationIDs.first
        else {
            throw ProblemCatalog.authInvalidBiscuit
        }
        let now = Date()
        guard let (userID, sessionID) = access.authorizer.refreshSession(token, at: now) else {
            throw ProblemCatalog.authFailedRefresh
        }
        guard let user = try await store.user(id: userID), user.disabledAt == nil else {
            throw ProblemCatalog.authInvalidBiscuit
        }
        // Roles are read again here, so the new access token names the memberships of now.
        let pair = try sessions.mint(
            for: user, memberships: try await store.memberships(userID: userID), session: sessionID, at: now)
        switch try await store.rotateRefreshToken(
            lookupHash: ServiceTokenIssuance.lookupHash(rootRevocationID: root), replacements: pair.rows, at: now)
        {
        case .rotated:
            return JSONBody.response(try SessionIssuance.loginResponse(pair, user: user), status: .created)
        case .reused, .refused:
            throw ProblemCatalog.authInvalidBiscuit
        }
    }

    private func verifyEmail(_ request: Request) async throws -> Response {
        let body = try await JSONBody.decode(MailTokenBody.self, from: request)
        let now = Date()
        guard let token = tokens.verified(body.token),
            let userID = access.authorizer.mailTokenUser(token, kind: .emailVerification, at: now),
            let user = try await store.user(id: userID), user.disabledAt == nil
        else { throw ProblemCatalog.authEmailExpired }
        guard try await store.markEmailVerified(userID: userID, at: now) else {
            throw user.emailVerifiedAt == nil
                ? ProblemCatalog.authEmailExpired : ProblemCatalog.authEmailAlreadyVerified
        }
        try await store.enqueueMail(mail.welcome(to: user), at: now)
        var verified = user
        verified.emailVerifiedAt = now
        return JSONBody.response(try await sessions.signIn(verified, store: store, at: now), status: .created)
    }

    private func resetPassword(_ request: Request) async throws -> Response {
        let body = try await JSONBody.decode(ResetPasswordBody.self, from: request)
        let now = Date()
        guard let token = tokens.verified(body.token), let root = token.revocationIDs.first,
            let userID = access.authorizer.mailTokenUser(token, kind: .passwordReset, at: now),
            let user = try await store.user(id: userID), user.disabledAt == nil
        else { throw ProblemCatalog.authEmailExpired }
        try checkPolicy(body.newPassword, email: user.email, firstName: user.firstName, lastName: user.lastName)
        let hash = try await hashPassword(body.newPassword)
        guard
            try await store.setPassword(
                userID: userID, hash: hash, endingSessions: true,
                consumingMailToken: ServiceTokenIssuance.lookupHash(rootRevocationID: root), at: now)
        else { throw ProblemCatalog.authEmailExpired }
        return JSONBody.noContent()
    }

    private func changePassword(_ request: Request, caller: Caller) async throws -> Response {
        guard
            case .person(let userID, _, _) = try access.authorize(
                caller, AuthorizationRequest(action: .authChangePassword))
        else { throw ProblemCatalog.forbidden }
        let body = try await JSONBody.decode(ChangePasswordBody.self, from: request)
        guard let user = try await store.user(id: userID),
            let stored = try await store.passwordHash(userID: userID)
        else { throw ProblemCatalog.forbidden }
        let hasher = settings.passwordHasher
        let current = body.currentPassword ?? ""
        let matches = try await PasswordWork.run { hasher.verify(current, against: stored) }
        guard matches else { throw ProblemCatalog.authCurrentPasswordWrong }
        try checkPolicy(body.newPassword, email: user.email, firstName: user.firstName, lastName: user.lastName)
        _ = try await store.setPassword(
            userID: userID, hash: try await hashPassword(body.newPassword), endingSessions: true,
            consumingMailToken: nil, at: Date())
        return JSONBody.noContent()
    }

    /// Queues a mail about an account (verification, reset) at most once a minute and five times a day per
    /// address, and never says whether the address has an account: the caller answers 204 either way.
    private func sendMailOncePerMinute(
        to email: String, purpose: String, _ compose: (User) throws -> OutboundMail?
    ) async throws {
        let now = Date()
        guard let (user, _) = try await store.userCredentials(email: email), user.disabledAt == nil else { return }
        let key = Self.mailKey(purpose, email)
        let recent = try await store.throttledEvents(key: key, since: now.addingTimeInterval(-86_400))
        if recent.count >= 5 { return }
        if let last = recent.last, now.timeIntervalSince(last) < 60 { return }
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

    /// Hashes on NIO's blocking pool: scrypt takes tens of milliseconds of CPU and 32 MiB, which must not stall
    /// the event loops or Swift's cooperative threads.
    private func hashPassword(_ password: String) async throws -> String {
        let hasher = settings.passwordHasher
        return try await PasswordWork.run { try hasher.hash(password) }
    }

    private func mailToken(_ kind: MailTokenKind, for user: User) throws -> String {
        let lifetime = kind == .emailVerification ? AccountMail.verificationLifetime : AccountMail.resetLifetime
        return try issuer.mailToken(kind, userID: user.id, createdAt: Date(), lifetime: lifetime)
            .base64()
    }

    static func mailKey(_ purpose: String, _ email: String) -> String {
        "mail-\(purpose):" + EmailAddress.canonical(email)
    }
}
