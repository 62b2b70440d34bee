import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Testing

extension TenantIsolationTests {
    /// A string that identifies some tenant's data, and what it is (for failure messages).
    struct Footprint: Sendable {
        var what: String
        var value: String

        init(_ what: String, _ value: String) {
            self.what = what
            self.value = value
        }
    }

    struct OrgFixture: Sendable {
        var label: String
        var id: String
        /// A random string inside the organization's name.
        var marker: String
        var bearer: String
        var tokenID: String
        /// A pending invitation (to an address holding the marker).
        var invitation: String

        var name: String { "org \(marker)" }
        /// The part of the non-secret hint listings show instead of the bearer that tells tokens apart
        /// (`ServiceTokenIssuance.hint`: its last ten characters).
        var hint: String { String(bearer.suffix(10)) }

        var footprint: [Footprint] {
            [
                Footprint("organization \(label)'s id", id), Footprint("organization \(label)'s name", marker),
                Footprint("the service token of \(label)", bearer),
                Footprint("the service token hint of \(label)", hint),
                Footprint("the service token id of \(label)", tokenID),
                Footprint("the pending invitation of \(label)", invitation),
            ]
        }
    }

    struct AppFixture: Sendable {
        var label: String
        var organization: OrgFixture
        var id: String
        /// A random string inside the name, event type, subscription, labels, payloads and receiver responses.
        var marker: String
        var eventType: String
        /// The Default secret first, then the one made in set-up (the `secretA1` credential for A1).
        var secrets: [String]
        var subscription: String
        var subscriptionSecrets: [String]
        var events: [String]
        var attempts: [String] = []
        var responses: [String] = []

        var name: String { "app \(marker)" }
        var payload: String { #"{"marker":"\#(marker)"}"# }

        func child(_ kind: Route.Child) -> String {
            switch kind {
            case .serviceToken: return organization.tokenID
            case .secret: return secrets.first ?? ""
            case .eventType: return eventType
            case .subscription: return subscription
            case .event: return events.first ?? ""
            case .attempt: return attempts.first ?? ""
            case .response: return responses.first ?? ""
            case .invitation: return organization.invitation
            }
        }

        var footprint: [Footprint] {
            var items = [
                Footprint("application \(label)'s id", id), Footprint("application \(label)'s marker", marker),
                Footprint("application \(label)'s payload (base64)", Data(payload.utf8).base64EncodedString()),
                Footprint("application \(label)'s subscription id", subscription),
            ]
            items += secrets.map { Footprint("an application secret of \(label)", $0) }
            items += subscriptionSecrets.map { Footprint("a subscription secret of \(label)", $0) }
            items += events.map { Footprint("an event id of \(label)", $0) }
            items += attempts.map { Footprint("a request attempt id of \(label)", $0) }
            items += responses.map { Footprint("a response id of \(label)", $0) }
            return items
        }
    }

    /// Organization A (applications A1 and A2) and organization B (application B1), each application with two
    /// secrets, an event type, a subscription, events and delivered attempts with responses; a service token each.
    struct World: Sendable {
        var a: OrgFixture
        var b: OrgFixture
        var a1: AppFixture
        var a2: AppFixture
        var b1: AppFixture
        /// An organization and application that do not exist.
        var unknown: AppFixture
        /// A service token of A, revoked.
        var revokedBearer: String
        /// An application secret of A1, deleted.
        var deletedSecret: String
        /// Access tokens of an editor and of a viewer of A.
        var editorToken: String
        var viewerToken: String

        func token(of caller: Caller) -> String? {
            switch caller {
            case .master: return APIClient.masterKey
            case .serviceTokenA: return a.bearer
            case .secretA1: return a1.secrets.last
            case .anonymous: return nil
            case .revokedServiceTokenA: return revokedBearer
            case .deletedSecretA1: return deletedSecret
            case .editorA: return editorToken
            case .viewerA: return viewerToken
            }
        }

