import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// The instance's unauthenticated routes: its configuration, quotas, the settings list, health, the problem list,
/// content types and the OpenAPI document.
struct InstanceController<Store: DatabaseProbe> {
    let store: Store
    let configuration: APIConfiguration
    let openAPIDocument: ByteBuffer

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("instance") { _, _ in
            JSONBody.response(
                .object([
                    "biscuit_public_key": .string(configuration.tokenIssuer.publicKeyHex),
                    "registration_disabled": .bool(configuration.accounts.registrationDisabled),
                    "password_minimum_length": .number(
                        Double(configuration.accounts.passwordPolicy.minimumLength)),
                    "auto_db_migration": .bool(true),
                    "application_secret_compatibility": .bool(true), "quota_enforcement": .bool(false),
                    "support_email_address": .string(""),
                ]))
        }
        group.get("quotas") { _, _ in
            let unlimited = JSONValue.number(Double(Int32.max))
            return JSONBody.response(
                .object([
                    "enabled": .bool(false),
                    "limits": .object([
                        "global_members_per_organization_limit": unlimited,
                        "global_applications_per_organization_limit": unlimited,
                        "global_events_per_day_limit": unlimited,
                        "global_days_of_events_retention_limit": .number(Double(configuration.retentionDays)),
                        "global_subscriptions_per_application_limit": unlimited,
                        "global_event_types_per_application_limit": unlimited,
                    ]),
                ]))
        }
        group.get("health") { request, _ in
            if let key = configuration.healthCheckKey, !key.isEmpty {
                guard let given = Query.string(request, "key"),
                    ConstantTime.equals(Array(given.utf8), Array(key.utf8))
                else { throw DomainError.forbidden }
            }
            return try await health()
        }
        group.get("environment_variables") { _, _ in
            JSONBody.response(.array(configuration.documentedSettings.map(\.jsonValue)))
        }
        group.get("errors") { _, _ in
            JSONBody.response(.array(ProblemCatalog.all.map(\.body)))
        }
        group.get("payload_content_types") { _, _ in
            JSONBody.response(.array(PayloadContentType.allCases.map { .string($0.rawValue) }))
        }
        for path in ["swagger.json", "openapi.json"] {
            group.get(RouterPath(path)) { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: openAPIDocument))
            }
        }
    }

    /// HealthCheck: times a database round trip; 200 when it answers, 503 otherwise.
    private func health() async throws -> Response {
        let started = ContinuousClock.now
        var healthy = true
        do {
            try await store.ping()
        } catch {
            healthy = false
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(
            elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return JSONBody.response(
            .object([
                "database": .string(healthy ? "ok" : "error"), "database_duration_ms": .number(milliseconds),
                "pulsar": .null, "pulsar_duration_ms": .null, "object_storage": .null,
                "object_storage_duration_ms": .null, "total_duration_ms": .number(milliseconds),
            ]), status: healthy ? .ok : .serviceUnavailable)
    }
}
