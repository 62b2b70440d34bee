import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/application_secrets`: an application's bare-UUID credentials (Hook0's compatibility mode).
struct ApplicationSecretController<Store: TenantStore> {
    let store: Store
    let access: AccessControl<Store>

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("application_secrets") { request, context in
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .applicationSecretList)
            let secrets = try await store.applicationSecrets(applicationID: application.id)
            return JSONBody.response(.array(secrets.map(Representation.applicationSecret)))
        }
        group.post("application_secrets") { request, context in
            let caller = try await context.caller()
            let body = try await JSONBody.decode(ApplicationSecretBody.self, from: request)
            let application = try await access.application(
                body.applicationID.value, for: caller, .applicationSecretCreate)
            try ResourceRules.validateLabelName(body.name)
            let secret = try await store.createApplicationSecret(applicationID: application.id, name: body.name)
            return JSONBody.response(Representation.applicationSecret(secret), status: .created)
        }
        group.put("application_secrets/:token") { request, context in
            let caller = try await context.caller()
            let token = try Query.pathUUID(context, "token")
            let body = try await JSONBody.decode(ApplicationSecretBody.self, from: request)
            let application = try await access.application(
                body.applicationID.value, for: caller, .applicationSecretEdit)
            try ResourceRules.validateLabelName(body.name)
            guard
                let secret = try await store.renameApplicationSecret(
                    applicationID: application.id, token: token, name: body.name)
            else { throw DomainError.notFound }
            return JSONBody.response(Representation.applicationSecret(secret))
        }
        group.delete("application_secrets/:token") { request, context in
            let token = try Query.pathUUID(context, "token")
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .applicationSecretDelete)
            guard try await store.deleteApplicationSecret(applicationID: application.id, token: token) else {
                throw DomainError.notFound
            }
            return JSONBody.noContent()
        }
    }
}
