import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import HTTPTypes
import Hummingbird

/// The account pages: creating an account (also from an invitation), the check-your-e-mail page with its resend
/// button, following a verification link, forgetting and resetting a password, and the signed-in person's settings
/// (change password, their sessions, signing out the others). Each form goes through `Accounts`, the rules the
/// API's `/register` and `/auth/…` routes follow; the forms shown before sign-in carry the sign-in cookie's token.
extension Dashboard {
    func addAccountRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("register") { request, context in
            await rendering(context) { try await registrationPage(request, RegisterForm.blank(request), [], .ok) }
        }
        group.post("register") { request, context in
            await rendering(context) { try await register(request) }
        }
        group.get("check-email") { request, context in
            await rendering(context) {
                let email = request.uri.queryParameters["email"].map(String.init) ?? ""
                return checkEmailPage(request, email: email, justSent: request.uri.queryParameters["done"] != nil)
            }
        }
        group.post("check-email") { request, context in
            await rendering(context) {
                try await mailForm(request, retry: { checkEmailPage(request, email: $0, justSent: false) }) { email in
                    try await accounts.resendVerification(to: email)
                    return Self.redirect(to: "/check-email?email=" + Self.queryValue(email), notice: .verificationSent)
                }
            }
        }
        group.get("verify-email") { request, context in
            await rendering(context) {
                let token = request.uri.queryParameters["token"].map(String.init) ?? ""
                return publicPage(request, "verify_email", TokenView(token: token))
            }
        }
        group.post("verify-email") { request, context in
            await rendering(context) { try await verifyEmail(request) }
        }
        group.get("forgot-password") { request, context in
            await rendering(context) {
                let email = request.uri.queryParameters["email"].map(String.init) ?? ""
                return forgotPasswordPage(request, email: email)
            }
        }
        group.post("forgot-password") { request, context in
            await rendering(context) {
                try await mailForm(request, retry: { forgotPasswordPage(request, email: $0) }) { email in
                    try await accounts.beginPasswordReset(for: email)
                    return Self.redirect(to: "/forgot-password?email=" + Self.queryValue(email), notice: .resetSent)
                }
            }
        }
        group.get("reset-password") { request, context in
            await rendering(context) {
                let token = request.uri.queryParameters["token"].map(String.init) ?? ""
                return try await resetPasswordPage(request, token: token, errors: [], status: .ok)
            }
        }
        group.post("reset-password") { request, context in
            await rendering(context) { try await resetPassword(request) }
        }
        group.get("account") { request, context in
            await rendering(context) {
                guard let signedIn = try await sessions.signedIn(request) else { return Self.redirect(to: "/login") }
                return try await accountPage(request, signedIn, errors: [], status: .ok)
            }
        }
        group.post("account/password") { request, context in
            await rendering(context) { try await changePassword(request) }
        }
        group.post("account/sessions/end-others") { request, context in
            await rendering(context) {
                guard let signedIn = try await sessions.signedIn(request) else { return Self.redirect(to: "/login") }
                guard try await genuineForm(request, signedIn) != nil else {
                    return pages.page("error", errorPage(signedIn, Self.expiredForm), status: .forbidden)
                }
                _ = try await store.endSessions(userID: signedIn.user.id, except: signedIn.sessionID, at: Date())
                return Self.redirect(to: "/account", notice: .otherSessionsEnded)
            }
        }
    }

    // MARK: Creating an account

    private func registrationPage(
        _ request: Request, _ form: RegisterForm, _ errors: [String], _ status: HTTPResponse.Status
    ) async throws -> Response {
        guard accounts.registrationIsOpen else {
            return notice(
                "Registration is closed",
                "This server does not let people create accounts. Ask an administrator to invite you.", .forbidden)
        }
        var invitation: InvitationView?
        if let secret = form.invitation, !secret.isEmpty {
            guard let (pending, organization) = try await accounts.invitation(secret: secret) else {
                return notice(
                    "This invitation has expired",
                    "Invitation links work once, for 7 days. Ask an editor of the organization to send it again.",
                    .gone)
            }
            invitation = InvitationView(
                secret: secret, email: pending.email, organization: organization.name, role: pending.role.rawValue)
        }
        let view = RegistrationView(
            form: form, invitation: invitation, minimumPasswordLength: accounts.minimumPasswordLength)
        return publicPage(request, "register", view, errors: errors, status: status)
    }

    private func register(_ request: Request) async throws -> Response {
        let posted = try await Self.form(RegisterForm.self, of: request)
        guard Self.isSameOrigin(request), sessions.signInFormIsGenuine(request, csrf: posted?.csrf), var form = posted
        else {
            return try await registrationPage(
                request, posted ?? RegisterForm.blank(request), [Self.expired], .forbidden)
        }
        if let invitation = form.invitation, invitation.isEmpty { form.invitation = nil }
        let account = NewAccount(
            firstName: form.firstName, lastName: form.lastName, email: form.email, password: form.password,
            invitationToken: form.invitation)
        let user: User
        do {
            user = try await accounts.register(account).user
        } catch let error as DomainError {
            form.password = ""
            return try await registrationPage(request, form, FormErrors.messages(error), .unprocessableContent)
        } catch let problem as Problem where problem.status.code < 500 {
            form.password = ""
            return try await registrationPage(request, form, [problem.detail], problem.status)
        }
        guard user.emailVerifiedAt != nil else {
            return Self.redirect(to: "/check-email?email=" + Self.queryValue(user.email), notice: .verificationSent)
        }
        // An invitation's link proved the address: the new member goes straight to their organizations.
        var response = Self.redirect(to: "/", notice: .accountCreated)
        response.setCookie(try await sessions.open(for: user))
        return response
    }

    private func checkEmailPage(_ request: Request, email: String, justSent: Bool) -> Response {
        let cooldown = justSent ? Int(Accounts<Store>.mailCooldown.components.seconds) : 0
        return publicPage(request, "check_email", MailFormView(email: email, cooldown: cooldown))
    }

    // MARK: Verification and passwords

    private func verifyEmail(_ request: Request) async throws -> Response {
        let form = try await Self.form(TokenForm.self, of: request)
        guard Self.isSameOrigin(request), sessions.signInFormIsGenuine(request, csrf: form?.csrf), let form else {
            return publicPage(request, "verify_email", TokenView(token: ""), errors: [Self.expired], status: .forbidden)
        }
        let user: User
        do {
            user = try await accounts.verifyEmail(token: form.token)
        } catch let problem as Problem where problem.id == ProblemCatalog.authEmailAlreadyVerified.id {
            return Self.redirect(to: "/login", notice: .alreadyVerified)
        } catch let problem as Problem where problem.status.code < 500 {
            return publicPage(
                request, "verify_email", TokenView(token: ""),
                errors: ["This link has expired or is not one Ferry sent. Ask for a new one below."],
                status: problem.status)
        }
        var response = Self.redirect(to: "/", notice: .emailVerified)
        response.setCookie(try await sessions.open(for: user))
        return response
    }

    private func forgotPasswordPage(_ request: Request, email: String) -> Response {
        let sent = request.uri.queryParameters["done"] != nil
        let cooldown = sent ? Int(Accounts<Store>.mailCooldown.components.seconds) : 0
        return publicPage(request, "forgot_password", MailFormView(email: email, cooldown: cooldown))
    }

    /// A form of one e-mail address (resend the verification, ask for a reset): checked, then `send`.
    private func mailForm(
        _ request: Request, retry: (String) -> Response, send: (String) async throws -> Response
    ) async throws -> Response {
        let form = try await Self.form(EmailForm.self, of: request)
        guard Self.isSameOrigin(request), sessions.signInFormIsGenuine(request, csrf: form?.csrf), let form else {
            var response = retry("")
            response.status = .forbidden
            return response
        }
        return try await send(form.email.trimmingCharacters(in: .whitespaces))
    }

    private func resetPasswordPage(
        _ request: Request, token: String, errors: [String], status: HTTPResponse.Status
    ) async throws -> Response {
        guard let user = try await accounts.resetLinkAccount(token: token) else {
            return notice(
                "This link has expired",
                "A password reset link works once, for 30 minutes. Ask for a new one on the forgotten password page.",
                .gone)
        }
        let view = ResetView(
            token: token, email: user.email, minimumPasswordLength: accounts.minimumPasswordLength)
        return publicPage(request, "reset_password", view, errors: errors, status: status)
    }

    private func resetPassword(_ request: Request) async throws -> Response {
        let form = try await Self.form(ResetForm.self, of: request)
        guard Self.isSameOrigin(request), sessions.signInFormIsGenuine(request, csrf: form?.csrf), let form else {
            return try await resetPasswordPage(request, token: "", errors: [Self.expired], status: .forbidden)
        }
        do {
            try await accounts.resetPassword(token: form.token, newPassword: form.password)
        } catch let problem as Problem where problem.status.code < 500 {
            return try await resetPasswordPage(
                request, token: form.token, errors: [problem.detail], status: problem.status)
        }
        return Self.redirect(to: "/login", notice: .passwordReset)
    }

    // MARK: Settings

    private func accountPage(
        _ request: Request, _ signedIn: SignedIn, errors: [String], status: HTTPResponse.Status
    ) async throws -> Response {
        let now = Date()
        let sessionRows = try await store.sessions(userID: signedIn.user.id, at: now).map {
            SessionRow($0, current: $0.sessionID == signedIn.sessionID)
        }
        let view = AccountView(
            name: signedIn.user.firstName + " " + signedIn.user.lastName, email: signedIn.user.email,
            createdDay: String(Timestamp.format(signedIn.user.createdAt).prefix(10)), sessions: sessionRows,
            hasOthers: sessionRows.contains { !$0.current }, minimumPasswordLength: accounts.minimumPasswordLength)
        return pages.page(
            "account",
            AccountFrame(
                assets: pages.paths, person: PersonView(signedIn), csrf: signedIn.csrf, notice: Notice.of(request),
                errors: errors, hasErrors: !errors.isEmpty, page: view),
            status: status)
    }

    private func changePassword(_ request: Request) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return Self.redirect(to: "/login") }
        guard let posted = try await genuineForm(request, signedIn), let form = posted.decode(PasswordForm.self)
        else { return pages.page("error", errorPage(signedIn, Self.expiredForm), status: .forbidden) }
        do {
            try await accounts.changePassword(userID: signedIn.user.id, current: form.current, new: form.new)
        } catch let problem as Problem where problem.status.code < 500 {
            let message = problem.status == .unauthorized ? "The current password is wrong." : problem.detail
            return try await accountPage(request, signedIn, errors: [message], status: problem.status)
        }
        // A new password ends every session, this one too: the person signs in again with it.
        var response = Self.redirect(to: "/login", notice: .passwordChanged)
        response.setCookie(try await sessions.close(signedIn))
        return response
    }

    // MARK: Helpers

    /// A page shown before sign-in: the view in the frame that carries the sign-in cookie's form token.
    func publicPage(
        _ request: Request, _ template: String, _ view: some Sendable, errors: [String] = [],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let (cookie, csrf) = sessions.signInChallenge(request)
        let frame = AccountFrame(
            assets: pages.paths, person: nil, csrf: csrf, notice: Notice.of(request), errors: errors,
            hasErrors: !errors.isEmpty, page: view)
        var response = pages.page(template, frame, status: status)
        if let cookie { response.setCookie(cookie) }
        return response
    }

    /// A page before sign-in that only says something (a closed registration, an expired link).
    private func notice(_ heading: String, _ detail: String, _ status: HTTPResponse.Status) -> Response {
        pages.page(
            "error", ErrorPage(assets: pages.paths, person: nil, heading: heading, detail: detail), status: status)
    }

    static var expired: String { "This form expired. Reload the page and try again." }

    /// `text` as one query parameter's value.
    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-", "_", ".", "~"])) ?? ""
    }
}

