import AsyncHTTPClient
import FerryAPI
import FerryCore
import FerryDelivery
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Testing

@testable import FerryDashboard

/// The pages that change an application's setup, through the real router over a real SQLite store: subscriptions
/// created, edited, switched off and on and deleted from their forms; forms that break a rule shown again with what
/// was wrong; event types and application secrets; replay and retrying one attempt; a test send to a real
/// receiver; and a viewer who sees no action and is refused when forcing one.
@Suite struct ManagementTests {
    typealias Browser = DashboardTests.Browser

    /// An editor signed in on `browser`, with an application that has the event type `billing.invoice.paid`.
    static func editor(_ store: SQLiteStore, _ browser: Browser) async throws -> (UUID, FerryCore.Application, String) {
        let (_, organization) = try await DashboardTests.person(
            "dee@example.com", organizationName: "mine", in: store)
        let (application, _) = try await store.createApplication(organizationID: organization, name: "billing")
        try await Fixtures.eventType(in: store, applicationID: application.id)
        _ = try await DashboardTests.signIn(browser, "dee@example.com")
        return (organization, application, DashboardPaths.application(organization, application.id))
    }

    /// The synchronizer token the signed-in person's pages carry.
    static func csrf(_ browser: Browser) async throws -> String {
        try #require(try await browser.get("/").csrf)
    }

    static func subscriptionFields(_ csrf: String, name: String, url: String, labels: String = "tenant=t1")
        -> [(String, String)]
    {
        [
            ("csrf", csrf), ("description", name), ("url", url), ("method", "POST"),
            ("event_types[]", "billing.invoice.paid"), ("labels", labels), ("headers", "X-Team: payments"),
            ("metadata", "owner=dee"), ("enabled", "on"),
        ]
    }

    @Test func aSubscriptionIsCreatedEditedSwitchedOffAndDeletedFromItsPages() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (_, application, path) = try await Self.editor(store, browser)
            let form = try await browser.get(path + "/subscriptions/new")
            #expect(form.status == 200)
            #expect(form.html.contains(#"value="billing.invoice.paid""#), "the event type is offered")
            let csrf = try #require(form.csrf)

