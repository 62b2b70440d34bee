import FerryCore
import FerryStorage
import Foundation

/// Resolves the organization or application a request targets and checks the caller may act on it.
/// Unknown or foreign targets answer 403 (as Hook0), so ids of other tenants are never confirmed.
struct AccessControl<Store: FerryStore>: Sendable {
    let store: Store

    /// The organization, if the principal may act on it organization-wide.
    func organization(_ id: UUID, for principal: Principal) async throws -> Organization {
        guard principal.canAccess(organizationID: id), let organization = try await store.organization(id: id) else {
            throw ProblemCatalog.forbidden
        }
        return organization
    }

    /// The live application, if the principal may act on it.
    func application(_ id: UUID, for principal: Principal) async throws -> FerryCore.Application {
        guard let application = try await store.application(id: id),
            principal.canAccess(applicationID: id, organizationID: application.organizationID)
        else { throw ProblemCatalog.forbidden }
        return application
    }
}
