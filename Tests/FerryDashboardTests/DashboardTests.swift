import FerryAPI
import FerryCore
import FerryDelivery
import FerryIdentity
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import FerryDashboard

/// The dashboard's pages through the real router, over a real SQLite store: signing in and out with a cookie
/// session, forms refused without their synchronizer token or from another origin, the security headers, escaping
/// of what people typed, and the pages showing only the person's own organizations.
@Suite struct DashboardTests {
    static let password = "dashboard-password-42"
    static let accounts = AccountSettings(
        passwordHasher: PasswordHasher(cost: .init(logN: 10, blockSize: 8, parallelism: 1)))

    /// A browser: the cookies it was given, sent back on every request.
    final class Browser: @unchecked Sendable {
        let client: any TestClientProtocol
        var cookies: [String: String] = [:]

        init(_ client: any TestClientProtocol) {
            self.client = client
        }

        struct Page {
            var status: Int
            var headers: HTTPFields
            var html: String

            /// The value of the first hidden `csrf` field.
            var csrf: String? {
                guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
                return String(html[range.upperBound...].prefix { $0 != "\"" })
            }
        }

        func get(_ path: String, headers extra: HTTPFields = [:]) async throws -> Page {
            try await send(.get, path, form: nil, extra: extra)
        }

        /// Posts a form as a page of this server would (the router test client's authority is `localhost`).
        func post(_ path: String, form: [String: String], origin: String? = "http://localhost") async throws -> Page {
            try await send(.post, path, form: form.sorted { $0.key < $1.key }, origin: origin)
        }

        /// Posts a form whose fields may repeat (checkbox groups, `name[]`).
        func post(_ path: String, fields: [(String, String)]) async throws -> Page {
            try await send(.post, path, form: fields, origin: "http://localhost")
        }

        private func send(
            _ method: HTTPRequest.Method, _ path: String, form: [(String, String)]?, origin: String? = nil,
            extra: HTTPFields = [:]
        ) async throws -> Page {
            var headers = extra
            if !cookies.isEmpty {
                headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    .joined(separator: "; ")
            }
            if let origin { headers[.origin] = origin }
            var body: ByteBuffer?
            if let form {
                headers[.contentType] = "application/x-www-form-urlencoded"
                let encoded = form.map { key, value in
                    (key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") + "="
                        + (value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                }.joined(separator: "&")
                body = ByteBuffer(string: encoded)
            }
            let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
            for field in response.headers where field.name == .setCookie {
                let pair = field.value.prefix { $0 != ";" }
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<equals])
                let value = String(pair[pair.index(after: equals)...])
                if value.isEmpty || field.value.contains("Max-Age=0") {
                    cookies[name] = nil
                } else {
                    cookies[name] = value
                }
            }
            return Page(
                status: Int(response.status.code), headers: response.headers, html: String(buffer: response.body))
        }
    }

    static func withDashboard(
        oneOffDelivery: OneOffDelivery? = nil, targetPolicy: TargetPolicy = TargetPolicy(),
        liveStreamLifetime: Duration = .seconds(300),
        _ body: @Sendable (SQLiteStore, Browser) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await SQLiteStore.open(path: directory.path + "/ferry.sqlite")
        var configuration = APIConfiguration(publicURL: "http://ferry.test", accounts: accounts)
        configuration.targetPolicy = targetPolicy
        let router = buildRouter(store: store, configuration: configuration)
        Dashboard(
            store: store, configuration: configuration, oneOffDelivery: oneOffDelivery,
            liveStreamLifetime: liveStreamLifetime
        ).addRoutes(to: router)
        var logger = Logger(label: "dashboard-tests")
        logger.logLevel = .critical
        try await Application(router: router, logger: logger).test(.router) { client in
            try await body(store, Browser(client))
        }
        try await store.close()
    }

    /// A verified account whose personal organization is named `organizationName`.
    @discardableResult
    static func person(_ email: String, organizationName: String, in store: SQLiteStore) async throws -> (User, UUID) {
        let user = User(
            id: UUID(), email: email, firstName: "Dee", lastName: "Board", createdAt: Date(), emailVerifiedAt: Date())
        let organization = try await store.register(
            Registration(
                user: user, passwordHash: try accounts.passwordHasher.hash(password),
                personalOrganizationName: organizationName))
        return (user, organization)
    }

