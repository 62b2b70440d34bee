import FerryCore
import FerrySQLite
import FerryStorage
import Foundation
import HTTPTypes
import Testing

@testable import FerryAPI
@testable import FerryDashboard

/// The account pages through the real router and store: creating an account and following the verification mail's
/// link, a refused registration keeping what was typed (escaped) but not the password, invitations, the forgotten
/// password round trip with its link working once, and the settings page's password change and sessions.
@Suite struct AccountPagesTests {
    typealias Browser = DashboardTests.Browser

    /// The link to `path` in the newest queued mail to `recipient`, with the value of its one parameter.
    static func link(_ path: String, to recipient: String, in store: SQLiteStore) async throws -> String {
        let mails = try await store.claimDueMails(limit: 50, lease: .seconds(60), at: Date())
        let mail = try #require(mails.last { $0.recipient == recipient && $0.body.contains("/" + path + "?") })
        let start = try #require(mail.body.range(of: "http://ferry.test/" + path + "?"))
        let link = mail.body[start.upperBound...].prefix { !$0.isWhitespace }
        return "/" + path + "?" + link
    }

    @Test func registeringSendsAVerificationLinkThatSignsTheNewPersonIn() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let form = try await browser.get("/register")
            #expect(form.status == 200 && form.html.contains(#"name="first_name""#))
            let csrf = try #require(form.csrf)
            let created = try await browser.post(
                "/register",
                form: [
                    "csrf": csrf, "first_name": "<b>Ada</b>", "last_name": "Lovelace", "email": "ada@example.com",
                    "password": "analytical-engine-1843",
                ])
            #expect(created.status == 303)
            #expect(created.headers[.location] == "/check-email?email=ada%40example.com&done=verification-sent")
            #expect(browser.cookies["ferry_session"] == nil)
            let check = try await browser.get(try #require(created.headers[.location]))
            #expect(check.status == 200 && check.html.contains("<strong>ada@example.com</strong>"))
            #expect(check.html.contains(#"data-cooldown="60""#))

            let verifyLink = try await Self.link("verify-email", to: "ada@example.com", in: store)
            let verifyPage = try await browser.get(verifyLink)
            #expect(verifyPage.status == 200 && verifyPage.html.contains("Verify my address"))
            // The link only shows a button: following it (a mail scanner would) changes nothing.
            let pending = try #require(try await store.userCredentials(email: "ada@example.com")).0
            #expect(pending.emailVerifiedAt == nil)
            let token = try #require(verifyPage.html.range(of: #"name="token" value=""#)).upperBound
            let tokenValue = String(verifyPage.html[token...].prefix { $0 != "\"" })
            let verified = try await browser.post(
                "/verify-email", form: ["csrf": try #require(verifyPage.csrf), "token": tokenValue])
            #expect(verified.status == 303 && verified.headers[.location] == "/?done=email-verified")
            #expect(browser.cookies["ferry_session"] != nil)
            let home = try await browser.get("/?done=email-verified")
            #expect(home.html.contains("Your address is verified"))
            #expect(
                home.html.contains("&lt;b&gt;Ada&lt;/b&gt; Lovelace&#39;s personal organization")
                    || home.html.contains("&lt;b&gt;Ada&lt;/b&gt; Lovelace&#x27;s personal organization"))
            #expect(!home.html.contains("<b>Ada</b>"))

            // The same link again: the address is verified already.
            let again = try await browser.post(
                "/verify-email", form: ["csrf": try #require(verifyPage.csrf), "token": tokenValue])
            #expect(again.status == 303 && again.headers[.location] == "/login?done=already-verified")
            let forged = try await browser.post(
                "/verify-email", form: ["csrf": try #require(verifyPage.csrf), "token": "not-a-token"])
            #expect(forged.status == 401 && forged.html.contains("This link has expired"))
        }
    }

    @Test func aRefusedRegistrationKeepsWhatWasTypedButNotThePassword() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let csrf = try #require(try await browser.get("/register").csrf)
            let short = try await browser.post(
                "/register",
                form: [
                    "csrf": csrf, "first_name": "<script>x</script>", "last_name": "L", "email": "ada@example.com",
                    "password": "short",
                ])
            #expect(short.status == 400 && short.html.contains("at least"))
            #expect(short.html.contains(#"value="&lt;script&gt;x&lt;/script&gt;""#))
            #expect(!short.html.contains("<script>x") && !short.html.contains(#"value="short""#))
            let invalid = try await browser.post(
                "/register",
                form: [
                    "csrf": csrf, "first_name": "", "last_name": "L", "email": "nope", "password": "long-enough-pw-1",
                ])
            #expect(invalid.status == 422)
            #expect(invalid.html.contains("First name: ") && invalid.html.contains("E-mail address: "))
            let forged = try await browser.post(
                "/register",
                form: [
                    "csrf": "forged", "first_name": "A", "last_name": "L", "email": "a@example.com",
                    "password": "long-enough-pw-1",
                ])
            #expect(forged.status == 403)
            #expect(try await store.userCredentials(email: "a@example.com") == nil)
            #expect(try await store.userCredentials(email: "ada@example.com") == nil)
        }
    }

    @Test func anInvitationLinkCreatesAVerifiedMemberSignedIn() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (_, organization) = try await DashboardTests.person(
                "owner@example.com", organizationName: "Harbour", in: store)
            let secret = InvitationSecret.random()
            try await store.createInvitation(
                PendingInvitation(
                    id: UUID(), organizationID: organization, email: "crew@example.com", role: .viewer,
                    createdAt: Date(), expiresAt: Date().addingTimeInterval(3600)),
                secretHash: InvitationSecret.hash(secret), mail: nil)
            let form = try await browser.get("/register?invitation=" + secret)
            #expect(form.status == 200 && form.html.contains("<strong>Harbour</strong> as viewer"))
            let created = try await browser.post(
                "/register",
                form: [
                    "csrf": try #require(form.csrf), "first_name": "Crew", "last_name": "Member",
                    "email": "crew@example.com", "password": "mooring-line-77", "invitation": secret,
                ])
            #expect(created.status == 303 && created.headers[.location] == "/?done=account-created")
            let home = try await browser.get("/")
            #expect(home.html.contains("Harbour") && home.html.contains("viewer"))
            #expect(try await browser.get("/register?invitation=" + secret).status == 410)
        }
    }

