import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Testing

/// The tenant-isolation matrix: every route (a person's session, members and invitations included) × credential
/// (master key, service token of organization A, application secret of application A1, access tokens of an editor
/// and of a viewer of A; none, revoked or deleted ones) × target (own, another organization, a sibling
/// application of the same organization, unknown ids, and ids of other tenants under an owned scope). Each cell must
/// answer the status the access rules give, and no answer — allowed or denied, body or headers, pagination cursors
/// included — may carry data of a tenant that neither the credential nor the targeted scope covers. Counts and
/// aggregates are checked separately before the matrix runs.
@Suite struct TenantIsolationTests {
    @Test(arguments: StoreBackend.available)
    func everyRouteKeepsTenantsApart(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, store in
            let world = try await World.build(api, store)
            try await Self.checkCounts(api, world)
            let cells = Self.cells
            #expect(cells.count > 600)
            // People are in the matrix: a viewer is refused every write it would be allowed as an editor.
            let viewerRefusals = cells.filter { $0.caller == .viewerA && $0.expected == 403 && !$0.route.viewerMay }
            #expect(viewerRefusals.count > 40 && cells.filter { $0.caller == .editorA }.count > 150)
            // So are a person's own session routes, members and invitations: only people sign out, and a viewer
            // neither invites nor sees pending invitations.
            let sessionCells = cells.filter { $0.route.scope == .personOnly }
            #expect(sessionCells.contains { $0.caller == .viewerA && $0.expected == 204 })
            #expect(sessionCells.contains { $0.caller == .serviceTokenA && $0.expected == 403 })
            let invitationRefusals = cells.filter {
                $0.route.name.contains("invit") && $0.caller == .viewerA && $0.target == .own && $0.expected == 403
            }
            #expect(invitationRefusals.count == 6)
            for cell in cells {
                try await Self.run(cell, api: api, store: store, world: world)
            }
        }
    }
}