    static func signIn(_ browser: Browser, _ email: String) async throws -> Browser.Page {
        let form = try await browser.get("/login")
        let csrf = try #require(form.csrf)
        return try await browser.post("/login", form: ["email": email, "password": password, "csrf": csrf])
    }

    @Test func signingInOpensASessionAndSigningOutEndsIt() async throws {
        try await Self.withDashboard { store, browser in
            let (user, organization) = try await Self.person(
                "dee@example.com", organizationName: "Dee's org", in: store)
            let (application, _) = try await store.createApplication(organizationID: organization, name: "billing")

            let anonymous = try await browser.get("/")
            #expect(anonymous.status == 303 && anonymous.headers[.location] == "/login")
            let signedIn = try await Self.signIn(browser, "DEE@example.com")
            #expect(signedIn.status == 303 && signedIn.headers[.location] == "/")
            let sessionCookie = try #require(browser.cookies["ferry_session"])
            #expect(sessionCookie.count >= 40)

            let home = try await browser.get("/")
            #expect(home.status == 200)
            #expect(home.html.contains("Dee&#39;s org") || home.html.contains("Dee&#x27;s org"))
            #expect(home.html.contains(application.id.lowercased) && home.html.contains("billing"))
            #expect(home.html.contains("dee@example.com"))
            // Signed in, the sign-in page sends the person home.
            #expect(try await browser.get("/login").headers[.location] == "/")

            let csrf = try #require(home.csrf)
            let out = try await browser.post("/logout", form: ["csrf": csrf])
            #expect(out.status == 303 && out.headers[.location] == "/login")
            #expect(browser.cookies["ferry_session"] == nil)
            // The old cookie is dead on the server too, not only forgotten by the browser.
            browser.cookies["ferry_session"] = sessionCookie
            #expect(try await browser.get("/").status == 303)
            #expect(
                try await store.liveSession(
                    lookupHash: DashboardSessions<SQLiteStore>.lookupHash(sessionCookie), kind: .dashboard, at: Date())
                    == nil)
            _ = user
        }
    }

    @Test func aWrongPasswordOrAnUnverifiedAddressIsSaidOnTheForm() async throws {
        try await Self.withDashboard { store, browser in
            try await Self.person("dee@example.com", organizationName: "org", in: store)
            let form = try await browser.get("/login")
            let csrf = try #require(form.csrf)
            let wrong = try await browser.post(
                "/login", form: ["email": "dee@example.com", "password": "not-the-password", "csrf": csrf])
            #expect(wrong.status == 401 && wrong.html.contains("Wrong e-mail address or password."))
            #expect(wrong.html.contains(#"value="dee@example.com""#))
            #expect(browser.cookies["ferry_session"] == nil)
            let unknown = try await browser.post(
                "/login", form: ["email": "nobody@example.com", "password": Self.password, "csrf": csrf])
            #expect(unknown.status == 401 && unknown.html.contains("Wrong e-mail address or password."))

            let pending = User(
                id: UUID(), email: "new@example.com", firstName: "N", lastName: "W", createdAt: Date())
            _ = try await store.register(
                Registration(
                    user: pending, passwordHash: try Self.accounts.passwordHasher.hash(Self.password),
                    personalOrganizationName: "new"))
            let unverified = try await browser.post(
                "/login", form: ["email": "new@example.com", "password": Self.password, "csrf": csrf])
            #expect(unverified.status == 401 && unverified.html.contains("Verify your e-mail address first"))
        }
    }

    @Test func formsWithoutTheirTokenOrFromAnotherSiteAreRefused() async throws {
        try await Self.withDashboard { store, browser in
            try await Self.person("dee@example.com", organizationName: "org", in: store)
            _ = try await browser.get("/login")
            let forged = try await browser.post(
                "/login", form: ["email": "dee@example.com", "password": Self.password, "csrf": "guessed"])
            #expect(forged.status == 403 && browser.cookies["ferry_session"] == nil)
            let form = try await browser.get("/login")
            let csrf = try #require(form.csrf)
            let crossSite = try await browser.post(
                "/login", form: ["email": "dee@example.com", "password": Self.password, "csrf": csrf],
                origin: "https://evil.example")
            #expect(crossSite.status == 403 && browser.cookies["ferry_session"] == nil)

            let home = try await Self.signIn(browser, "dee@example.com")
            #expect(home.status == 303)
            let out = try await browser.post("/logout", form: ["csrf": "guessed"])
            #expect(out.status == 403)
            #expect(try await browser.get("/").status == 200, "a refused sign-out leaves the session open")
        }
    }

    @Test func pagesCarryAStrictPolicyAndEscapeWhatPeopleTyped() async throws {
        try await Self.withDashboard { store, browser in
            let (_, organization) = try await Self.person(
                "dee@example.com", organizationName: "<script>alert(1)</script>", in: store)
            _ = try await store.createApplication(organizationID: organization, name: #"<img src=x onerror="boom">"#)
            _ = try await Self.signIn(browser, "dee@example.com")
            let home = try await browser.get("/")
            #expect(!home.html.contains("<script>alert(1)</script>"))
            #expect(home.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!home.html.contains("<img src=x"))
            let policy = try #require(home.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"))
            #expect(!policy.contains("unsafe-inline"))
            #expect(home.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(home.headers[.cacheControl] == "no-store")
            // No inline script at all (the policy would block it): only the dashboard's own module file.
            let scripts = home.html.components(separatedBy: "<script").dropFirst()
            #expect(scripts.count == 1)
            #expect(scripts.allSatisfy { $0.hasPrefix(#" type="module" src="/assets/ferry."#) })
        }
    }

    @Test func thePagesShowOnlyThePersonsOwnOrganizations() async throws {
        try await Self.withDashboard { store, browser in
            try await Self.person("dee@example.com", organizationName: "mine", in: store)
            let (_, theirs) = try await Self.person("other@example.com", organizationName: "theirs", in: store)
            let (foreign, _) = try await store.createApplication(organizationID: theirs, name: "their-app")
            _ = try await Self.signIn(browser, "dee@example.com")
            let home = try await browser.get("/")
            #expect(home.html.contains("mine"))
            #expect(!home.html.contains("theirs") && !home.html.contains(foreign.id.lowercased))
        }
    }

    /// The `href` of the link marked `rel="next"`, unescaped.
    static func nextLink(in html: String) -> String? {
        guard let rel = html.range(of: #"rel="next""#),
            let href = html[..<rel.lowerBound].range(of: #"href=""#, options: .backwards)
        else { return nil }
        return String(html[href.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
    }

    static func rows(_ html: String) -> Int { html.components(separatedBy: "<tr data-id=").count - 1 }

    @Test func theDeliveryLogShowsEachAttemptsStatusAndPagesToOlderOnes() async throws {
        try await Self.withDashboard { store, browser in
            let (_, organization) = try await Self.person("dee@example.com", organizationName: "mine", in: store)
            let (application, _) = try await store.createApplication(organizationID: organization, name: "billing")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            var draft = Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a")
            draft.description = "<b>receiver</b>"
            _ = try await store.createSubscription(draft, secret: UUID())
            var events: [Event] = []
            for _ in 0..<51 { events.append(try await store.ingest(Fixtures.event(applicationID: application.id))) }
            let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(60)).first)
            let answered = AttemptObservation.answered(
                status: 200, headers: [:], body: Array("ok".utf8), truncated: false, elapsedMilliseconds: 3,
                retryAfterSeconds: nil)
            #expect(try await store.recordOutcome(answered, for: job, retryAt: nil))
            _ = try await Self.signIn(browser, "dee@example.com")

            let home = try await browser.get("/")
            let base = "/organizations/\(organization.lowercased)/applications/\(application.id.lowercased)"
            let path = base + "/deliveries"
            #expect(home.html.contains(#"href="\#(base)/events""#))
            let first = try await browser.get(path)
            #expect(first.html.contains(#"href="\#(path)" aria-current="page""#))
            #expect(first.status == 200)
            #expect(Self.rows(first.html) == 50)
            #expect(first.html.contains("Pending") && !first.html.contains("Successful"))
            #expect(first.html.contains("&lt;b&gt;receiver&lt;/b&gt;") && !first.html.contains("<b>receiver"))
            let older = try #require(Self.nextLink(in: first.html))
            let second = try await browser.get(older)
            #expect(second.status == 200 && Self.rows(second.html) == 1 && Self.nextLink(in: second.html) == nil)
            // The oldest attempt, the one delivered, is last.
            #expect(second.html.contains("Successful · ") && second.html.contains("<td>200</td>"))
            let ids = Set(
                (first.html + second.html).components(separatedBy: "<tr data-id=\"").dropFirst().map {
                    String($0.prefix(36))
                })
            #expect(ids.count == 51, "the two pages hold every attempt once")

            // The events page lists the same 51 events, 50 and 1.
            let eventsPage = try await browser.get(base + "/events")
            #expect(Self.rows(eventsPage.html) == 50 && eventsPage.html.contains("tenant=t1"))
            let olderEvents = try await browser.get(try #require(Self.nextLink(in: eventsPage.html)))
            #expect(Self.rows(olderEvents.html) == 1 && olderEvents.html.contains(events[0].id.lowercased))
            #expect(try await browser.get(base + "/events?before=nonsense").status == 400)
            let oneEvent = try await browser.get(path + "?event_id=\(events[7].id.lowercased)")
            #expect(Self.rows(oneEvent.html) == 1 && oneEvent.html.contains("Only the attempts of event"))
            #expect(try await browser.get(path + "?event_id=nonsense").status == 400)
            #expect(try await browser.get(path + "?after=yesterday").status == 400)
        }
    }

    @Test func anEventsPageShowsItsPayloadAndWhyEachSubscriptionDidOrDidNotGetIt() async throws {
        try await Self.withDashboard { store, browser in
            let (_, organization) = try await Self.person("dee@example.com", organizationName: "mine", in: store)
            let (application, _) = try await store.createApplication(organizationID: organization, name: "billing")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            var receiving = Fixtures.draft(
                applicationID: application.id, url: "https://hooks.example.com/yes", labels: ["tenant": "t1"])
            receiving.description = "the one that gets it"
            var otherTenant = Fixtures.draft(
                applicationID: application.id, url: "https://hooks.example.com/no", labels: ["tenant": "t2"])
            otherTenant.description = "<i>other tenant</i>"
            var disabled = Fixtures.draft(
                applicationID: application.id, url: "https://hooks.example.com/off", labels: [:], enabled: false)
            disabled.description = "switched off"
            for draft in [receiving, otherTenant, disabled] {
                _ = try await store.createSubscription(draft, secret: UUID())
            }
            let event = try await store.ingest(
                Fixtures.event(
                    applicationID: application.id, labels: ["tenant": "t1"],
                    payload: #"{"zeta":1,"alpha":{"list":[1,2],"empty":{}},"text":"a, b: {c}"}"#))
            _ = try await Self.signIn(browser, "dee@example.com")
            let path =
                "/organizations/\(organization.lowercased)/applications/\(application.id.lowercased)/events/"
                + event.id.lowercased
            let page = try await browser.get(path)
            #expect(page.status == 200)
            // Keys keep their order and the payload is laid out; strings are left as they are.
            let expected = """
                {
                  &quot;zeta&quot;: 1,
                  &quot;alpha&quot;: {
                    &quot;list&quot;: [
                      1,
                      2
                    ],
                    &quot;empty&quot;: {}
                  },
                  &quot;text&quot;: &quot;a, b: {c}&quot;
                }
                """
            #expect(page.html.contains(expected), "\(page.html)")
            #expect(page.html.contains("the one that gets it") && page.html.contains("Sent"))
            #expect(page.html.contains("It asks for tenant = t2; the event has tenant = t1."))
            #expect(page.html.contains("It is disabled."))
            #expect(page.html.contains("&lt;i&gt;other tenant&lt;/i&gt;") && !page.html.contains("<i>other"))
            #expect(Self.rows(page.html) == 1, "the receiving subscription's one attempt")
            // The delivery log links each attempt to its event's page.
            let log = try await browser.get(
                "/organizations/\(organization.lowercased)/applications/\(application.id.lowercased)/deliveries")
            #expect(log.html.contains(#"href="\#(path)""#))
            let unknown = String(path.dropLast(36)) + UUID().uuidString.lowercased()
            #expect(try await browser.get(unknown).status == 404)
        }
    }

    @Test func anotherTenantsDeliveryLogIsRefused() async throws {
        try await Self.withDashboard { store, browser in
            let (_, mine) = try await Self.person("dee@example.com", organizationName: "mine", in: store)
            let (_, theirs) = try await Self.person("other@example.com", organizationName: "theirs", in: store)
            let (own, _) = try await store.createApplication(organizationID: mine, name: "own")
            let (foreign, _) = try await store.createApplication(organizationID: theirs, name: "foreign")
            _ = try await Self.signIn(browser, "dee@example.com")
            func path(_ organization: UUID, _ application: FerryCore.Application) -> String {
                "/organizations/\(organization.lowercased)/applications/\(application.id.lowercased)/deliveries"
            }
            let refused = try await browser.get(path(theirs, foreign))
            #expect(refused.status == 403 && !refused.html.contains("foreign"))
            #expect(try await browser.get(path(mine, foreign)).status == 403)
            #expect(try await browser.get(path(theirs, own)).status == 404, "an application is named under its own")
            #expect(try await browser.get(path(mine, own)).status == 200)
        }
    }

    @Test func theStylesheetIsServedUnderItsHashAndCachedForever() async throws {
        try await Self.withDashboard { _, browser in
            let login = try await browser.get("/login")
            let range = try #require(login.html.range(of: #"href="/assets/"#))
            let path = "/assets/" + login.html[range.upperBound...].prefix { $0 != "\"" }
            #expect(path.hasPrefix("/assets/ferry.") && path.hasSuffix(".css"))
            let sheet = try await browser.get(path)
            #expect(sheet.status == 200 && sheet.headers[.contentType] == "text/css; charset=utf-8")
            #expect(sheet.headers[.cacheControl]?.contains("immutable") == true)
            #expect(sheet.html.contains(":focus-visible"))
            #expect(try await browser.get("/assets/ferry.css").status == 404)
        }
    }
}

/// The templates and static files compiled into the binary are the ones in the source tree
/// (`scripts/embed-resources` writes them).
@Suite struct EmbeddedFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/FerryDashboard")

    static func files(_ folder: String, suffix: String) throws -> [String: String] {
        let directory = root.appendingPathComponent(folder)
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(suffix) {
            var text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            if text.hasSuffix("\n") { text.removeLast() }
            files[name] = text
        }
        return files
    }

    @Test func theGeneratedFileIsUpToDate() throws {
        let templates = try Self.files("Templates", suffix: ".mustache")
        #expect(!templates.isEmpty)
        let byName = Dictionary(
            uniqueKeysWithValues: templates.map { (String($0.key.dropLast(".mustache".count)), $0.value) })
        let assets = try Self.files("Assets", suffix: "")
        #expect(Set(byName.keys) == Set(EmbeddedFiles.templates.keys), "run scripts/embed-resources")
        #expect(Set(assets.keys) == Set(EmbeddedFiles.assets.keys), "run scripts/embed-resources")
        for (name, text) in byName {
            let same = EmbeddedFiles.templates[name] == text
            #expect(same, "the template \(name) changed: run scripts/embed-resources")
        }
        for (name, text) in assets {
            let same = EmbeddedFiles.assets[name] == text
            #expect(same, "the static file \(name) changed: run scripts/embed-resources")
        }
    }

    @Test func everyTemplateRenders() {
        let renderer = PageRenderer()
        // Partials (`_tabs`) render inside pages, not alone.
        for name in EmbeddedFiles.templates.keys where name != "layout" && !name.hasPrefix("_") {
            let page = ErrorPage(
                assets: AssetPaths(stylesheet: "/assets/x.css", icon: "/assets/x.svg", script: "/assets/x.js"),
                person: nil, heading: "H",
                detail: "D")
            let html = renderer.render(name, page)
            #expect(html.hasPrefix("<!doctype html>"), "\(name) renders inside the layout")
        }
    }
}