        /// The scope a target names, and the application whose resource id it uses (nil: a made-up id).
        func places(for target: Target, scope: Route.Scope) -> (scope: AppFixture, owner: AppFixture?) {
            switch target {
            case .unscoped, .own: return (a1, a1)
            case .otherOrganization: return (b1, b1)
            case .siblingApplication: return (a2, a2)
            case .unknownScope: return (unknown, a1)
            case .unknownChild: return (scope == .subscriptionOwner ? unknown : a1, nil)
            case .foreignChild: return (a1, b1)
            case .siblingChild: return (a1, a2)
            }
        }

        /// What an answer to `caller` about `scope` must not show: what the credential does not cover, and what
        /// lies outside the scope the request names. Bearer values of service tokens are shown once, at creation.
        func forbidden(for caller: Caller, route: Route, scope: AppFixture) -> [Footprint] {
            let organizations = [a, b]
            let applications = [a1, a2, b1]
            var result = organizations.map { Footprint("the service token of \($0.label)", $0.bearer) }
            result.append(Footprint("the revoked service token of A", revokedBearer))
            switch caller {
            case .master:
                break
            case .serviceTokenA, .editorA, .viewerA:
                result += b.footprint + b1.footprint
            case .secretA1:
                result += b.footprint + b1.footprint + a2.footprint + a.footprint.filter { $0.value != a.id }
            case .anonymous, .revokedServiceTokenA, .deletedSecretA1:
                result += organizations.flatMap(\.footprint) + applications.flatMap(\.footprint)
            }
            switch route.scope {
            case .application, .subscriptionOwner:
                result += applications.filter { $0.id != scope.id }.flatMap(\.footprint)
                result += organizations.filter { $0.id != scope.organization.id }.flatMap(\.footprint)
            case .organization:
                result += organizations.filter { $0.id != scope.organization.id }.flatMap(\.footprint)
                result += applications.filter { $0.organization.id != scope.organization.id }.flatMap(\.footprint)
            case .unscoped, .organizationList, .masterOnly, .personOnly:
                break
            }
            return result
        }

        static func build(_ api: APIClient, _ store: any FerryStore) async throws -> World {
            let a = try await organization("A", api)
            let b = try await organization("B", api)
            let a1 = try await application("A1", in: a, events: 2, api)
            let a2 = try await application("A2", in: a, events: 1, api)
            let b1 = try await application("B1", in: b, events: 4, api)
            try await deliverEverything(store, markers: [a1.id: a1.marker, a2.id: a2.marker, b1.id: b1.marker])
            let nowhere = OrgFixture(
                label: "unknown", id: UUID().uuidString.lowercased(), marker: "nowhere", bearer: "", tokenID: "",
                invitation: "")
            let unknown = AppFixture(
                label: "unknown", organization: nowhere, id: UUID().uuidString.lowercased(), marker: "nowhere",
                eventType: "unknown.thing.happened", secrets: [], subscription: "", subscriptionSecrets: [],
                events: [])
            let delivered1 = try await withDeliveries(a1, api)
            let delivered2 = try await withDeliveries(a2, api)
            let deliveredB1 = try await withDeliveries(b1, api)
            let revokedBearer = try await revokedServiceToken(in: a, api)
            let deletedSecret = try await deletedApplicationSecret(in: a1, api)
            return World(
                a: a, b: b, a1: delivered1, a2: delivered2, b1: deliveredB1, unknown: unknown,
                revokedBearer: revokedBearer, deletedSecret: deletedSecret,
                editorToken: try await member(of: a, .editor, api, store),
                viewerToken: try await member(of: a, .viewer, api, store))
        }

        /// A verified account that is `role` of `organization`, signed in; returns its access token.
        static func member(
            of organization: OrgFixture, _ role: OrganizationRole, _ api: APIClient, _ store: any FerryStore
        )
            async throws -> String
        {
            let email = memberEmail(of: organization, role)
            let password = memberPassword
            let user = User(
                id: UUID(), email: email, firstName: "Matrix", lastName: role.rawValue, createdAt: Date(),
                emailVerifiedAt: Date())
            _ = try await store.register(
                Registration(
                    user: user, passwordHash: try APIClient.testAccounts.passwordHasher.hash(password),
                    personalOrganizationName: "\(role.rawValue)'s own"))
            guard let organizationID = UUID(uuidString: organization.id) else { throw MatrixSetupError() }
            try await store.addMember(organizationID: organizationID, userID: user.id, role: role)
            return try await signIn(email, api)
        }