extension TenantIsolationTests {
    static func run(_ cell: Cell, api: APIClient, store: any FerryStore, world: World) async throws {
        let (resolved, tokenOverride) = try await prepare(cell, api: api, store: store, world: world)
        let route = cell.route
        let path = route.path(resolved)
        let body = route.body(resolved)
        let answer = try await api.call(
            route.method, path, token: tokenOverride ?? world.token(of: cell.caller), body: body)
        let label = cell.label
        #expect(
            answer.status == cell.expected,
            "\(label): expected \(cell.expected), got \(answer.status) \(answer.text.prefix(300))")
        let expectedProblem =
            cell.caller.isValid && cell.expected == route.allowed && route.allowedProblem != nil
            ? route.allowedProblem : problemID(for: cell.expected, caller: cell.caller)
        if answer.status == cell.expected, let id = expectedProblem {
            let answered = answer.string("id") ?? "none"
            #expect(answered == id, "\(label): problem id \(answered), expected \(id)")
        }
        // Ids the caller sent itself may come back (e.g. in a detail); anything else of another tenant may not.
        let sent = (path + " " + (body.map { String(decoding: $0.encoded(), as: UTF8.self) } ?? "")).lowercased()
        let received = visibleText(of: answer).lowercased()
        var reported = Set<String>()
        for footprint in world.forbidden(for: cell.caller, route: route, scope: resolved.scope) {
            let value = footprint.value.lowercased()
            guard value.count >= 6, !sent.contains(value), !reported.contains(value), received.contains(value)
            else { continue }
            reported.insert(value)
            Issue.record("\(label) (status \(answer.status)): the answer shows \(footprint.what) `\(footprint.value)`")
        }
        if route.effect == .filter, answer.status == 200, cell.target.isChildMismatch {
            #expect(answer.array.isEmpty, "\(label): a foreign or unknown filter lists \(answer.array.count) items")
            #expect(!received.contains("rel=\"next\""), "\(label): an empty page has no next link")
        }
    }

    /// Resolves a cell's scope and child; deleting routes get a fresh victim made by the master key so that no
    /// cell destroys the fixtures later cells rely on.
    static func prepare(_ cell: Cell, api: APIClient, store: any FerryStore, world: World) async throws
        -> (Resolved, String?)
    {
        let places = world.places(for: cell.target, scope: cell.route.scope)
        var scope = places.scope
        var token: String?
        if cell.route.effect == .deletesScope, scope.id != world.unknown.id {
            let victim = try await victimApplication(in: scope.organization, api: api)
            scope = victim.application
            // An application secret deletes its own application: use the victim's own secret.
            if cell.caller == .secretA1, cell.target == .own { token = victim.secret }
        }
        if cell.route.name == "POST /auth/logout", cell.caller.isPerson {
            token = try await world.separateSession(of: cell.caller, api)
        }
        var child = ""
        if let kind = cell.route.child {
            if let owner = places.owner {
                if cell.route.effect == .deletesChild || cell.route.effect == .spendsChild {
                    child = try await victim(kind, in: owner, api: api, store: store)
                } else {
                    child = owner.child(kind)
                }
            } else {
                child = kind == .eventType ? "unknown.thing.happened" : UUID().uuidString.lowercased()
            }
        }
        return (Resolved(scope: scope, child: child), token)
    }

    /// The body and every header value, plus the decoded pagination cursor of a `Link` header.
    static func visibleText(of answer: APIClient.Answer) -> String {
        var parts = [answer.text]
        for field in answer.headers {
            parts.append(field.value)
            if field.name.canonicalName == "link" { parts.append(decodedCursor(in: field.value)) }
        }
        return parts.joined(separator: "\n")
    }

    static func decodedCursor(in link: String) -> String {
        let url = String(link.drop(while: { $0 != "<" }).dropFirst().prefix(while: { $0 != ">" }))
        let items = URLComponents(string: url)?.queryItems ?? []
        guard let cursor = items.first(where: { $0.name == "pagination_cursor" })?.value else { return "" }
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    static func victimApplication(in organization: OrgFixture, api: APIClient) async throws
        -> (application: AppFixture, secret: String)
    {
        let created = try await api.call(
            .post, "/api/v1/applications", token: APIClient.masterKey,
            body: .object(["organization_id": .string(organization.id), "name": "victim app"]))
        let id = try #require(created.string("application_id"), "victim application: \(created.text)")
        let secrets = try await api.call(
            .get, "/api/v1/application_secrets?application_id=\(id)", token: APIClient.masterKey)
        let secret = try #require(secrets.array.first?.string("token"), "victim application secret")
        let application = AppFixture(
            label: "victim", organization: organization, id: id, marker: "victim", eventType: "", secrets: [secret],
            subscription: "", subscriptionSecrets: [], events: [])
        return (application, secret)
    }

    static func victim(_ kind: Route.Child, in owner: AppFixture, api: APIClient, store: any FerryStore) async throws
        -> String
    {
        let master = APIClient.masterKey
        let answer: APIClient.Answer
        let key: String
        switch kind {
        case .serviceToken:
            answer = try await api.call(
                .post, "/api/v1/service_token", token: master,
                body: .object(["organization_id": .string(owner.organization.id), "name": "victim"]))
            key = "token_id"
        case .secret:
            answer = try await api.call(
                .post, "/api/v1/application_secrets", token: master,
                body: .object(["application_id": .string(owner.id), "name": "victim"]))
            key = "token"
        case .eventType:
            let service = "victim" + String(UUID().uuidString.lowercased().prefix(8))
            answer = try await api.call(
                .post, "/api/v1/event_types", token: master,
                body: .object([
                    "application_id": .string(owner.id), "service": .string(service), "resource_type": "thing",
                    "verb": "gone",
                ]))
            key = "event_type_name"
        case .subscription:
            answer = try await api.call(.post, "/api/v1/subscriptions", token: master, body: subscriptionBody(owner))
            key = "subscription_id"
        case .invitation:
            let id = try await World.pendingInvitation(
                in: owner.organization.id, email: "victim-\(UUID().uuidString.lowercased())@example.com", api)
            // Sent two minutes ago, so that sending it again is not refused as too soon.
            let organization = try #require(UUID(uuidString: owner.organization.id))
            let invitation = try #require(UUID(uuidString: id))
            let backdated = try await store.renewInvitation(
                id: invitation, organizationID: organization, secretHash: Array(UUID().uuidString.utf8),
                sentAt:
                    Date().addingTimeInterval(-120), expiresAt: Date().addingTimeInterval(3600), mail: nil)
            try #require(backdated, "backdating the victim invitation \(id)")
            return id
        case .event, .attempt, .response:
            // No route deletes these.
            return owner.child(kind)
        }
        return try #require(answer.string(key), "victim \(kind) in \(owner.label): \(answer.status) \(answer.text)")
    }

    static func subscriptionBody(_ application: AppFixture) -> JSONValue {
        let target: JSONValue = .object([
            "type": "http", "method": "POST", "url": "https://hooks.example.com/matrix", "headers": .object([:]),
        ])
        return .object([
            "application_id": .string(application.id), "is_enabled": true,
            "event_types": .array([.string(application.eventType)]), "labels": .object(["matrix": "cell"]),
            "target": target,
        ])
    }

    static func eventBody(application: String, eventType: String, payload: String, label: String) -> JSONValue {
        .object([
            "application_id": .string(application), "event_type": .string(eventType), "payload": .string(payload),
            "payload_content_type": "application/json", "labels": .object(["tenant": .string(label)]),
            "occurred_at": "2026-01-02T03:04:05Z",
        ])
    }
}

