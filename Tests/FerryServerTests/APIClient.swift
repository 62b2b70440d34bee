import FerryAPI
import FerryCore
import FerryIdentity
import FerrySQLite
import FerryServer
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging

/// Drives Ferry's router in-process (Hummingbird's router test mode) with JSON in and out.
struct APIClient {
    static let masterKey = "3f0c1a52-7c1e-4b7e-9a3e-5b8f0e2d4c61"

    /// An answer: status, headers and the parsed JSON body (or `.null`).
    struct Answer {
        var status: Int
        var headers: HTTPFields
        var json: JSONValue
        var text: String

        subscript(key: String) -> JSONValue? {
            if case .object(let object) = json { return object[key] }
            return nil
        }

        func string(_ key: String) -> String? {
            if case .string(let value)? = self[key] { return value }
            return nil
        }

        var array: [JSONValue] {
            if case .array(let items) = json { return items }
            return []
        }
    }

    let client: any TestClientProtocol

    /// Runs `body` against a fresh SQLite-backed router.
    /// Account settings for tests: Ferry's rules, with a cheap scrypt cost so that tests creating accounts stay
    /// fast (the cost is a parameter of the hash; the production default is tested in FerryIdentityTests).
    static let testAccounts = AccountSettings(
        passwordHasher: PasswordHasher(cost: .init(logN: 10, blockSize: 8, parallelism: 1)))

    static func with(
        backend: StoreBackend, accounts: AccountSettings = testAccounts,
        _ body: @Sendable (APIClient, any FerryStore) async throws -> Void
    ) async throws {
        try await backend.withStore { store in
            var logger = Logger(label: "api-test")
            logger.logLevel = .critical
            let router = buildRouter(
                store: store,
                configuration: APIConfiguration(
                    publicURL: "http://ferry.test", masterAPIKey: masterKey, accounts: accounts,
                    documentedSettings: FerrySetting.all.map(\.documented)))
            let app = Application(router: router, logger: logger)
            try await app.test(.router) { client in
                try await body(APIClient(client: client), store)
            }
        }
    }

    /// Sends a request; `body` is encoded as JSON when given.
    func call(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, body: JSONValue? = nil,
        rawBody: String? = nil
    ) async throws -> Answer {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let body { buffer = ByteBuffer(bytes: body.encoded()) }
        if let rawBody { buffer = ByteBuffer(string: rawBody) }
        if buffer != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: path, method: method, headers: headers, body: buffer) { response in
            let text = String(buffer: response.body)
            let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
            return Answer(status: Int(response.status.code), headers: response.headers, json: json, text: text)
        }
    }

    /// Creates an organization (master key), an application and a service token; returns ids and the token.
    func tenant(name: String = "acme") async throws -> (organization: String, application: String, token: String) {
        let organization = try await call(
            .post, "/api/v1/organizations", token: Self.masterKey, body: .object(["name": .string(name)]))
        let organizationID = organization.string("organization_id") ?? ""
        let application = try await call(
            .post, "/api/v1/applications", token: Self.masterKey,
            body: .object(["organization_id": .string(organizationID), "name": .string("\(name) app")]))
        let token = try await call(
            .post, "/api/v1/service_token", token: Self.masterKey,
            body: .object(["organization_id": .string(organizationID), "name": .string("ci")]))
        return (organizationID, application.string("application_id") ?? "", token.string("biscuit") ?? "")
    }

    /// A valid event body for `application`.
    static func eventBody(application: String, id: String? = nil, labels: [String: String] = ["tenant": "t1"])
        -> JSONValue
    {
        var object: [String: JSONValue] = [
            "application_id": .string(application), "event_type": .string("billing.invoice.paid"),
            "payload": .string(#"{"amount":42}"#), "payload_content_type": .string("application/json"),
            "labels": .object(labels.mapValues(JSONValue.string)),
            "occurred_at": .string("2026-01-02T03:04:05.123456789Z"),
            "metadata": .null,
        ]
        if let id { object["event_id"] = .string(id) }
        return .object(object)
    }
}
