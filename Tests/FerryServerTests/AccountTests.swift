import Biscuit
import FerryCore
import FerryIdentity
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Testing

@testable import FerryAPI

/// People through the real router on both backends: registration, verification, sign-in, refresh rotation and
/// reuse, logout, password reset and change, throttling, memberships (live roles, last editor) and invitations.
@Suite struct AccountTests {
    static let password = "tangerine-orbit-73"

    /// The link parameter (`token` or `invitation`) of the newest outbox mail to `recipient`.
    static func linkValue(_ store: any FerryStore, to recipient: String, parameter: String = "token") async throws
        -> String
    {
        let mails = try await store.claimDueMails(limit: 100, lease: .seconds(1), at: Date().addingTimeInterval(3600))
        let mail = try #require(
            mails.last { $0.recipient.lowercased() == recipient.lowercased() && $0.body.contains("?\(parameter)=") })
        let range = try #require(mail.body.range(of: "?\(parameter)="))
        let value = mail.body[range.upperBound...].prefix { !$0.isWhitespace }
        return try #require(String(value).removingPercentEncoding)
    }

    static func field(_ value: JSONValue?, _ key: String) -> JSONValue? {
        if case .object(let object)? = value { return object[key] }
        return nil
    }

    static func register(_ api: APIClient, _ email: String, first: String = "Grace", last: String = "Hopper")
        async throws -> APIClient.Answer
    {
        try await api.call(
            .post, "/api/v1/register",
            body: [
                "first_name": .string(first), "last_name": .string(last), "email": .string(email),
                "password": .string(password),
            ])
    }

    /// Registers and verifies an account; returns its LoginResponse (from the verification) and personal org.
    static func signUp(_ api: APIClient, _ store: any FerryStore, _ email: String) async throws
        -> (login: APIClient.Answer, organization: String)
    {
        let registered = try await register(api, email)
        #expect(registered.status == 201)
        let token = try await linkValue(store, to: email)
        let login = try await api.call(.post, "/api/v1/auth/verify-email", body: ["token": .string(token)])
        #expect(login.status == 201)
        return (login, registered.string("organization_id") ?? "")
    }

    static func login(_ api: APIClient, _ email: String, _ password: String = password) async throws
        -> APIClient.Answer
    {
        try await api.call(
            .post, "/api/v1/auth/login", body: ["email": .string(email), "password": .string(password)])
    }

    @Test(arguments: StoreBackend.available)
    func aPersonRegistersVerifiesSignsInRefreshesAndSignsOut(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let registered = try await Self.register(api, "Grace@Example.com")
            #expect(registered.status == 201)
            let organization = try #require(registered.string("organization_id"))
            #expect(try await Self.login(api, "grace@example.com").string("id") == "AuthEmailNotVerified")
            let token = try await Self.linkValue(store, to: "Grace@Example.com")
            let verified = try await api.call(.post, "/api/v1/auth/verify-email", body: ["token": .string(token)])
            #expect(verified.status == 201 && verified.string("email") == "Grace@Example.com")
            let again = try await api.call(.post, "/api/v1/auth/verify-email", body: ["token": .string(token)])
            #expect(again.status == 409 && again.string("id") == "AuthEmailAlreadyVerified")

            let login = try await Self.login(api, "GRACE@example.COM")
            #expect(login.status == 201 && login.string("first_name") == "Grace")
            let access = try #require(login.string("access_token"))
            let refresh = try #require(login.string("refresh_token"))
            let organizations = try await api.call(.get, "/api/v1/organizations", token: access)
            #expect(organizations.array.count == 1)
            #expect(Self.field(organizations.array.first, "role") == .string("editor"))
            #expect(Self.field(organizations.array.first, "organization_id") == .string(organization))
            #expect(
                Self.field(organizations.array.first, "name") == .string("Grace Hopper's personal organization"))

            // A refresh token is not a bearer of the API; it renews the pair once.
            #expect(try await api.call(.get, "/api/v1/organizations", token: refresh).status == 403)
            let renewed = try await api.call(.post, "/api/v1/auth/refresh", token: refresh)
            #expect(renewed.status == 201)
            let renewedAccess = try #require(renewed.string("access_token"))
            #expect(try await api.call(.get, "/api/v1/organizations", token: renewedAccess).status == 200)
            // Replaying the rotated refresh token ends the whole session, the renewed access token included.
            #expect(try await api.call(.post, "/api/v1/auth/refresh", token: refresh).status == 403)
            #expect(try await api.call(.get, "/api/v1/organizations", token: renewedAccess).status == 403)
            #expect(try await api.call(.get, "/api/v1/organizations", token: access).status == 403)

            // Logout ends the session at once; another session of the same person is untouched.
            let first = try #require(try await Self.login(api, "grace@example.com").string("access_token"))
            let second = try #require(try await Self.login(api, "grace@example.com").string("access_token"))
            #expect(try await api.call(.post, "/api/v1/auth/logout", token: first).status == 204)
            #expect(try await api.call(.get, "/api/v1/organizations", token: first).status == 403)
            #expect(try await api.call(.get, "/api/v1/organizations", token: second).status == 200)
            // Logout is for people only.
            let tenant = try await api.tenant()
            #expect(try await api.call(.post, "/api/v1/auth/logout", token: tenant.token).status == 403)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aServiceTokenNamesItsCreatorAndItsLastUse(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let (login, organization) = try await Self.signUp(api, store, "ada@example.com")
            let access = try #require(login.string("access_token"))
            let person = try #require(login.string("user_id"))
            let created = try await api.call(
                .post, "/api/v1/service_token", token: access,
                body: ["organization_id": .string(organization), "name": .string("deploy")])
            #expect(created.status == 201 && created.string("created_by") == person)
            #expect(created["last_used_at"] == .null)
            let bearer = try #require(created.string("biscuit"))
            let byMaster = try await api.call(
                .post, "/api/v1/service_token", token: APIClient.masterKey,
                body: ["organization_id": .string(organization), "name": .string("ops")])
            #expect(byMaster.status == 201 && byMaster["created_by"] == .null)

            let before = Date().addingTimeInterval(-1)
            let applications = "/api/v1/applications?organization_id=\(organization)"
            #expect(try await api.call(.get, applications, token: bearer).status == 200)
            // A token attenuated from it counts as a use of it.
            let rootKey = try PublicKey(
                "ed25519/" + (try await api.call(.get, "/api/v1/instance").string("biscuit_public_key") ?? ""))
            let child = try Biscuit(base64: bearer, rootKey: rootKey)
                .appending(source: #"check if action("application:list");"#).base64()
            #expect(try await api.call(.get, applications, token: child).status == 200)
            let listed = try await api.call(
                .get, "/api/v1/service_token?organization_id=\(organization)", token: access)
            let deploy = try #require(listed.array.first { Self.field($0, "name") == .string("deploy") })
            guard case .string(let lastUsed)? = Self.field(deploy, "last_used_at"),
                let lastUsedAt = Timestamp.parse(lastUsed)
            else {
                Issue.record(
                    "last_used_at is not a timestamp: \(String(describing: Self.field(deploy, "last_used_at")))")
                return
            }
            #expect(lastUsedAt >= before && lastUsedAt <= Date().addingTimeInterval(1))
            let ops = try #require(listed.array.first { Self.field($0, "name") == .string("ops") })
            #expect(Self.field(ops, "last_used_at") == .null)
        }
    }

    @Test(arguments: StoreBackend.available)
    func registrationEnforcesThePolicyAndOneAccountPerAddress(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let attempt = { (password: String, email: String) async throws -> String? in
                try await api.call(
                    .post, "/api/v1/register",
                    body: [
                        "first_name": "Ada", "last_name": "Lovelace", "email": .string(email),
                        "password": .string(password),
                    ]
                ).string("id")
            }
            let ada = "ada@example.com"
            let cases: [(password: String, email: String, expected: String?)] = [
                ("short-1", ada, "PasswordTooShort"), ("ada@example.com!", ada, "PasswordSimilarToEmail"),
                ("AdaLovelace1815", ada, "PasswordSimilarToName"), ("Password2024!!", ada, "PasswordTooCommon"),
                ("abababababab", ada, "PasswordNotDiverseEnough"),
                (String(repeating: "x7", count: 51), ada, "PasswordTooLong"),
                ("tangerine-orbit-73", "not an address", "Validation"), ("tangerine-orbit-73", ada, nil),
                ("tangerine-orbit-74", "ADA@example.com", "UserAlreadyExist"),
            ]
            for (password, email, expected) in cases {
                let problem = try await attempt(password, email)
                #expect(problem == expected, "\(password) \(email)")
            }
        }
        var closed = APIClient.testAccounts
        closed.registrationDisabled = true
        try await APIClient.with(backend: backend, accounts: closed) { api, _ in
            let answer = try await Self.register(api, "ada@example.com")
            #expect(answer.status == 410 && answer.string("id") == "RegistrationDisabled")
            let instance = try await api.call(.get, "/api/v1/instance")
            #expect(instance["registration_disabled"] == .bool(true))
        }
    }

    @Test(arguments: StoreBackend.available)
    func aResetLinkWorksOnceAndUnknownAddressesAreNotRevealed(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let (login, _) = try await Self.signUp(api, store, "linus@example.com")
            let oldAccess = try #require(login.string("access_token"))
            let unknown = try await api.call(
                .post, "/api/v1/auth/begin-reset-password", body: ["email": "nobody@example.com"])
            #expect(unknown.status == 204)
            let known = try await api.call(
                .post, "/api/v1/auth/begin-reset-password", body: ["email": "Linus@example.com"])
            #expect(known.status == 204)
            let token = try await Self.linkValue(store, to: "linus@example.com")
            let weak = try await api.call(
                .post, "/api/v1/auth/reset-password", body: ["token": .string(token), "new_password": "short"])
            #expect(weak.string("id") == "PasswordTooShort")
            let reset = try await api.call(
                .post, "/api/v1/auth/reset-password",
                body: ["token": .string(token), "new_password": "quantum-walrus-88"])
            #expect(reset.status == 204)
            let reused = try await api.call(
                .post, "/api/v1/auth/reset-password",
                body: ["token": .string(token), "new_password": "another-walrus-99"])
            #expect(reused.status == 401 && reused.string("id") == "AuthEmailExpired")
            #expect(try await api.call(.get, "/api/v1/organizations", token: oldAccess).status == 403)
            #expect(try await Self.login(api, "linus@example.com").status == 401)
            #expect(try await Self.login(api, "linus@example.com", "quantum-walrus-88").status == 201)
            // A verification token is not a reset token.
            let forged = try await api.call(
                .post, "/api/v1/auth/reset-password", body: ["token": "garbage", "new_password": "quantum-walrus-89"])
            #expect(forged.string("id") == "AuthEmailExpired")
        }
    }

    @Test(arguments: StoreBackend.available)
    func changingAPasswordNeedsTheCurrentOneAndEndsEverySession(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let (login, _) = try await Self.signUp(api, store, "barbara@example.com")
            let access = try #require(login.string("access_token"))
            let missing = try await api.call(
                .post, "/api/v1/auth/password", token: access, body: ["new_password": "lambda-calculus-42"])
            #expect(missing.status == 401)
            let wrong = try await api.call(
                .post, "/api/v1/auth/password", token: access,
                body: ["new_password": "lambda-calculus-42", "current_password": "not-my-password-1"])
            #expect(wrong.status == 401)
            let changed = try await api.call(
                .post, "/api/v1/auth/password", token: access,
                body: ["new_password": "lambda-calculus-42", "current_password": .string(Self.password)])
            #expect(changed.status == 204)
            #expect(try await api.call(.get, "/api/v1/organizations", token: access).status == 403)
            #expect(try await Self.login(api, "barbara@example.com", "lambda-calculus-42").status == 201)
        }
    }

    @Test(arguments: StoreBackend.available)
    func tooManyFailedSignInsAreRefusedWithRetryAfter(backend: StoreBackend) async throws {
        var strict = APIClient.testAccounts
        strict.maxLoginFailuresPerAccount = 3
        try await APIClient.with(backend: backend, accounts: strict) { api, store in
            _ = try await Self.signUp(api, store, "edsger@example.com")
            for _ in 0..<3 {
                #expect(try await Self.login(api, "edsger@example.com", "wrong-password-0").status == 401)
            }
            let refused = try await Self.login(api, "edsger@example.com")
            #expect(refused.status == 429)
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 800 && retryAfter <= 900)
            // Unknown addresses are throttled the same way, so the answer does not tell them apart.
            for _ in 0..<3 { #expect(try await Self.login(api, "ghost@example.com", "x").status == 401) }
            #expect(try await Self.login(api, "ghost@example.com", "x").status == 429)
        }
    }

    @Test(arguments: StoreBackend.available)
    func rolesApplyAtOnceAndAnOrganizationKeepsAnEditor(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let (ownerLogin, organization) = try await Self.signUp(api, store, "owner@example.com")
            let owner = try #require(ownerLogin.string("access_token"))
            let ownerID = try #require(ownerLogin.string("user_id"))
            let (memberLogin, _) = try await Self.signUp(api, store, "member@example.com")
            let member = try #require(memberLogin.string("access_token"))
            let memberID = try #require(memberLogin.string("user_id"))
            let invitePath = "/api/v1/organizations/\(organization)/invite"
            let createApplication: JSONValue = ["organization_id": .string(organization), "name": "shared app"]

            #expect(try await api.call(.get, "/api/v1/organizations/\(organization)", token: member).status == 403)
            let badRole = try await api.call(
                .post, invitePath, token: owner, body: ["email": "member@example.com", "role": "owner"])
            #expect(badRole.status == 400 && badRole.string("id") == "InvalidRole")
            let invited = try await api.call(
                .post, invitePath, token: owner, body: ["email": "MEMBER@example.com", "role": "viewer"])
            #expect(invited.status == 200 && invited.string("role") == "viewer")
            let twice = try await api.call(
                .post, invitePath, token: owner, body: ["email": "member@example.com", "role": "viewer"])
            #expect(twice.status == 409 && twice.string("id") == "InvitedUserAlreadyInOrganization")

            // The member's token predates the invitation; the stored membership counts at once.
            #expect(try await api.call(.get, "/api/v1/organizations/\(organization)", token: member).status == 200)
            #expect(
                try await api.call(.post, "/api/v1/applications", token: member, body: createApplication).status == 403)
            let info = try await api.call(.get, "/api/v1/organizations/\(organization)", token: owner)
            #expect(info["users"].map { if case .array(let users) = $0 { users.count } else { 0 } } == 2)
            // A viewer may not manage members.
            #expect(
                try await api.call(
                    .put, invitePath, token: member, body: ["user_id": .string(memberID), "role": "editor"]
                ).status == 403)

            let promoted = try await api.call(
                .put, invitePath, token: owner, body: ["user_id": .string(memberID), "role": "editor"])
            #expect(promoted.status == 200)
            #expect(
                try await api.call(.post, "/api/v1/applications", token: member, body: createApplication).status == 201)

            // Nobody changes their own role; the last editor cannot be removed or demoted.
            let own = try await api.call(
                .put, invitePath, token: owner, body: ["user_id": .string(ownerID), "role": "viewer"])
            #expect(own.status == 403)
            #expect(
                try await api.call(.delete, invitePath, token: member, body: ["user_id": .string(ownerID)]).status
                    == 200)
            let last = try await api.call(.delete, invitePath, token: member, body: ["user_id": .string(memberID)])
            #expect(last.status == 403 && last.string("title") == "The organization needs an editor")
            let demoteLast = try await api.call(
                .put, invitePath, token: APIClient.masterKey, body: ["user_id": .string(memberID), "role": "viewer"])
            #expect(demoteLast.status == 403 && demoteLast.string("title") == "The organization needs an editor")
            // The removed owner lost the organization at once.
            #expect(try await api.call(.get, "/api/v1/organizations/\(organization)", token: owner).status == 403)

            // A person's new organization works with the token they already hold.
            let created = try await api.call(.post, "/api/v1/organizations", token: owner, body: ["name": "Second org"])
            let second = try #require(created.string("organization_id"))
            #expect(try await api.call(.get, "/api/v1/organizations/\(second)", token: owner).status == 200)
        }
    }

    @Test(arguments: StoreBackend.available)
    func anInvitationForANewAddressRegistersAndJoinsOnce(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let (ownerLogin, organization) = try await Self.signUp(api, store, "host@example.com")
            let owner = try #require(ownerLogin.string("access_token"))
            let invited = try await api.call(
                .post, "/api/v1/organizations/\(organization)/invite", token: owner,
                body: ["email": "newcomer@example.com", "role": "viewer"])
            #expect(invited.status == 200)
            let pending = try await api.call(.get, "/api/v1/organizations/\(organization)/invitations", token: owner)
            #expect(
                pending.array.count == 1 && Self.field(pending.array.first, "email") == .string("newcomer@example.com"))
            let secret = try await Self.linkValue(store, to: "newcomer@example.com", parameter: "invitation")
            var body: [String: JSONValue] = [
                "first_name": "New", "last_name": "Comer", "email": "newcomer@example.com",
                "password": .string(Self.password), "invitation_token": .string(secret),
            ]
            let wrongAddress = body.merging(["email": "someone-else@example.com"]) { $1 }
            #expect(try await api.call(.post, "/api/v1/register", body: .object(wrongAddress)).status == 401)
            #expect(try await api.call(.post, "/api/v1/register", body: .object(body)).status == 201)
            // The invitation proved the address: the newcomer signs in without a verification mail.
            let login = try await Self.login(api, "newcomer@example.com")
            #expect(login.status == 201)
            let access = try #require(login.string("access_token"))
            #expect(try await api.call(.get, "/api/v1/organizations/\(organization)", token: access).status == 200)
            body["email"] = "newcomer2@example.com"
            #expect(try await api.call(.post, "/api/v1/register", body: .object(body)).status == 401)
            #expect(
                try await api.call(.get, "/api/v1/organizations/\(organization)/invitations", token: owner).array
                    .isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func anInvitationSentAgainKeepsItsIdAndOnlyItsNewLinkWorks(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let (ownerLogin, organization) = try await Self.signUp(api, store, "host@example.com")
            let owner = try #require(ownerLogin.string("access_token"))
            let invited = try await api.call(
                .post, "/api/v1/organizations/\(organization)/invite", token: owner,
                body: ["email": "late@example.com", "role": "editor"])
            #expect(invited.status == 200)
            let listed = try await api.call(.get, "/api/v1/organizations/\(organization)/invitations", token: owner)
            let id = try #require(listed.array.first?.string("invitation_id"))
            let firstLink = try await Self.linkValue(store, to: "late@example.com", parameter: "invitation")
            let resend = "/api/v1/organizations/\(organization)/invitations/\(id)/resend"
            // Just sent: not again within the minute.
            let tooSoon = try await api.call(.post, resend, token: owner)
            #expect(tooSoon.status == 429 && tooSoon.string("id") == "RateLimited")
            let wait = Int(tooSoon.headers[HTTPField.Name("Retry-After")!] ?? "") ?? 0
            #expect((1...60).contains(wait))

            // As if it had been sent two minutes ago.
            let organizationID = try #require(UUID(uuidString: organization))
            let invitationID = try #require(UUID(uuidString: id))
            #expect(
                try await store.renewInvitation(
                    id: invitationID, organizationID: organizationID,
                    secretHash: InvitationSecret.hash(firstLink), sentAt: Date().addingTimeInterval(-120),
                    expiresAt: Date().addingTimeInterval(3600), mail: nil))
            let sentAgain = try await api.call(.post, resend, token: owner)
            #expect(sentAgain.status == 200 && sentAgain.string("invitation_id") == id)
            #expect(sentAgain.string("email") == "late@example.com" && sentAgain.string("role") == "editor")
            let newLink = try await Self.linkValue(store, to: "late@example.com", parameter: "invitation")
            #expect(newLink != firstLink)
            let again = try await api.call(.get, "/api/v1/organizations/\(organization)/invitations", token: owner)
            #expect(again.array.count == 1 && again.array.first?.string("invitation_id") == id)

            var body: [String: JSONValue] = [
                "first_name": "Late", "last_name": "Comer", "email": "late@example.com",
                "password": .string(Self.password), "invitation_token": .string(firstLink),
            ]
            #expect(try await api.call(.post, "/api/v1/register", body: .object(body)).status == 401)
            body["invitation_token"] = .string(newLink)
            #expect(try await api.call(.post, "/api/v1/register", body: .object(body)).status == 201)
            // Accepted: nothing is left to send, and an unknown id is not found either.
            #expect(try await api.call(.post, resend, token: owner).status == 404)
            let unknown = "/api/v1/organizations/\(organization)/invitations/\(UUID().uuidString)/resend"
            #expect(try await api.call(.post, unknown, token: owner).status == 404)
        }
    }
}