            let created = try await browser.post(
                path + "/subscriptions",
                fields: Self.subscriptionFields(csrf, name: "payments hook", url: "https://hooks.example.com/in"))
            #expect(created.status == 303)
            let stored = try #require(try await store.subscriptions(applicationID: application.id).first)
            #expect(stored.description == "payments hook" && stored.isEnabled)
            #expect(
                stored.target.url == "https://hooks.example.com/in" && stored.target.headers == ["x-team": "payments"])
            #expect(stored.labels == ["tenant": "t1"] && stored.metadata == ["owner": "dee"])
            #expect(stored.eventTypes == ["billing.invoice.paid"])
            let location = try #require(created.headers[.location])
            #expect(location == path + "/subscriptions/" + stored.id.lowercased + "?done=subscription-created")
            let page = try await browser.get(location)
            #expect(page.status == 200 && page.html.contains("The subscription was created."))
            #expect(page.html.contains(#"value="https://hooks.example.com/in""#))

            // Saving replaces the subscription with what the form holds.
            var edited = Self.subscriptionFields(csrf, name: "renamed", url: "https://hooks.example.com/v2")
            edited.removeAll { $0.0 == "enabled" }
            let saved = try await browser.post(path + "/subscriptions/" + stored.id.lowercased, fields: edited)
            #expect(saved.status == 303)
            let replaced = try #require(try await store.subscription(id: stored.id))
            #expect(replaced.description == "renamed" && replaced.target.url == "https://hooks.example.com/v2")
            #expect(!replaced.isEnabled, "an unticked box disables it")

            // Enabling from the list changes that field only, and goes back to the list.
            let list = try await browser.get(path + "/subscriptions")
            #expect(list.html.contains("Disabled") && list.html.contains(">Enable</button>"))
            let enabled = try await browser.post(
                path + "/subscriptions/" + stored.id.lowercased + "/enabled",
                form: ["csrf": csrf, "enabled": "true", "from": "list"])
            #expect(enabled.headers[.location] == path + "/subscriptions?done=subscription-enabled")
            let after = try #require(try await store.subscription(id: stored.id))
            #expect(after.isEnabled && after.description == "renamed" && after.target == replaced.target)
            #expect(
                try await browser.post(
                    path + "/subscriptions/" + stored.id.lowercased + "/enabled", form: ["csrf": csrf, "enabled": "x"]
                ).status == 400)

            // The circuit, the order, v1a and a rotation are shown among its facts.
            let now = Date()
            #expect(
                try await store.openCircuit(subscriptionID: stored.id, at: now, probeAt: now.addingTimeInterval(60)))
            var draft = Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/v2")
            draft.ordered = true
            draft.ed25519 = .on(newKey: StandardWebhookAsymmetricSigner.generatePrivateKey())
            let signed = try #require(try await store.replaceSubscription(id: stored.id, with: draft))
            _ = try await store.rotateSubscriptionSecret(
                id: stored.id, applicationID: application.id, secret: UUID(),
                ed25519Key: StandardWebhookAsymmetricSigner.generatePrivateKey(),
                previousUntil: now.addingTimeInterval(3_600))
            let facts = try await browser.get(path + "/subscriptions/" + stored.id.lowercased).html
            #expect(facts.contains("attempts wait for a probe at"), "the open circuit")
            #expect(facts.contains("One at a time, in the order the events were received"))
            #expect(!facts.contains(signed.signing.ed25519PublicKey ?? "?"), "the rotated key replaced it")
            let rotated = try #require(try await store.subscription(id: stored.id))
            #expect(facts.contains(rotated.signing.ed25519PublicKey ?? "missing"))
            #expect(facts.contains("The previous secret still signs too, until"))
            for privateKey in [rotated.signing.ed25519PrivateKey, rotated.signing.previousEd25519PrivateKey] {
                #expect(!facts.contains(Data(privateKey ?? []).base64EncodedString()), "no private key is shown")
            }

            let secret = try await browser.get(path + "/subscriptions/" + stored.id.lowercased + "/secret")
            #expect(
                secret.html.contains(rotated.secret.lowercased) && secret.html.contains(rotated.standardWebhooksSecret))

            let deleted = try await browser.post(
                path + "/subscriptions/" + stored.id.lowercased + "/delete", form: ["csrf": csrf])
            #expect(deleted.headers[.location] == path + "/subscriptions?done=subscription-deleted")
            #expect(try await store.subscription(id: stored.id) == nil)
            #expect(try await browser.get(path + "/subscriptions/" + stored.id.lowercased).status == 404)
        }
    }

    @Test func aFormThatBreaksARuleIsShownAgainWithWhatWasWrongAndWhatWasTyped() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (_, application, path) = try await Self.editor(store, browser)
            let csrf = try await Self.csrf(browser)
            var fields = Self.subscriptionFields(csrf, name: "<script>alert(1)</script>", url: "ftp://nowhere")
            fields.removeAll { $0.0 == "event_types[]" }
            let refused = try await browser.post(path + "/subscriptions", fields: fields)
            #expect(refused.status == 422)
            #expect(refused.html.contains("Event types: "), "\(refused.html)")
            #expect(
                refused.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                    && !refused.html.contains("<script>alert"))
            #expect(refused.html.contains(#"value="ftp://nowhere""#))

            let badLines = try await browser.post(
                path + "/subscriptions",
                fields: Self.subscriptionFields(csrf, name: "x", url: "https://a.example.com", labels: "no separator"))
            #expect(badLines.status == 422 && badLines.html.contains("Labels: line 1 is not"))

            let privateTarget = try await browser.post(
                path + "/subscriptions", fields: Self.subscriptionFields(csrf, name: "x", url: "http://127.0.0.1:9/"))
            #expect(privateTarget.status == 422 && privateTarget.html.contains("URL: "))
            #expect(try await store.subscriptions(applicationID: application.id).isEmpty, "nothing half-written")

            // Without the synchronizer token nothing is read or changed.
            let forged = try await browser.post(
                path + "/subscriptions",
                fields: Array(Self.subscriptionFields("forged", name: "x", url: "https://a.example.com")))
            #expect(forged.status == 403)
            #expect(try await store.subscriptions(applicationID: application.id).isEmpty)
        }
    }

    @Test func eventTypesAndApplicationSecretsAreMadeAndRemovedOnTheirPages() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (_, application, path) = try await Self.editor(store, browser)
            let csrf = try await Self.csrf(browser)
            let made = try await browser.post(
                path + "/event_types",
                form: ["csrf": csrf, "service": "billing", "resource_type": "invoice", "verb": "voided"])
            #expect(made.headers[.location] == path + "/event_types?done=event-type-created")
            #expect(try await store.eventType(applicationID: application.id, name: "billing.invoice.voided") != nil)
            let bad = try await browser.post(
                path + "/event_types",
                form: ["csrf": csrf, "service": String(repeating: "s", count: 51), "resource_type": "i", "verb": "v"])
            #expect(bad.status == 422 && bad.html.contains("Service: ") && bad.html.contains(#"value="i""#))
            let page = try await browser.get(path + "/event_types")
            #expect(page.html.contains("billing.invoice.voided") && page.html.contains("Deactivate"))
            #expect(page.html.contains("none: any payload") && page.html.contains("Set a schema"))

            // The payload schema: refused when not JSON or not a usable schema (the text kept in the form), saved,
            // shown, and removed by an empty form.
            let schemaPath = path + "/event_types/billing.invoice.voided/schema"
            let notJSON = try await browser.post(schemaPath, form: ["csrf": csrf, "payload_schema": "{type: object"])
            #expect(notJSON.status == 422 && notJSON.html.contains("this is not JSON"))
            #expect(notJSON.html.contains("{type: object") && notJSON.html.contains("<details open>"))
            let unusable = try await browser.post(
                schemaPath, form: ["csrf": csrf, "payload_schema": #"{"properties": {"n": {"minimum": "3"}}}"#])
            #expect(unusable.status == 422 && unusable.html.contains("minimum must be a number"), "\(unusable.html)")
            let saved = try await browser.post(
                schemaPath, form: ["csrf": csrf, "payload_schema": #"{"required": ["amount"]}"#])
            #expect(saved.headers[.location] == path + "/event_types?done=event-type-schema-saved")
            let withSchema = try await store.eventType(applicationID: application.id, name: "billing.invoice.voided")
            #expect(withSchema?.payloadSchema == #"{"required":["amount"]}"#)
            let shown = try await browser.get(path + "/event_types?done=event-type-schema-saved")
            #expect(shown.html.contains("JSON Schema") && shown.html.contains("&quot;amount&quot;"))
            #expect(shown.html.contains("ingest checks it within 5 seconds"))
            let cleared = try await browser.post(schemaPath, form: ["csrf": csrf, "payload_schema": "  "])
            #expect(cleared.headers[.location] == path + "/event_types?done=event-type-schema-removed")
            #expect(
                try await store.eventType(applicationID: application.id, name: "billing.invoice.voided")?.payloadSchema
                    == nil)
            let missing = try await browser.post(
                path + "/event_types/no.such.type/schema", form: ["csrf": csrf, "payload_schema": "true"])
            #expect(missing.status == 404)
            let deactivated = try await browser.post(
                path + "/event_types/billing.invoice.voided/delete", form: ["csrf": csrf])
            #expect(deactivated.status == 303)
            #expect(try await store.eventType(applicationID: application.id, name: "billing.invoice.voided") == nil)

            let before = try await store.applicationSecrets(applicationID: application.id).count
            let created = try await browser.post(path + "/secrets", form: ["csrf": csrf, "name": "ci <robot>"])
            #expect(created.status == 303)
            let secrets = try await store.applicationSecrets(applicationID: application.id)
            #expect(secrets.count == before + 1)
            let secret = try #require(secrets.first { $0.name == "ci <robot>" })
            let listing = try await browser.get(path + "/secrets")
            #expect(listing.html.contains("ci &lt;robot&gt;") && listing.html.contains(secret.token.lowercased))
            let removed = try await browser.post(
                path + "/secrets/" + secret.token.lowercased + "/delete", form: ["csrf": csrf])
            #expect(removed.status == 303)
            #expect(
                try await store.applicationSecrets(applicationID: application.id).contains {
                    $0.token == secret.token && $0.deletedAt == nil
                } == false)
        }
    }

    @Test func replaySendsToEverySubscriptionAndRetryToOneOnly() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (_, application, path) = try await Self.editor(store, browser)
            let first = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://a.example.com"), secret: UUID())
            let second = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://b.example.com"), secret: UUID())
            let event = try await store.ingest(Fixtures.event(applicationID: application.id))
            let csrf = try await Self.csrf(browser)
            func attempts() async throws -> [RequestAttempt] {
                try await store.requestAttempts(AttemptQuery(applicationID: application.id, eventID: event.id))
            }
            #expect(try await attempts().count == 2)
            let eventPage = try await browser.get(path + "/events/" + event.id.lowercased)
            #expect(eventPage.html.contains("Replay to every subscription"))
            #expect(eventPage.html.components(separatedBy: "Send again to this subscription").count - 1 == 2)

            let replayed = try await browser.post(
                path + "/events/" + event.id.lowercased + "/replay", form: ["csrf": csrf])
            #expect(replayed.headers[.location] == path + "/events/" + event.id.lowercased + "?done=event-replayed")
            #expect(try await attempts().count == 4)

            let target = try #require(try await attempts().first { $0.subscriptionID == second.id })
            let retried = try await browser.post(
                path + "/deliveries/" + target.id.lowercased + "/retry", form: ["csrf": csrf])
            #expect(retried.headers[.location] == path + "/events/" + event.id.lowercased + "?done=attempt-retried")
            let now = try await attempts()
            #expect(now.count == 5)
            #expect(now.filter { $0.subscriptionID == second.id }.count == 3)
            #expect(now.filter { $0.subscriptionID == first.id }.count == 2)

            _ = try await store.setSubscriptionEnabled(id: second.id, applicationID: application.id, isEnabled: false)
            let refused = try await browser.post(
                path + "/deliveries/" + target.id.lowercased + "/retry", form: ["csrf": csrf])
            #expect(refused.status == 409)
            #expect(try await attempts().count == 5)
        }
    }

    @Test func aViewerSeesNoActionAndIsRefusedWhenForcingOne() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (_, organization) = try await DashboardTests.person(
                "owner@example.com", organizationName: "owned", in: store)
            let (viewer, _) = try await DashboardTests.person("viewer@example.com", organizationName: "own", in: store)
            try await store.addMember(organizationID: organization, userID: viewer.id, role: .viewer)
            let (application, _) = try await store.createApplication(organizationID: organization, name: "billing")
            try await Fixtures.eventType(in: store, applicationID: application.id)
            let subscription = try await store.createSubscription(
                Fixtures.draft(
                    applicationID: application.id, url: "https://a.example.com",
                    headers: ["authorization": "Bearer very-secret-value-1234"]),
                secret: UUID())
            let event = try await store.ingest(Fixtures.event(applicationID: application.id))
            _ = try await DashboardTests.signIn(browser, "viewer@example.com")
            let csrf = try await Self.csrf(browser)
            let path = DashboardPaths.application(organization, application.id)

            let list = try await browser.get(path + "/subscriptions")
            #expect(list.status == 200 && list.html.contains("https://a.example.com"))
            #expect(!list.html.contains("New subscription") && !list.html.contains("/enabled"))
            let page = try await browser.get(path + "/subscriptions/" + subscription.id.lowercased)
            #expect(page.status == 200 && page.html.contains("<fieldset class=\"plain\" disabled>"))
            #expect(!page.html.contains("Save changes") && !page.html.contains("Send a test event"))
            #expect(!page.html.contains("very-secret-value-1234") && page.html.contains("Bear…(hidden)"))
            let types = try await browser.get(path + "/event_types")
            #expect(!types.html.contains("New event type") && !types.html.contains("Deactivate"))
            let eventPage = try await browser.get(path + "/events/" + event.id.lowercased)
            #expect(!eventPage.html.contains("Replay") && !eventPage.html.contains("Send again"))

            let forced = try await browser.post(
                path + "/subscriptions/" + subscription.id.lowercased + "/enabled",
                form: ["csrf": csrf, "enabled": "false"])
            #expect(forced.status == 403)
            #expect(try await store.subscription(id: subscription.id)?.isEnabled == true)
            #expect(
                try await browser.post(path + "/events/" + event.id.lowercased + "/replay", form: ["csrf": csrf])
                    .status == 403)
            #expect(
                try await browser.post(
                    path + "/subscriptions",
                    fields: Self.subscriptionFields(csrf, name: "x", url: "https://b.example.com")
                )
                .status == 403)
            #expect(try await store.subscriptions(applicationID: application.id).count == 1)
        }
    }

    @Test func aTestSendShowsTheRequestAsSentAndTheReceiversAnswer() async throws {
        let loopback = TargetPolicy(allowedNetworks: [try #require(CIDR("127.0.0.0/8"))])
        var delivery = DeliveryConfiguration()
        delivery.allowedTargetNetworks = loopback.allowedNetworks
        let client = HTTPDeliverer.makeClient(configuration: delivery)
        let oneOff = OneOffDelivery(client: client, configuration: delivery)
        try await TestReceiver.with(
            reply: { _, _ in TestReceiver.Reply(status: 202, headers: ["x-receiver": "yes"], body: Array("taken".utf8))
            }
        ) { receiver in
            try await DashboardTests.withDashboard(oneOffDelivery: oneOff, targetPolicy: loopback) { store, browser in
                let (_, application, path) = try await Self.editor(store, browser)
                let subscription = try await store.createSubscription(
                    Fixtures.draft(
                        applicationID: application.id, url: receiver.url("/in"),
                        headers: ["x-api-key": "k-123456789abcdef"]),
                    secret: UUID())
                let csrf = try await Self.csrf(browser)
                let result = try await browser.post(
                    path + "/subscriptions/" + subscription.id.lowercased + "/test", form: ["csrf": csrf])
                #expect(result.status == 200)
                let received = try #require(receiver.requests.first)
                #expect(received.path == "/in" && received.headers["x-api-key"] == "k-123456789abcdef")
                // The receiver got Ferry's real signatures, and the page shows them and its answer.
                let signature = try #require(received.headers["x-hook0-signature"])
                #expect(
                    result.html.contains(signature.replacingOccurrences(of: "=", with: "&#61;"))
                        || result.html.contains(signature))
                #expect(result.html.contains("Delivered: the receiver answered 202"))
                #expect(result.html.contains("x-receiver: yes") && result.html.contains("taken"))
                // Credentials are masked in the request as shown (the editor's form still holds the value to edit).
                #expect(result.html.contains("x-api-key: k-12…(hidden)"))
                #expect(try await store.requestAttempts(AttemptQuery(applicationID: application.id)).isEmpty)
            }
        }
        try await client.shutdown()
    }
}

