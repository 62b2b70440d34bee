import Biscuit
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// What every route handler needs: the store, authentication, access checks and settings.
struct APIContext<Store: FerryStore>: Sendable {
    let store: Store
    let configuration: APIConfiguration
    let authenticator: Authenticator<Store>
    let access: AccessControl<Store>

    init(store: Store, configuration: APIConfiguration) {
        self.store = store
        self.configuration = configuration
        self.authenticator = Authenticator(
            store: store, masterKey: configuration.masterAPIKey,
            rootKey: configuration.tokenIssuer.rootKey.publicKey, verifiedTokens: VerifiedTokenCache())
        self.access = AccessControl(store: store, authorizer: RequestAuthorizer())
    }

    func caller(_ request: Request) async throws -> Caller {
        try await authenticator.caller(for: request)
    }

    /// The application named by the `application_id` query parameter, if the caller may do `action` on it.
    func applicationFromQuery(_ request: Request, caller: Caller, _ action: APIAction, facts: [Fact] = [])
        async throws -> FerryCore.Application
    {
        try await access.application(try Query.uuid(request, "application_id"), for: caller, action, facts: facts)
    }
}

/// Reading query-string and path parameters.
enum Query {
    static func string(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters.get(name)
    }

    static func uuid(_ request: Request, _ name: String) throws -> UUID {
        guard let text = string(request, name) else {
            throw ProblemCatalog.jsonPayload.with(detail: "missing query parameter `\(name)`")
        }
        guard let value = UUID(uuidString: text) else {
            throw ProblemCatalog.jsonPayload.with(detail: "query parameter `\(name)` is not a UUID")
        }
        return value
    }

    static func optionalUUID(_ request: Request, _ name: String) throws -> UUID? {
        guard string(request, name) != nil else { return nil }
        return try uuid(request, name)
    }

    static func date(_ request: Request, _ name: String) throws -> Date? {
        guard let text = string(request, name) else { return nil }
        guard let value = Timestamp.parse(text) else {
            throw ProblemCatalog.jsonPayload.with(detail: "query parameter `\(name)` is not an RFC 3339 date-time")
        }
        return value
    }

    /// A path parameter as text, percent-decoded (the router hands it over as sent).
    static func pathString(_ context: some RequestContext, _ name: String) -> String? {
        guard let raw = context.parameters.get(name) else { return nil }
        return raw.removingPercentEncoding ?? raw
    }

    static func pathUUID(_ context: some RequestContext, _ name: String) throws -> UUID {
        guard let text = context.parameters.get(name), let value = UUID(uuidString: text) else {
            throw ProblemCatalog.notFound
        }
        return value
    }
}
