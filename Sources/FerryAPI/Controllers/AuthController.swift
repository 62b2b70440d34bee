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
    let accounts: Accounts<Store>
    let issuer: TokenIssuer
    /// Reads the refresh tokens clients send.
    let tokens: VerifiedTokens

    private var sessions: SessionIssuance { SessionIssuance(issuer: issuer) }

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.post("register") { request, _ in
            if !accounts.registrationIsOpen { throw ProblemCatalog.registrationDisabled }
            let body = try await JSONBody.decode(RegistrationBody.self, from: request)
            try body.validate()
            let (organizationID, user) = try await accounts.register(body.account)
            return JSONBody.response(
                .object([
                    "organization_id": Representation.uuid(organizationID), "user_id": Representation.uuid(user.id),
                ]), status: .created)
        }
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
        group.post("auth/verify-email") { request, _ in
            let body = try await JSONBody.decode(MailTokenBody.self, from: request)
            let now = Date()
            let user = try await accounts.verifyEmail(token: body.token, at: now)
            return JSONBody.response(try await sessions.signIn(user, store: store, at: now), status: .created)
        }
        group.post("auth/resend-verification-email") { request, _ in
            let body = try await JSONBody.decode(EmailBody.self, from: request)
            try await accounts.resendVerification(to: body.email)
            return JSONBody.noContent()
        }
        group.post("auth/begin-reset-password") { request, _ in
            let body = try await JSONBody.decode(EmailBody.self, from: request)
            try await accounts.beginPasswordReset(for: body.email)
            return JSONBody.noContent()
        }
        group.post("auth/reset-password") { request, _ in
            let body = try await JSONBody.decode(ResetPasswordBody.self, from: request)
            try await accounts.resetPassword(token: body.token, newPassword: body.newPassword)
            return JSONBody.noContent()
        }
        group.post("auth/password") { request, context in
            guard
                case .person(let userID, _, _) = try access.authorize(
                    try await context.caller(), AuthorizationRequest(action: .authChangePassword))
            else { throw ProblemCatalog.forbidden }
            let body = try await JSONBody.decode(ChangePasswordBody.self, from: request)
            try await accounts.changePassword(
                userID: userID, current: body.currentPassword ?? "", new: body.newPassword)
            return JSONBody.noContent()
        }
    }

    private func login(_ request: Request, clientIP: String) async throws -> Response {
        let body = try await JSONBody.decode(LoginBody.self, from: request)
        try body.validate()
        let now = Date()
        let user = try await PasswordSignIn(store: store, settings: accounts.settings).account(
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
}
