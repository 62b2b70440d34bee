import Biscuit
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird
import Synchronization

/// Resolves the organization or application a request targets and runs Hook0's authorizer for the caller and the
/// action on it. Unknown, deleted and foreign targets answer 403 alike (as Hook0), so ids of other tenants are
/// never confirmed; an authorizer over its time budget answers 503.
public struct AccessControl<Store: TenantStore>: Sendable {
    let store: Store
    let authorizer: RequestAuthorizer
    private let ingestTargets = RememberedApplications()

    public init(store: Store, authorizer: RequestAuthorizer) {
        self.store = store
        self.authorizer = authorizer
    }

    /// The application an event is ingested into, if the caller may ingest into it. An application's organization
    /// never changes, so the application is remembered for a few seconds and an event's request reads no
    /// application row; whether it is still live is checked again by the write itself (`EventStore.ingest`
    /// refuses a deleted application's event with the 403 this check gives).
    public func applicationForIngest(_ id: UUID, for caller: Caller) async throws -> FerryCore.Application {
        let now = ContinuousClock.now
        let application: FerryCore.Application
        if let remembered = ingestTargets.application(id, at: now) {
            application = remembered
        } else {
            guard let found = try await store.application(id: id) else { throw ProblemCatalog.forbidden }
            ingestTargets.remember(found, at: now)
            application = found
        }
        try authorize(
            caller,
            AuthorizationRequest(action: .eventIngest, organizationID: application.organizationID, applicationID: id))
        return application
    }

    /// The organization, if the caller may do `action` on it.
    @discardableResult
    public func organization(_ id: UUID, for caller: Caller, _ action: APIAction, facts: [Fact] = []) async throws
        -> Organization
    {
        guard let organization = try await store.organization(id: id) else { throw ProblemCatalog.forbidden }
        try authorize(caller, AuthorizationRequest(action: action, organizationID: id, facts: facts))
        return organization
    }

    /// The live application, if the caller may do `action` on it.
    @discardableResult
    public func application(_ id: UUID, for caller: Caller, _ action: APIAction, facts: [Fact] = []) async throws
        -> FerryCore.Application
    {
        guard let application = try await store.application(id: id) else { throw ProblemCatalog.forbidden }
        try authorize(
            caller,
            AuthorizationRequest(
                action: action, organizationID: application.organizationID, applicationID: id, facts: facts))
        return application
    }

    /// The application named by the request's `application_id` query parameter, if the caller may do `action` on it.
    func application(
        namedByQueryOf request: Request, for caller: Caller, _ action: APIAction, facts: [Fact] = []
    ) async throws -> FerryCore.Application {
        try await application(try Query.uuid(request, "application_id"), for: caller, action, facts: facts)
    }

    /// The organization named by the request's `organization_id` query parameter, if the caller may do `action`
    /// on it.
    func organization(namedByQueryOf request: Request, for caller: Caller, _ action: APIAction) async throws
        -> Organization
    {
        try await organization(try Query.uuid(request, "organization_id"), for: caller, action)
    }

    /// Whether the caller may do `action` on `application` (for lookups that answer 404 rather than 403).
    public func permits(
        _ caller: Caller, _ action: APIAction, on application: FerryCore.Application, facts: [Fact] = []
    ) -> Bool {
        permits(
            caller,
            AuthorizationRequest(
                action: action, organizationID: application.organizationID, applicationID: application.id,
                facts: facts))
    }

    /// Whether the caller may do `action` on the organization `organizationID` (pages show an action only then).
    public func permits(_ caller: Caller, _ action: APIAction, inOrganization organizationID: UUID, facts: [Fact] = [])
        -> Bool
    {
        permits(caller, AuthorizationRequest(action: action, organizationID: organizationID, facts: facts))
    }

    private func permits(_ caller: Caller, _ request: AuthorizationRequest) -> Bool {
        if case .success = authorizer.authorize(caller, request, at: Date()) { return true }
        return false
    }

    /// Runs the authorizer for an action that targets no organization (`organization:list`, `organization:create`).
    @discardableResult
    public func authorize(_ caller: Caller, _ request: AuthorizationRequest) throws -> AuthorizedCaller {
        switch authorizer.authorize(caller, request, at: Date()) {
        case .success(let authorized): return authorized
        case .failure(.overBudget): throw ProblemCatalog.serviceUnavailable
        case .failure(.denied): throw ProblemCatalog.forbidden
        }
    }
}

/// Live applications looked up for ingest in the last few seconds (at most `capacity`; all are forgotten when it
/// is reached).
private final class RememberedApplications: Sendable {
    private static let lifetime = Duration.seconds(5)
    private static let capacity = 10_000
    private let entries = Mutex<[UUID: (application: FerryCore.Application, until: ContinuousClock.Instant)]>([:])

    func application(_ id: UUID, at now: ContinuousClock.Instant) -> FerryCore.Application? {
        entries.withLock { entries in
            guard let entry = entries[id], entry.until > now else { return nil }
            return entry.application
        }
    }

    func remember(_ application: FerryCore.Application, at now: ContinuousClock.Instant) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[application.id] = (application, now + Self.lifetime)
        }
    }
}
