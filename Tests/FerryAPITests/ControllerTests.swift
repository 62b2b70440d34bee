import Biscuit
import FerryCore
import FerryIdentity
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Hummingbird
import Synchronization
import Testing

@testable import FerryAPI

/// The API's shape: controllers mounted under one `/api/v1` group, the caller resolved by middleware when a
/// handler asks (so authorization comes before the body's validation, as in Hook0), and each controller usable
/// on its own over the storage roles it names. One backend is enough here: what is tested is above the store.
@Suite struct ControllerTests {
    static func withStore(_ body: @Sendable (SQLiteStore) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await SQLiteStore.open(path: directory.path + "/ferry.sqlite")
        try await body(store)
        try await store.close()
    }

    static func configuration() -> APIConfiguration {
        APIConfiguration(publicURL: "http://ferry.test", masterAPIKey: RouterHarness.masterKey)
    }

    @Test func credentialsAreCheckedBeforeTheBodyIsRead() async throws {
        try await Self.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let other = try await store.createOrganization(name: "other")
            let (_, otherSecret) = try await store.createApplication(organizationID: other.id, name: "theirs")
            let router = buildRouter(store: store, configuration: Self.configuration())
            try await RouterHarness.test(router) { client in
                let garbage = "{not json"
                let anonymous = try await RouterHarness.call(client, .post, "/api/v1/applications", body: garbage)
                #expect(anonymous.status == 401)
                #expect(anonymous.string("id") == "AuthNoAuthorizationHeader")
                let wrongSecret = try await RouterHarness.call(
                    client, .post, "/api/v1/applications", token: UUID().uuidString, body: garbage)
                #expect(wrongSecret.status == 403)
                #expect(wrongSecret.string("id") == "AuthInvalidApplicationSecret")
                let master = try await RouterHarness.call(
                    client, .post, "/api/v1/applications", token: RouterHarness.masterKey, body: garbage)
                #expect(master.status == 400)
                #expect(master.string("id") == "JsonPayload")
                // A valid body for another tenant: the secret authenticates, the authorizer refuses.
                let foreign = try await RouterHarness.call(
                    client, .post, "/api/v1/applications", token: otherSecret.token.lowercased,
                    body: #"{"organization_id":"\#(organization.id.lowercased)","name":"mine"}"#)
                #expect(foreign.status == 403)
                #expect(try await store.applications(organizationID: organization.id).isEmpty)
            }
        }
    }

    @Test func publicRoutesNeedNoCredentialsAndAnswerWithATrailingSlash() async throws {
        try await Self.withStore { store in
            let router = buildRouter(store: store, configuration: Self.configuration())
            try await RouterHarness.test(router) { client in
                for path in ["/api/v1/instance", "/api/v1/instance/", "/api/v1/errors", "/api/v1/health"] {
                    let answer = try await RouterHarness.call(client, .get, path)
                    #expect(answer.status == 200, "\(path)")
                }
                let instance = try await RouterHarness.call(client, .get, "/api/v1/instance")
                #expect(instance.string("biscuit_public_key")?.count == 64)
            }
        }
    }

    @Test func aControllerStandsAloneOverTheStorageRolesItUses() async throws {
        try await Self.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
            let router = Router(context: FerryRequestContext.self)
            router.add(middleware: ProblemMiddleware())
            let api = router.group("api/v1").add(
                middleware: AuthenticationMiddleware(
                    authenticator: Authenticator(
                        store: store, masterKey: RouterHarness.masterKey,
                        tokens: VerifiedTokens(rootKey: TokenIssuer.ephemeral().rootKey.publicKey))))
            EventTypeController(
                store: store, access: AccessControl(store: store, authorizer: RequestAuthorizer()),
                payloadSchemas: PayloadSchemas { try await store.eventTypeSchema(applicationID: $0, name: $1) }
            ).addRoutes(to: api)
            try await RouterHarness.test(router) { client in
                let created = try await RouterHarness.call(
                    client, .post, "/api/v1/event_types", token: RouterHarness.masterKey,
                    body:
                        #"{"application_id":"\#(application.id.lowercased)","service":"billing","resource_type":"invoice","verb":"paid"}"#
                )
                #expect(created.status == 201)
                #expect(created.string("event_type_name") == "billing.invoice.paid")
                let listed = try await RouterHarness.call(
                    client, .get, "/api/v1/event_types?application_id=\(application.id.lowercased)",
                    token: RouterHarness.masterKey)
                #expect(listed.array.count == 1)
                // Nothing else is mounted on this router.
                let applications = try await RouterHarness.call(
                    client, .get, "/api/v1/applications?organization_id=\(organization.id.lowercased)",
                    token: RouterHarness.masterKey)
                #expect(applications.status == 404)
            }
            #expect(try await store.eventTypes(applicationID: application.id).map(\.name) == ["billing.invoice.paid"])
        }
    }

    @Test func aCallerIsResolvedAtMostOnceARequest() async throws {
        let resolutions = Counter()
        let resolution = CallerResolution {
            resolutions.increment()
            return .master
        }
        for _ in 0..<3 { _ = try await resolution.caller() }
        #expect(resolutions.value == 1)
        let refusals = Counter()
        let refused = CallerResolution {
            refusals.increment()
            throw ProblemCatalog.authInvalidBiscuit
        }
        for _ in 0..<3 { await #expect(throws: Problem.self) { _ = try await refused.caller() } }
        #expect(refusals.value == 1)
    }
}

/// A count shared across tasks.
final class Counter: Sendable {
    private let count = Mutex(0)

    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