extension TenantIsolationTests {
    /// Counts and aggregates include only the caller's own tenant (A1: 2 events, A2: 1, B1: 4).
    static func checkCounts(_ api: APIClient, _ world: World) async throws {
        let secret = world.token(of: .secretA1)
        let organizations = try await api.call(.get, "/api/v1/organizations", token: world.a.bearer)
        #expect(organizations.array.count == 1, "a service token lists only its own organization")
        let information = try await api.call(.get, "/api/v1/organizations/\(world.a.id)", token: world.a.bearer)
        if case .object(let consumption)? = information["consumption"] {
            #expect(consumption["applications"] == .number(2), "organization A counts only its two applications")
            if case .number(let events)? = consumption["events_per_day"] {
                #expect(events <= 3, "organization A's events today must not include B's")
            } else {
                Issue.record("OrganizationInfo has no consumption.events_per_day")
            }
        } else {
            Issue.record("OrganizationInfo has no consumption: \(information.text)")
        }
        let perOrganization = try await api.call(
            .get, "/api/v1/events_per_day/organization?organization_id=\(world.a.id)", token: world.a.bearer)
        #expect(total(perOrganization) == 3, "events per day of organization A: \(perOrganization.text)")
        let ownApplications = [world.a1.id, world.a2.id]
        let listed = perOrganization.array.map { $0.string("application_id") ?? "" }
        let strangers = listed.filter { !ownApplications.contains($0) }
        #expect(strangers.isEmpty, "events per day of organization A list other applications: \(strangers)")
        let perApplication = try await api.call(
            .get, "/api/v1/events_per_day/application?application_id=\(world.a1.id)", token: secret)
        #expect(total(perApplication) == 2, "events per day of application A1: \(perApplication.text)")
        let events = try await api.call(.get, "/api/v1/events?application_id=\(world.a1.id)", token: secret)
        #expect(events.array.count == 2)
        let attempts = try await api.call(.get, "/api/v1/request_attempts?application_id=\(world.a1.id)", token: secret)
        #expect(attempts.array.count == 2)
        let information1 = try await api.call(.get, "/api/v1/applications/\(world.a1.id)", token: secret)
        if case .object(let consumption)? = information1["consumption"],
            case .number(let today)? = consumption["events_per_day"]
        {
            #expect(today <= 2, "application A1's events today must not include other applications'")
        } else {
            Issue.record("ApplicationInfo has no consumption.events_per_day: \(information1.text)")
        }
    }

    static func total(_ answer: APIClient.Answer) -> Double {
        answer.array.reduce(0.0) { sum, entry in
            if case .object(let object) = entry, case .number(let amount)? = object["amount"] { return sum + amount }
            return sum
        }
    }
}