        static let memberPassword = "matrix-member-password-1"

        static func memberEmail(of organization: OrgFixture, _ role: OrganizationRole) -> String {
            "\(role.rawValue)-of-\(organization.label.lowercased())@example.com"
        }

        /// A new session of a member; returns its access token.
        static func signIn(_ email: String, _ api: APIClient) async throws -> String {
            let login = try await api.call(
                .post, "/api/v1/auth/login",
                body: .object(["email": .string(email), "password": .string(memberPassword)]))
            return try #require(login.string("access_token"), "sign-in of \(email): \(login.text)")
        }

        /// A session of its own for a person caller (so that a cell signing out leaves the matrix's session alone).
        func separateSession(of caller: Caller, _ api: APIClient) async throws -> String? {
            switch caller {
            case .editorA: return try await Self.signIn(Self.memberEmail(of: a, .editor), api)
            case .viewerA: return try await Self.signIn(Self.memberEmail(of: a, .viewer), api)
            default: return nil
            }
        }

        struct MatrixSetupError: Error {}

        static func revokedServiceToken(in organization: OrgFixture, _ api: APIClient) async throws -> String {
            let created = try await api.call(
                .post, "/api/v1/service_token", token: APIClient.masterKey,
                body: .object(["organization_id": .string(organization.id), "name": "revoked"]))
            let bearer = try #require(created.string("biscuit"), "service token to revoke: \(created.text)")
            let id = try #require(created.string("token_id"), "id of the service token to revoke")
            let revoked = try await api.call(
                .delete, "/api/v1/service_token/\(id)?organization_id=\(organization.id)", token: APIClient.masterKey)
            try #require(revoked.status == 204, "revoking a service token: \(revoked.status) \(revoked.text)")
            return bearer
        }

        static func deletedApplicationSecret(in application: AppFixture, _ api: APIClient) async throws -> String {
            let created = try await api.call(
                .post, "/api/v1/application_secrets", token: APIClient.masterKey,
                body: .object(["application_id": .string(application.id), "name": "deleted"]))
            let secret = try #require(created.string("token"), "application secret to delete: \(created.text)")
            let deleted = try await api.call(
                .delete, "/api/v1/application_secrets/\(secret)?application_id=\(application.id)",
                token: APIClient.masterKey)
            try #require(deleted.status == 204, "deleting an application secret: \(deleted.status) \(deleted.text)")
            return secret
        }

        static func marker(_ label: String) -> String {
            "zq" + label.lowercased() + String(UUID().uuidString.lowercased().filter { $0 != "-" }.prefix(12))
        }

        static func organization(_ label: String, _ api: APIClient) async throws -> OrgFixture {
            let marker = Self.marker(label)
            let created = try await api.call(
                .post, "/api/v1/organizations", token: APIClient.masterKey,
                body: .object(["name": .string("org \(marker)")]))
            let id = try #require(created.string("organization_id"), "organization \(label): \(created.text)")
            let token = try await api.call(
                .post, "/api/v1/service_token", token: APIClient.masterKey,
                body: .object(["organization_id": .string(id), "name": "ci"]))
            let bearer = try #require(token.string("biscuit"), "service token of \(label): \(token.text)")
            let tokenID = try #require(token.string("token_id"), "service token id of \(label)")
            let invitation = try await pendingInvitation(in: id, email: "pending-\(marker)@example.com", api)
            return OrgFixture(
                label: label, id: id, marker: marker, bearer: bearer, tokenID: tokenID, invitation: invitation)
        }

        /// Invites an address that has no account (so the invitation stays pending); returns the invitation's id.
        static func pendingInvitation(in organization: String, email: String, _ api: APIClient) async throws
            -> String
        {
            let invited = try await api.call(
                .post, "/api/v1/organizations/\(organization)/invite", token: APIClient.masterKey,
                body: .object(["email": .string(email), "role": "viewer"]))
            try #require(invited.status == 200, "invitation of \(email): \(invited.status) \(invited.text)")
            let pending = try await api.call(
                .get, "/api/v1/organizations/\(organization)/invitations", token: APIClient.masterKey)
            return try #require(
                pending.array.first { $0.string("email") == email }?.string("invitation_id"),
                "the pending invitation of \(email): \(pending.text)")
        }

