import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FerryAPI
@testable import FerryDashboard

/// The organization's pages and an application's overview and settings through the real router and store: the
/// events-per-day chart and its ranges, creating organizations and applications, members and invitations, service
/// tokens (shown once, renamed, attenuated into a token the API then holds to its checks, deleted), the
/// application's queue and charts and its send-an-event form, and the settings; viewers see none of the actions and
/// are refused when forcing one.
@Suite struct OrganizationPagesTests {
    typealias Browser = DashboardTests.Browser

    static func editor(_ store: SQLiteStore, _ browser: Browser) async throws -> (UUID, String) {
        let (_, organization) = try await DashboardTests.person(
            "dee@example.com", organizationName: "Harbour", in: store)
        _ = try await DashboardTests.signIn(browser, "dee@example.com")
        return (organization, "/organizations/" + organization.lowercased)
    }

    /// The value of the hidden or read-only field named `name` (or with id `id`).
    static func field(_ html: String, id: String) throws -> String {
        let start = try #require(html.range(of: #"id="\#(id)" type="text" readonly value=""#)).upperBound
        return String(html[start...].prefix { $0 != "\"" })
    }

    @Test func theOverviewChartsEventsPerDayByApplicationAndCreatesApplications() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (organization, path) = try await Self.editor(store, browser)
            let (billing, _) = try await store.createApplication(organizationID: organization, name: "billing")
            let (shipping, _) = try await store.createApplication(organizationID: organization, name: "<i>shipping</i>")
            try await Fixtures.eventType(in: store, applicationID: billing.id)
            try await Fixtures.eventType(in: store, applicationID: shipping.id)
            for _ in 0..<3 { _ = try await store.ingest(Fixtures.event(applicationID: billing.id)) }
            var old = Fixtures.event(applicationID: shipping.id)
            old.receivedAt = Date().addingTimeInterval(-2 * 86_400)
            _ = try await store.ingest(old)
            let today = Timestamp.formatDay(Date())
            let twoDaysAgo = Timestamp.formatDay(Date().addingTimeInterval(-2 * 86_400))

            let page = try await browser.get(path)
            #expect(page.status == 200)
            #expect(page.html.contains("<title>billing, \(today): 3</title>"))
            #expect(page.html.contains("<title>&lt;i&gt;shipping&lt;/i&gt;, \(twoDaysAgo): 1</title>"))
            #expect(page.html.contains("&lt;i&gt;shipping&lt;/i&gt;: 1</li>") && !page.html.contains("<i>shipping"))
            #expect(page.html.contains("<tr><td>\(today)</td><td>0</td><td>3</td><td>3</td></tr>"))
            #expect(page.html.components(separatedBy: "<tr><td>20").count - 1 == 30)
            #expect(page.html.contains("<dt>Events today (UTC)</dt><dd>3</dd>"))
            let week = try await browser.get(path + "?days=7")
            #expect(week.html.components(separatedBy: "<tr><td>20").count - 1 == 7)
            #expect(week.html.contains(#"href="\#(path)?days=7" aria-current="page""#))

            let csrf = try #require(page.csrf)
            let refused = try await browser.post(path + "/applications", form: ["csrf": csrf, "name": ""])
            #expect(refused.status == 422 && refused.html.contains("This was not saved"))
            let created = try await browser.post(path + "/applications", form: ["csrf": csrf, "name": "payments"])
            #expect(created.status == 303)
            let location = try #require(created.headers[.location])
            #expect(location.hasPrefix(path + "/applications/") && location.hasSuffix("?done=application-created"))
            let overview = try await browser.get(location)
            #expect(overview.status == 200 && overview.html.contains("Getting started"))
            #expect(overview.html.contains("The application was created."))

