import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/event_types`: the kinds of events an application sends, and (Ferry's extension) the JSON Schema of their
/// payloads, set on create or by `PUT`.
struct EventTypeController<Store: TenantStore & CatalogStore> {
    let store: Store
    let access: AccessControl<Store>
    let payloadSchemas: PayloadSchemas

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("event_types") { request, context in
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .eventTypeList)
            let types = try await store.eventTypes(applicationID: application.id)
            return JSONBody.response(.array(types.map(Representation.eventType)))
        }
        group.post("event_types") { request, context in
            let caller = try await context.caller()
            let body = try await JSONBody.decode(EventTypeBody.self, from: request)
            let application = try await access.application(body.applicationID.value, for: caller, .eventTypeCreate)
            var eventType = try EventType.validated(
                service: body.service, resourceType: body.resourceType, verb: body.verb)
            if let document = body.payloadSchema, document != .null {
                eventType.payloadSchema = try PayloadSchema.compiled(document).text
            }
            let stored = try await store.upsertEventType(applicationID: application.id, eventType)
            payloadSchemas.forget(applicationID: application.id, eventType: stored.name)
            return JSONBody.response(Representation.eventType(stored), status: .created)
        }
        group.put("event_types/:event_type_name") { request, context in
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .eventTypeCreate)
            let body = try await JSONBody.decode(EventTypeSchemaBody.self, from: request)
            let schema = body.payloadSchema == .null ? nil : try PayloadSchema.compiled(body.payloadSchema).text
            guard let name = Query.pathString(context, "event_type_name"),
                let stored = try await store.setEventTypeSchema(
                    applicationID: application.id, name: name, schema: schema)
            else { throw DomainError.notFound }
            payloadSchemas.forget(applicationID: application.id, eventType: name)
            return JSONBody.response(Representation.eventType(stored))
        }
        group.get("event_types/:event_type_name") { request, context in
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .eventTypeGet)
            guard let name = Query.pathString(context, "event_type_name"),
                let eventType = try await store.eventType(applicationID: application.id, name: name)
            else { throw DomainError.notFound }
            return JSONBody.response(Representation.eventType(eventType))
        }
        group.delete("event_types/:event_type_name") { request, context in
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .eventTypeDelete)
            guard let name = Query.pathString(context, "event_type_name"),
                try await store.deactivateEventType(applicationID: application.id, name: name)
            else { throw DomainError.notFound }
            return JSONBody.noContent()
        }
    }
}
