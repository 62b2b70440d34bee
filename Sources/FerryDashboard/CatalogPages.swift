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

    private func eventTypesPage(
        _ scope: ApplicationScope, notice: String? = nil, errors: [String] = [], form: EventTypeForm = EventTypeForm()
    ) async throws -> Response {
        let types = try await store.eventTypes(applicationID: scope.application.id)
        let canDelete = may(scope, .eventTypeDelete)
        let rows = types.map { type in
            EventTypeRow(
                name: type.name, service: type.service, resourceType: type.resourceType, verb: type.verb,
                deletePath: scope.path + "/event_types/" + Self.pathSegment(type.name) + "/delete",
                canDelete: canDelete)
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