        static func application(_ label: String, in organization: OrgFixture, events: Int, _ api: APIClient)
            async throws -> AppFixture
        {
            let master = APIClient.masterKey
            let marker = Self.marker(label)
            let created = try await api.call(
                .post, "/api/v1/applications", token: master,
                body: .object(["organization_id": .string(organization.id), "name": .string("app \(marker)")]))
            let id = try #require(created.string("application_id"), "application \(label): \(created.text)")
            let extra = try await api.call(
                .post, "/api/v1/application_secrets", token: master,
                body: .object(["application_id": .string(id), "name": .string("key \(marker)")]))
            let extraSecret = try #require(extra.string("token"), "application secret of \(label)")
            let listed = try await api.call(.get, "/api/v1/application_secrets?application_id=\(id)", token: master)
            let secrets = listed.array.compactMap { $0.string("token") }.filter { $0 != extraSecret } + [extraSecret]
            try #require(secrets.count == 2, "\(label) has its Default secret and one more: \(listed.text)")
            let type = try await api.call(
                .post, "/api/v1/event_types", token: master,
                body: .object([
                    "application_id": .string(id), "service": .string(marker), "resource_type": "invoice",
                    "verb": "paid",
                ]))
            let eventType = try #require(type.string("event_type_name"), "event type of \(label): \(type.text)")
            let target: JSONValue = .object([
                "type": "http", "method": "POST", "url": .string("https://hooks.example.com/\(marker)"),
                "headers": .object(["x-marker": .string(marker)]),
            ])
            let subscription = try await api.call(
                .post, "/api/v1/subscriptions", token: master,
                body: .object([
                    "application_id": .string(id), "is_enabled": true, "event_types": .array([.string(eventType)]),
                    "description": .string("sub \(marker)"), "metadata": .object(["owner": .string(marker)]),
                    "labels": .object(["tenant": .string(marker)]), "target": target,
                ]))
            let subscriptionID = try #require(
                subscription.string("subscription_id"), "subscription of \(label): \(subscription.text)")
            let subscriptionSecrets = [subscription.string("secret"), subscription.string("standard_webhooks_secret")]
                .compactMap { $0 }
            var application = AppFixture(
                label: label, organization: organization, id: id, marker: marker, eventType: eventType,
                secrets: secrets, subscription: subscriptionID, subscriptionSecrets: subscriptionSecrets, events: [])
            for _ in 0..<events {
                let body = TenantIsolationTests.eventBody(
                    application: id, eventType: eventType, payload: application.payload, label: marker)
                let event = try await api.call(.post, "/api/v1/event", token: master, body: body)
                let eventID = try #require(event.string("event_id"), "event of \(label): \(event.text)")
                application.events.append(eventID)
            }
            return application
        }

        /// Claims every set-up attempt and records a 200 answer whose headers and body carry the application's marker.
        static func deliverEverything(_ store: any FerryStore, markers: [String: String]) async throws {
            let jobs = try await store.claimDueJobs(limit: 100, leaseFor: .seconds(600))
            #expect(jobs.count == 7, "each set-up event matches its application's one subscription")
            for job in jobs {
                let marker = markers[job.applicationID.uuidString.lowercased()] ?? "stranger"
                let observation = AttemptObservation.answered(
                    status: 200, headers: ["x-receiver": marker], body: Array("received by \(marker)".utf8),
                    truncated: false, elapsedMilliseconds: 3, retryAfterSeconds: nil)
                let recorded = try await store.recordOutcome(observation, for: job, retryAt: nil)
                #expect(recorded)
            }
        }

        static func withDeliveries(_ application: AppFixture, _ api: APIClient) async throws -> AppFixture {
            var application = application
            let page = try await api.call(
                .get, "/api/v1/request_attempts?application_id=\(application.id)", token: APIClient.masterKey)
            application.attempts = page.array.compactMap { $0.string("request_attempt_id") }
            application.responses = page.array.compactMap { $0.string("response_id") }
            try #require(
                !application.attempts.isEmpty && application.responses.count == application.attempts.count,
                "\(application.label) needs delivered attempts: \(page.text)")
            return application
        }
    }
}