/// The delivery log's live stream, through the real router: each attempt's row once, in the page's own markup,
/// with the position to resume from; after a cut, everything created since that position (more than a page).
@Suite struct LiveDeliveriesTests {
    @Test func theStreamSendsEachRowOnceAndCatchesUpFromTheLastEventID() async throws {
        try await DashboardTests.withDashboard(liveStreamLifetime: .milliseconds(600)) { store, browser in
            let (_, application, path) = try await ManagementTests.editor(store, browser)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://a.example.com"), secret: UUID())
            let first = try await store.ingest(Fixtures.event(applicationID: application.id))
            let page = try await browser.get(path + "/deliveries")
            #expect(page.html.contains(#"data-live="\#(path)/deliveries/live""#))

            let stream = try await browser.get(path + "/deliveries/live")
            #expect(stream.status == 200 && stream.headers[.contentType] == "text/event-stream; charset=utf-8")
            #expect(stream.html.hasPrefix("retry: 1000\n\n"))
            let attempt = try #require(
                try await store.requestAttempts(AttemptQuery(applicationID: application.id, eventID: first.id)).first)
            let messages = stream.html.components(separatedBy: "event: attempt\n").dropFirst()
            #expect(messages.count == 1, "an unchanged row is sent once: \(stream.html)")
            let message = try #require(messages.first)
            let position = PagePosition(date: attempt.createdAt, id: attempt.id).text
            #expect(message.hasPrefix("id: \(position)\ndata: <tr data-id=\"\(attempt.id.lowercased)\">"))
            // The row is on one data line, whole.
            let data = try #require(message.components(separatedBy: "\n\n").first)
            #expect(data.contains("Pending") && data.hasSuffix("</tr>") && data.split(separator: "\n").count == 2)

            // More attempts than a page arrive while the browser is away: it gets them all on reconnecting.
            for _ in 0..<60 { _ = try await store.ingest(Fixtures.event(applicationID: application.id)) }
            var resume = HTTPFields()
            resume[HTTPField.Name("Last-Event-ID")!] = position
            let resumed = try await browser.get(path + "/deliveries/live", headers: resume)
            let ids = Set(
                resumed.html.components(separatedBy: "<tr data-id=\"").dropFirst().map { String($0.prefix(36)) })
            #expect(ids.count == 61)
            #expect(try await browser.get(path + "/deliveries/live?after=x").status == 400)
        }
    }
}