/// The frame of an account page: the layout's files, the person when signed in, the form token, a notice after a
/// change, what a refused form broke, and the page's own view.
struct AccountFrame<Content: Sendable>: Sendable {
    var assets: AssetPaths
    var person: PersonView?
    var csrf: String
    var notice: String?
    var errors: [String]
    var hasErrors: Bool
    var page: Content
}

/// `/register`'s fields.
struct RegisterForm: Decodable, Sendable {
    var csrf: String
    var firstName: String
    var lastName: String
    var email: String
    var password: String
    var invitation: String?

    enum CodingKeys: String, CodingKey {
        case csrf, email, password, invitation
        case firstName = "first_name"
        case lastName = "last_name"
    }

    /// An empty form, answering the invitation the link names.
    static func blank(_ request: Request) -> RegisterForm {
        RegisterForm(
            csrf: "", firstName: "", lastName: "", email: "", password: "",
            invitation: request.uri.queryParameters["invitation"].map(String.init))
    }
}

/// A form of one address.
struct EmailForm: Decodable {
    var csrf: String
    var email: String
}

/// A form carrying a mail link's token.
struct TokenForm: Decodable {
    var csrf: String
    var token: String
}

/// `/reset-password`'s fields.
struct ResetForm: Decodable {
    var csrf: String
    var token: String
    var password: String
}

