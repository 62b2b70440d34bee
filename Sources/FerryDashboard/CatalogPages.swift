import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// An application's event types (list, create, deactivate) and application secrets (list, create, delete), each
/// authorized as the API's route for it (`event_type:list`, `:create`, `:delete`; `application_secret:list`,
/// `:create`, `:delete`).
extension Dashboard {
    func addCatalogRoutes(to group: RouterGroup<FerryRequestContext>) {
        let base = "organizations/:organization_id/applications/:application_id"
        group.get(RouterPath(base + "/event_types")) { request, context in
            await rendering(context) {
                try await inApplication(request, context, .eventTypeList) { scope in
                    try await eventTypesPage(scope, notice: Notice.of(request))
                }
            }
        }
        group.post(RouterPath(base + "/event_types")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.eventTypeCreate, []) }) { scope, form in
                    try await createEventType(scope, form)
                }
            }
        }
        group.post(RouterPath(base + "/event_types/:event_type_name/delete")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.eventTypeDelete, []) }) { scope, _ in
                    guard let name = context.parameters.get("event_type_name"),
                        try await store.deactivateEventType(applicationID: scope.application.id, name: name)
                    else { return notFound(scope) }
                    return Self.redirect(to: scope.path + "/event_types", notice: .eventTypeDeactivated)
                }
            }
        }
        group.post(RouterPath(base + "/event_types/:event_type_name/schema")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.eventTypeCreate, []) }) { scope, form in
                    guard let name = context.parameters.get("event_type_name") else { return notFound(scope) }
                    return try await saveSchema(scope, name: name, form)
                }
            }
        }
        group.get(RouterPath(base + "/secrets")) { request, context in
            await rendering(context) {
                try await inApplication(request, context, .applicationSecretList) { scope in
                    try await secretsPage(scope, notice: Notice.of(request))
                }
            }
        }
        group.post(RouterPath(base + "/secrets")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.applicationSecretCreate, []) }) {
                    scope, form in
                    let name = (form.decode(NameForm.self)?.name ?? "").trimmingCharacters(in: .whitespaces)
                    do {
                        try ResourceRules.validateLabelName(name)
                    } catch let error as DomainError {
                        return try await secretsPage(scope, errors: FormErrors.messages(error), name: name)
                    }
                    _ = try await store.createApplicationSecret(
                        applicationID: scope.application.id, name: name.isEmpty ? nil : name)
                    return Self.redirect(to: scope.path + "/secrets", notice: .secretCreated)
                }
            }
        }
        group.post(RouterPath(base + "/secrets/:token/delete")) { request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.applicationSecretDelete, []) }) {
                    scope, _ in
                    guard let token = UUID(uuidString: context.parameters.get("token") ?? ""),
                        try await store.deleteApplicationSecret(applicationID: scope.application.id, token: token)
                    else { return notFound(scope) }
                    return Self.redirect(to: scope.path + "/secrets", notice: .secretDeleted)
                }
            }
        }
    }

    private func createEventType(_ scope: ApplicationScope, _ form: PostedForm) async throws -> Response {
        let fields = form.decode(EventTypeForm.self) ?? EventTypeForm()
        let eventType: EventType
        do {
            eventType = try EventType.validated(
                service: fields.service.trimmingCharacters(in: .whitespaces),
                resourceType: fields.resourceType.trimmingCharacters(in: .whitespaces),
                verb: fields.verb.trimmingCharacters(in: .whitespaces))
        } catch {
            return try await eventTypesPage(scope, errors: FormErrors.messages(error), form: fields)
        }
        _ = try await store.upsertEventType(applicationID: scope.application.id, eventType)
        return Self.redirect(to: scope.path + "/event_types", notice: .eventTypeCreated)
    }

    /// Sets the payload schema a form gives (JSON; empty removes it), or shows the page again with why not.
    private func saveSchema(_ scope: ApplicationScope, name: String, _ form: PostedForm) async throws -> Response {
        let text = (form.decode(SchemaForm.self)?.payloadSchema ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var stored: String?
        if !text.isEmpty {
            guard let document = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                return try await eventTypesPage(
                    scope, errors: ["Payload schema of \(name): this is not JSON."], draftSchema: (name, text))
            }
            let compiled: Result<PayloadSchema, DomainError>
            do {
                compiled = .success(try PayloadSchema.compiled(document))
            } catch {
                compiled = .failure(error)
            }
            switch compiled {
            case .success(let schema):
                stored = schema.text
            case .failure(let error):
                return try await eventTypesPage(
                    scope, errors: FormErrors.messages(error).map { "\(name): " + $0 }, draftSchema: (name, text))
            }
        }
        guard try await store.setEventTypeSchema(applicationID: scope.application.id, name: name, schema: stored) != nil
        else { return notFound(scope) }
        return Self.redirect(
            to: scope.path + "/event_types", notice: stored == nil ? .eventTypeSchemaRemoved : .eventTypeSchemaSaved)
    }

    private func eventTypesPage(
        _ scope: ApplicationScope, notice: String? = nil, errors: [String] = [], form: EventTypeForm = EventTypeForm(),
        draftSchema: (name: String, text: String)? = nil
    ) async throws -> Response {
        let types = try await store.eventTypes(applicationID: scope.application.id)
        let canDelete = may(scope, .eventTypeDelete)
        let canEditSchema = may(scope, .eventTypeCreate)
        let rows = types.map { type in
            let shown = type.payloadSchema.flatMap(JSONLayout.indented) ?? type.payloadSchema ?? ""
            let path = scope.path + "/event_types/" + Self.pathSegment(type.name)
            return EventTypeRow(
                name: type.name, service: type.service, resourceType: type.resourceType, verb: type.verb,
                deletePath: path + "/delete", canDelete: canDelete, hasSchema: type.payloadSchema != nil,
                schema: shown, schemaDraft: draftSchema?.name == type.name ? draftSchema?.text ?? shown : shown,
                schemaPath: path + "/schema", canEditSchema: canEditSchema,
                schemaOpen: draftSchema?.name == type.name)
        }
        return applicationPage(
            "event_types", scope, tab: "event_types", notice: notice,
            EventTypesPage(
                eventTypes: rows, hasEventTypes: !rows.isEmpty,
                canCreate: may(scope, .eventTypeCreate), createPath: scope.path + "/event_types", errors: errors,
                hasErrors: !errors.isEmpty, form: form),
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    private func secretsPage(
        _ scope: ApplicationScope, notice: String? = nil, errors: [String] = [], name: String = ""
    ) async throws -> Response {
        let secrets = try await store.applicationSecrets(applicationID: scope.application.id)
        let canDelete = may(scope, .applicationSecretDelete)
        let rows = secrets.filter { $0.deletedAt == nil }.sorted { $0.createdAt > $1.createdAt }.map { secret in
            SecretRow(
                name: secret.name ?? "—", token: secret.token.lowercased,
                hint: String(secret.token.lowercased.prefix(8)) + "…", createdAt: Timestamp.format(secret.createdAt),
                createdText: AttemptRow.readable(secret.createdAt),
                deletePath: scope.path + "/secrets/" + secret.token.lowercased + "/delete", canDelete: canDelete)
        }
        return applicationPage(
            "secrets", scope, tab: "secrets", notice: notice,
            SecretsPage(
                secrets: rows, hasSecrets: !rows.isEmpty,
                canCreate: may(scope, .applicationSecretCreate), createPath: scope.path + "/secrets", errors: errors,
                hasErrors: !errors.isEmpty, name: name),
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    /// `text` percent-encoded for one path segment.
    static func pathSegment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// The event type form's fields.
/// The payload schema form of one event type.
struct SchemaForm: Decodable, Sendable {
    var payloadSchema: String?

    enum CodingKeys: String, CodingKey {
        case payloadSchema = "payload_schema"
    }
}

struct EventTypeForm: Decodable, Sendable {
    var service = ""
    var resourceType = ""
    var verb = ""

    enum CodingKeys: String, CodingKey {
        case service, verb
        case resourceType = "resource_type"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        service = try container.decodeIfPresent(String.self, forKey: .service) ?? ""
        resourceType = try container.decodeIfPresent(String.self, forKey: .resourceType) ?? ""
        verb = try container.decodeIfPresent(String.self, forKey: .verb) ?? ""
    }
}

/// A form with one `name` field.
struct NameForm: Decodable {
    var name: String?
}