/// An attempt's page, through the real router: the request as the worker sent it (credentials masked, the
/// signatures shown) and the receiver's answer.
@Suite struct AttemptPageTests {
    @Test func anAttemptsPageShowsTheRequestAsSentAndTheAnswer() async throws {
        try await DashboardTests.withDashboard { store, browser in
            let (_, application, path) = try await ManagementTests.editor(store, browser)
            _ = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "https://a.example.com/in"), secret: UUID())
            _ = try await store.ingest(
                Fixtures.event(applicationID: application.id, payload: #"{"invoice":"<b>7</b>"}"#))
            let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(30)).first)
            var observation = AttemptObservation.answered(
                status: 503, headers: ["set-cookie": "session=abcdefghijklmnopqrstuvwxyz", "x-reply": "busy"],
                body: Array("try later".utf8), truncated: false, elapsedMilliseconds: 12, retryAfterSeconds: nil)
            observation.request = SentRequest(
                method: "POST", url: "https://a.example.com/in",
                headers: [
                    "authorization": "Bearer 0123456789abcdefghij", "x-hook0-signature": "t=1,h=x,v1=abc",
                    "content-type": "application/json",
                ])
            #expect(try await store.recordOutcome(observation, for: job, retryAt: nil))

            let page = try await browser.get(path + "/deliveries/" + job.attemptID.lowercased)
            #expect(page.status == 200)
            #expect(page.html.contains("POST https://a.example.com/in"))
            #expect(page.html.contains("authorization: Bear…(hidden)") && !page.html.contains("0123456789abcdefghij"))
            #expect(
                page.html.contains("x-hook0-signature: t&#61;1,h&#61;x,v1&#61;abc")
                    || page.html.contains("x-hook0-signature: t=1"))
            #expect(page.html.contains("&lt;b&gt;7&lt;/b&gt;"), "the body sent is the event's payload, escaped")
            #expect(page.html.contains("HTTP 503 in 12 ms") && page.html.contains("try later"))
            #expect(page.html.contains("set-cookie: sess…(hidden)") && page.html.contains("x-reply: busy"))
            #expect(page.html.contains("Send again to this subscription"))
            #expect(try await browser.get(path + "/deliveries/" + UUID().uuidString).status == 404)
            let log = try await browser.get(path + "/deliveries")
            #expect(log.html.contains(#"href="\#(path)/deliveries/\#(job.attemptID.lowercased)""#))
        }
    }
}