            let home = try await browser.get("/")
            let made = try await browser.post(
                "/organizations", form: ["csrf": try #require(home.csrf), "name": "Second"])
            #expect(made.status == 303)
            let second = try await browser.get(try #require(made.headers[.location]))
            #expect(second.status == 200 && second.html.contains("<h1>Second</h1>"))
            #expect(try await browser.post("/organizations", form: ["csrf": csrf, "name": " "]).status == 422)
        }
    }

    @Test func membersAreInvitedChangedAndRemovedAndTheLastEditorStays() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (organization, path) = try await Self.editor(store, browser)
            let (crew, _) = try await DashboardTests.person("crew@example.com", organizationName: "own", in: store)
            let page = try await browser.get(path + "/members")
            let csrf = try #require(page.csrf)
            #expect(page.status == 200 && page.html.contains("dee@example.com") && page.html.contains("(you)"))
            #expect(!page.html.contains("Role of dee@example.com"), "nobody changes their own role")

            let joined = try await browser.post(
                path + "/members", form: ["csrf": csrf, "email": "crew@example.com", "role": "viewer"])
            #expect(joined.headers[.location] == path + "/members?done=member-added")
            #expect(try await store.memberships(userID: crew.id)[organization] == .viewer)
            let invited = try await browser.post(
                path + "/members", form: ["csrf": csrf, "email": "new@example.com", "role": "editor"])
            #expect(invited.headers[.location] == path + "/members?done=invitation-sent")
            let mails = try await store.claimDueMails(limit: 10, lease: .seconds(60), at: Date())
            #expect(mails.contains { $0.recipient == "new@example.com" && $0.body.contains("/register?invitation=") })
            let listed = try await browser.get(path + "/members")
            #expect(listed.html.contains("Pending invitations") && listed.html.contains("new@example.com"))
            let invitation = try #require(try await store.invitations(organizationID: organization, at: Date()).first)
            let soon = try await browser.post(
                path + "/invitations/" + invitation.id.lowercased + "/resend", form: ["csrf": csrf])
            #expect(soon.status == 429 && soon.html.contains("less than a minute ago"))
            let cancelled = try await browser.post(
                path + "/invitations/" + invitation.id.lowercased + "/delete", form: ["csrf": csrf])
            #expect(cancelled.headers[.location] == path + "/members?done=invitation-cancelled")
            #expect(try await store.invitations(organizationID: organization, at: Date()).isEmpty)
            let badRole = try await browser.post(
                path + "/members", form: ["csrf": csrf, "email": "x@example.com", "role": "owner"])
            #expect(badRole.status == 422 && badRole.html.contains("choose editor or viewer"))

            let promoted = try await browser.post(
                path + "/members/" + crew.id.lowercased + "/role", form: ["csrf": csrf, "role": "editor"])
            #expect(promoted.headers[.location] == path + "/members?done=role-changed")
            #expect(try await store.memberships(userID: crew.id)[organization] == .editor)
            let removed = try await browser.post(
                path + "/members/" + crew.id.lowercased + "/remove", form: ["csrf": csrf])
            #expect(removed.headers[.location] == path + "/members?done=member-removed")
            #expect(try await store.memberships(userID: crew.id)[organization] == nil)
            let me = try #require(try await store.userCredentials(email: "dee@example.com")).0
            let last = try await browser.post(path + "/members/" + me.id.lowercased + "/remove", form: ["csrf": csrf])
            #expect(last.status == 409)
            #expect(try await store.memberships(userID: me.id)[organization] == .editor)
        }
    }

    @Test func aServiceTokenIsShownOnceRenamedAttenuatedAndDeleted() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (organization, path) = try await Self.editor(store, browser)
            let (billing, _) = try await store.createApplication(organizationID: organization, name: "billing")
            let csrf = try #require(try await browser.get(path + "/service_tokens").csrf)
            let created = try await browser.post(path + "/service_tokens", form: ["csrf": csrf, "name": "ci"])
            #expect(created.status == 201 && created.html.contains("Copy the token now"))
            let bearer = try Self.field(created.html, id: "created-token")
            #expect(bearer.count > 100)
            let token = try #require(try await store.serviceTokens(organizationID: organization).first)
            let tokenPath = path + "/service_tokens/" + token.id.lowercased
            let again = try await browser.get(tokenPath)
            #expect(again.status == 200 && !again.html.contains(bearer), "the token is shown once")
            let list = try await browser.get(path + "/service_tokens")
            #expect(list.html.contains(token.displayHint) && list.html.contains("dee@example.com"))

            let renamed = try await browser.post(tokenPath, form: ["csrf": csrf, "name": "deploys"])
            #expect(renamed.headers[.location] == tokenPath + "?done=service-token-renamed")
            let narrowed = try await browser.post(
                tokenPath + "/attenuate",
                form: [
                    "csrf": csrf, "biscuit": bearer, "preset": "read_only", "application": billing.id.lowercased,
                    "expires": "", "datalog": "",
                ])
            #expect(narrowed.status == 201 && narrowed.html.contains("The narrower token"))
            #expect(
                narrowed.html.contains("check if application_id(") && narrowed.html.contains("check if action($action)")
            )
            #expect(narrowed.html.contains("Authority block (signed by the server)"))
            let attenuated = try Self.field(narrowed.html, id: "attenuated-token")
            func api(_ method: HTTPRequest.Method, _ uri: String, _ bearer: String, body: String? = nil) async throws
                -> Int
            {
                var headers: HTTPFields = [.authorization: "Bearer " + bearer]
                if body != nil { headers[.contentType] = "application/json" }
                let response = try await browser.client.execute(
                    uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                return Int(response.status.code)
            }
            #expect(try await api(.get, "/api/v1/applications/" + billing.id.lowercased, attenuated) == 200)
            let eventType =
                #"{"application_id":"\#(billing.id.lowercased)","service":"a","resource_type":"b","verb":"c"}"#
            #expect(try await api(.post, "/api/v1/event_types", attenuated, body: eventType) == 403)
            #expect(try await api(.post, "/api/v1/event_types", bearer, body: eventType) == 201)
            let foreign = try await browser.post(
                tokenPath + "/attenuate", form: ["csrf": csrf, "biscuit": "not-a-token", "preset": "read_only"])
            #expect(foreign.status == 422 && foreign.html.contains("is not a token of this service token"))

            let deleted = try await browser.post(tokenPath + "/delete", form: ["csrf": csrf])
            #expect(deleted.headers[.location] == path + "/service_tokens?done=service-token-deleted")
            #expect(try await api(.get, "/api/v1/applications/" + billing.id.lowercased, attenuated) == 403)
            #expect(try await api(.get, "/api/v1/applications/" + billing.id.lowercased, bearer) == 403)
        }
    }

    @Test func anApplicationsOverviewShowsItsQueueAndChartsAndSendsAnEvent() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (organization, _) = try await Self.editor(store, browser)
            let (application, _) = try await store.createApplication(organizationID: organization, name: "billing")
            let path = DashboardPaths.application(organization, application.id)
            let fresh = try await browser.get(path)
            #expect(
                fresh.html.contains("Getting started")
                    && fresh.html.contains("To do:</strong> <a href=\"\(path)/event_types\">"))
            #expect(!fresh.html.contains("Send the event"), "no form before an event type exists")

            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            for _ in 0..<3 { _ = try await store.ingest(Fixtures.event(applicationID: application.id)) }
            for elapsed in [10, 30] {
                let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(60)).first)
                let answer = AttemptObservation.answered(
                    status: elapsed == 10 ? 200 : 500, headers: [:], body: [], truncated: false,
                    elapsedMilliseconds: elapsed, retryAfterSeconds: nil)
                #expect(try await store.recordOutcome(answer, for: job, retryAt: Date().addingTimeInterval(600)))
            }
            let today = Timestamp.formatDay(Date())
            let page = try await browser.get(path)
            #expect(page.status == 200 && !page.html.contains("Getting started"))
            #expect(page.html.contains("<dt>Due now</dt><dd>1</dd>"))
            #expect(page.html.contains("<dt>Waiting for a retry</dt><dd>1</dd>"))
            #expect(page.html.contains("<title>Succeeded, \(today): 1</title>"))
            #expect(page.html.contains("<title>Failed, \(today): 1</title>"))
            #expect(page.html.contains("<title>\(today): median 10 ms</title>"))
            #expect(page.html.contains("<title>\(today): 95th percentile 30 ms</title>"))
            #expect(page.html.contains(#"<textarea id="event-labels" name="labels" rows="2">tenant=t1</textarea>"#))

            let csrf = try #require(page.csrf)
            let broken = try await browser.post(
                path + "/events",
                form: ["csrf": csrf, "event_type": "billing.invoice.paid", "labels": "tenant=t1", "payload": "{nope"])
            #expect(broken.status == 422 && broken.html.contains("This was not saved"))
            let sent = try await browser.post(
                path + "/events",
                form: [
                    "csrf": csrf, "event_type": "billing.invoice.paid", "labels": "tenant=t1", "payload": #"{"a":1}"#,
                ])
            #expect(sent.status == 303)
            let location = try #require(sent.headers[.location])
            #expect(location.contains("/deliveries?event_id=") && location.hasSuffix("&done=event-sent"))
            let following = try await browser.get(location)
            #expect(following.html.contains("Your event's delivery"))
            #expect(following.html.contains("data-delivery-state") && following.html.contains("data-live="))
            let newest = try #require(try await store.events(applicationID: application.id, limit: 1).first)
            #expect(newest.payload == Array(#"{"a":1}"#.utf8) && newest.labels == ["tenant": "t1"])
            let attempts = try await store.requestAttempts(
                AttemptQuery(applicationID: application.id, eventID: newest.id))
            #expect(attempts.count == 1)
        }
    }

    @Test func settingsRenameAndDeleteAndAViewerIsRefused() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (organization, path) = try await Self.editor(store, browser)
            let (application, _) = try await store.createApplication(organizationID: organization, name: "billing")
            let appPath = DashboardPaths.application(organization, application.id)
            let csrf = try #require(try await browser.get(appPath + "/settings").csrf)
            let badDays = try await browser.post(
                appPath + "/settings", form: ["csrf": csrf, "name": "billing", "retention": "lots"])
            #expect(badDays.status == 422 && badDays.html.contains("a whole number of days"))
            let saved = try await browser.post(
                appPath + "/settings", form: ["csrf": csrf, "name": "invoices", "retention": "7"])
            #expect(saved.headers[.location] == appPath + "/settings?done=application-saved")
            let stored = try #require(try await store.application(id: application.id))
            #expect(stored.name == "invoices" && stored.retentionDays == 7)

            let notEmpty = try await browser.post(path + "/delete", form: ["csrf": csrf])
            #expect(notEmpty.status == 409)
            #expect(try await store.organization(id: organization) != nil)

            let (viewer, _) = try await DashboardTests.person("viewer@example.com", organizationName: "v", in: store)
            try await store.addMember(organizationID: organization, userID: viewer.id, role: .viewer)
            let other = Browser(browser.client)
            _ = try await DashboardTests.signIn(other, "viewer@example.com")
            let viewerCSRF = try #require(try await other.get("/").csrf)
            for page in [path, path + "/members", path + "/settings", appPath, appPath + "/settings"] {
                let shown = try await other.get(page)
                #expect(shown.status == 200, "\(page)")
                for action in ["Create application", "Invite", "Rename", "Delete", "Send the event", "Save"] {
                    #expect(!shown.html.contains(">\(action)"), "\(page) offers \(action)")
                }
            }
            #expect(try await other.get(path + "/service_tokens").status == 403)
            for (target, form) in [
                (path + "/applications", ["name": "x"]), (path + "/members", ["email": "a@b.co", "role": "editor"]),
                (path + "/settings", ["name": "x"]), (path + "/delete", [:]), (appPath + "/delete", [:]),
                (appPath + "/settings", ["name": "x"]),
            ] {
                let forced = try await other.post(target, form: form.merging(["csrf": viewerCSRF]) { $1 })
                #expect(forced.status == 403, "\(target)")
            }

            let renamed = try await browser.post(path + "/settings", form: ["csrf": csrf, "name": "Port"])
            #expect(renamed.headers[.location] == path + "/settings?done=organization-renamed")
            let deletedApp = try await browser.post(appPath + "/delete", form: ["csrf": csrf])
            #expect(deletedApp.headers[.location] == path + "?done=application-deleted")
            let deleted = try await browser.post(path + "/delete", form: ["csrf": csrf])
            #expect(deleted.headers[.location] == "/?done=organization-deleted")
        }
    }

    @Test func theDeliveryLogFiltersAndSendsGivenUpAttemptsAgainOnce() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (organization, _) = try await Self.editor(store, browser)
            let (application, _) = try await store.createApplication(organizationID: organization, name: "billing")
            let path = DashboardPaths.application(organization, application.id) + "/deliveries"
            try await Fixtures.eventType(in: store, applicationID: application.id)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a"), secret: UUID())
            for _ in 0..<3 { _ = try await store.ingest(Fixtures.event(applicationID: application.id)) }
            for status in [200, 500, 404] {
                let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(60)).first)
                let answer = AttemptObservation.answered(
                    status: status, headers: [:], body: [], truncated: false, elapsedMilliseconds: 4,
                    retryAfterSeconds: nil)
                #expect(try await store.recordOutcome(answer, for: job, retryAt: nil))
            }
            func rows(_ page: Browser.Page) -> Int { page.html.components(separatedBy: "<tr data-id=").count - 1 }
            #expect(rows(try await browser.get(path)) == 3)
            #expect(rows(try await browser.get(path + "?status=succeeded")) == 1)
            #expect(rows(try await browser.get(path + "?http=4")) == 1)
            #expect(rows(try await browser.get(path + "?http=5&status=failed")) == 1)
            #expect(rows(try await browser.get(path + "?event_type=other.thing.done")) == 0)
            let today = Timestamp.formatDay(Date())
            #expect(rows(try await browser.get(path + "?from=\(today)&to=\(today)")) == 3)
            #expect(rows(try await browser.get(path + "?to=2020-01-01")) == 0)
            #expect(try await browser.get(path + "?status=lost").status == 400)
            #expect(try await browser.get(path + "?from=yesterday").status == 400)
            let filtered = try await browser.get(path + "?status=failed&http=5")
            #expect(filtered.html.contains(#"<option value="failed" selected>Failed</option>"#))
            #expect(filtered.html.contains("data-live=\"\(path)/live?status=failed&amp;http=5\""))

            let givenUp = try await browser.get(path + "?status=given_up")
            #expect(rows(givenUp) == 2 && givenUp.html.contains("2 given-up attempt(s) match"))
            let csrf = try #require(givenUp.csrf)
            let recovered = try await browser.post(
                path + "/recover", form: ["csrf": csrf, "from": "", "to": "", "subscription_id": ""])
            #expect(recovered.headers[.location] == path + "?status=unfinished&recovered=2&done=attempts-recovered")
            let after = try await browser.get(try #require(recovered.headers[.location]))
            #expect(after.html.contains("2 given-up attempts are being sent again") && rows(after) == 2)
            let again = try await browser.post(
                path + "/recover", form: ["csrf": csrf, "from": "", "to": "", "subscription_id": ""])
            #expect(again.headers[.location] == path + "?status=unfinished&recovered=0&done=attempts-recovered")
            #expect(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).count == 2)
        }
    }

    @Test func theEventsPageFiltersAndKeepsItsFiltersOnOlderPages() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (organization, _) = try await Self.editor(store, browser)
            let (application, _) = try await store.createApplication(organizationID: organization, name: "billing")
            let path = DashboardPaths.application(organization, application.id) + "/events"
            try await Fixtures.eventType(in: store, applicationID: application.id)
            for index in 0..<53 {
                _ = try await store.ingest(
                    Fixtures.event(applicationID: application.id, labels: ["tenant": index < 52 ? "acme" : "<b>x</b>"]))
            }
            func rows(_ page: Browser.Page) -> Int { page.html.components(separatedBy: "<tr data-id=").count - 1 }
            let acme = try await browser.get(path + "?label=tenant%3Dacme")
            #expect(rows(acme) == 50)
            #expect(acme.html.contains(#"value="tenant=acme""#))
            let older = try #require(acme.html.range(of: #"<a href=""#, options: .backwards)).upperBound
            let link = String(acme.html[older...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            #expect(link.contains("label=tenant%3Dacme") && link.contains("before="))
            #expect(rows(try await browser.get(link)) == 2)
            let escaped = try await browser.get(path + "?label=tenant%3D%3Cb%3Ex%3C%2Fb%3E")
            #expect(rows(escaped) == 1 && escaped.html.contains(#"value="tenant=&lt;b&gt;x&lt;/b&gt;""#))
            #expect(rows(try await browser.get(path + "?delivery=unrouted")) == 50)
            #expect(rows(try await browser.get(path + "?delivery=delivered")) == 0)
            #expect(
                try await browser.get(path + "?delivery=delivered").html.contains("No event matches these filters."))
            #expect(rows(try await browser.get(path + "?event_type=other.x.y")) == 0)
            #expect(try await browser.get(path + "?label=novalue").status == 400)
            #expect(try await browser.get(path + "?delivery=lost").status == 400)
        }
    }
}