/// `/account/password`'s fields.
struct PasswordForm: Decodable {
    var csrf: String
    var current: String
    var new: String
}

/// `/register`: the form, what an invitation it answers says, and the password rule.
struct RegistrationView: Sendable {
    var form: RegisterForm
    var invitation: InvitationView?
    var minimumPasswordLength: Int
}

/// The invitation a registration answers.
struct InvitationView: Sendable {
    var secret: String
    var email: String
    var organization: String
    var role: String
}

/// A page with one address field and, after a mail went out, the wait before another may.
struct MailFormView: Sendable {
    var email: String
    var cooldown: Int
}

/// `/verify-email`: the link's token, sent back by the page's button.
struct TokenView: Sendable {
    var token: String
}

/// `/reset-password`: the link's token and whose password it sets.
struct ResetView: Sendable {
    var token: String
    var email: String
    var minimumPasswordLength: Int
}

/// `/account`.
struct AccountView: Sendable {
    var name: String
    var email: String
    var createdDay: String
    var sessions: [SessionRow]
    var hasOthers: Bool
    var minimumPasswordLength: Int
}

/// One live session on the settings page.
struct SessionRow: Sendable {
    var kind: String
    var openedAt: String
    var renewedAt: String
    var expiresAt: String
    var current: Bool

    init(_ session: AccountSession, current: Bool) {
        kind = session.isDashboard ? "Dashboard (browser)" : "API sign-in"
        openedAt = AttemptRow.readable(session.openedAt)
        renewedAt = AttemptRow.readable(session.renewedAt)
        expiresAt = AttemptRow.readable(session.expiresAt)
        self.current = current
    }
}
