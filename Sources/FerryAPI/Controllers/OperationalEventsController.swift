import FerryCore
import FerryDelivery
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/organizations/{id}/operational_events` (a Ferry extension): which of the organization's applications
/// receives Ferry's operational events (`OperationalEvent`). Choosing one creates their event types in it.
struct OperationalEventsController<Store: TenantStore & IdentityStore & CatalogStore> {
    let store: Store
    let access: AccessControl<Store>

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("organizations/:organization_id/operational_events") { _, context in
            let organization = try await access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await context.caller(), .organizationGet)
            return Self.representation(try await store.operationalApplication(organizationID: organization.id))
        }
        group.put("organizations/:organization_id/operational_events") { request, context in
            let organization = try await access.organization(
                try Query.pathUUID(context, "organization_id"), for: try await context.caller(), .organizationEdit)
            let body = try await JSONBody.decode(OperationalEventsBody.self, from: request)
            let chosen = body.applicationID?.value
            if let chosen {
                guard let application = try await store.application(id: chosen),
                    application.organizationID == organization.id
                else {
                    var errors = ValidationErrors()
                    errors.add(
                        "application_id",
                        ValidationIssue(
                            code: "application", message: "must be an application of this organization",
                            params: ["value": .string(chosen.lowercased)]))
                    throw DomainError.validation(errors)
                }
                for kind in OperationalEvent.Kind.allCases {
                    _ = try await store.upsertEventType(applicationID: application.id, kind.eventType)
                }
            }
            guard try await store.setOperationalApplication(organizationID: organization.id, applicationID: chosen)
            else { throw DomainError.notFound }
            return Self.representation(chosen)
        }
    }

    private static func representation(_ application: UUID?) -> Response {
        JSONBody.response(
            .object([
                "application_id": application.map { .string($0.lowercased) } ?? .null,
                "event_types": .array(OperationalEvent.Kind.allCases.map { .string($0.rawValue) }),
            ]))
    }
}