    @Test func aForgottenPasswordIsResetOnceThroughItsLink() async throws {
        try await DashboardTests.withDashboard { store, browser in
            try await DashboardTests.person("dee@example.com", organizationName: "org", in: store)
            let csrf = try #require(try await browser.get("/forgot-password").csrf)
            let sent = try await browser.post("/forgot-password", form: ["csrf": csrf, "email": "dee@example.com"])
            #expect(
                sent.status == 303
                    && sent.headers[.location] == "/forgot-password?email=dee%40example.com&done=reset-sent")
            // An unknown address gets the same answer, and no mail.
            let unknown = try await browser.post("/forgot-password", form: ["csrf": csrf, "email": "who@example.com"])
            #expect(unknown.headers[.location] == "/forgot-password?email=who%40example.com&done=reset-sent")
            let page = try await browser.get(try #require(sent.headers[.location]))
            #expect(page.html.contains("a link to choose a new password is on its way"))

            let link = try await Self.link("reset-password", to: "dee@example.com", in: store)
            let form = try await browser.get(link)
            #expect(form.status == 200 && form.html.contains("<strong>dee@example.com</strong>"))
            let token = try #require(form.html.range(of: #"name="token" value=""#)).upperBound
            let tokenValue = String(form.html[token...].prefix { $0 != "\"" })
            let weak = try await browser.post(
                "/reset-password", form: ["csrf": try #require(form.csrf), "token": tokenValue, "password": "x"])
            #expect(weak.status == 400 && weak.html.contains("at least"))
            let reset = try await browser.post(
                "/reset-password",
                form: ["csrf": try #require(form.csrf), "token": tokenValue, "password": "fresh-harbour-pw-9"])
            #expect(reset.status == 303 && reset.headers[.location] == "/login?done=password-reset")
            #expect(try await browser.get(link).status == 410)

            let signIn = try await browser.get("/login?done=password-reset")
            #expect(signIn.html.contains("Sign in with the new one"))
            let signedIn = try await browser.post(
                "/login",
                form: ["email": "dee@example.com", "password": "fresh-harbour-pw-9", "csrf": try #require(signIn.csrf)])
            #expect(signedIn.status == 303 && signedIn.headers[.location] == "/")
        }
    }

    @Test func theSettingsPageListsSessionsSignsOutTheOthersAndChangesThePassword() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (user, _) = try await DashboardTests.person("dee@example.com", organizationName: "org", in: store)
            let other = Browser(browser.client)
            _ = try await DashboardTests.signIn(other, "dee@example.com")
            _ = try await DashboardTests.signIn(browser, "dee@example.com")
            let page = try await browser.get("/account")
            #expect(page.status == 200)
            #expect(page.html.components(separatedBy: "Dashboard (browser)").count == 3)
            #expect(page.html.contains("(this browser)") && page.html.contains("Sign out every other session"))
            #expect(try await store.sessions(userID: user.id, at: Date()).count == 2)

            let ended = try await browser.post("/account/sessions/end-others", form: ["csrf": try #require(page.csrf)])
            #expect(ended.status == 303 && ended.headers[.location] == "/account?done=other-sessions-ended")
            #expect(try await other.get("/").status == 303)
            let after = try await browser.get("/account?done=other-sessions-ended")
            #expect(after.html.contains("Every other session was signed out."))
            #expect(after.html.contains("This browser is your only session."))

            let wrong = try await browser.post(
                "/account/password",
                form: ["csrf": try #require(after.csrf), "current": "not-it", "new": "another-good-pw-5"])
            #expect(wrong.status == 401 && wrong.html.contains("current password"))
            let changed = try await browser.post(
                "/account/password",
                form: [
                    "csrf": try #require(after.csrf), "current": DashboardTests.password, "new": "another-good-pw-5",
                ])
            #expect(changed.status == 303 && changed.headers[.location] == "/login?done=password-changed")
            #expect(browser.cookies["ferry_session"] == nil)
            #expect(try await store.sessions(userID: user.id, at: Date()).isEmpty)
            let forged = try await other.post("/account/password", form: ["csrf": "x", "current": "a", "new": "b"])
            #expect(forged.status == 303 && forged.headers[.location] == "/login")
        }
    }
}
