import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/responses`: what a receiver answered to one attempt.
struct ResponseController<Store: TenantStore & AttemptStore> {
    let store: Store
    let access: AccessControl<Store>

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("responses/:response_id") { request, context in
            let id = try Query.pathUUID(context, "response_id")
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .responseGet)
            guard let response = try await store.response(id: id, applicationID: application.id) else {
                throw DomainError.notFound
            }
            return JSONBody.response(Representation.response(response))
        }
    }
}
