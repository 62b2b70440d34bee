import Biscuit
import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// An organization's service tokens: list, create (the token is shown once), rename, delete, and attenuate: a
/// token pasted back (only its hash is stored) gets one more block of checks, from a preset, one application, an
/// expiry and free Datalog, and the page shows the new token and the Datalog of each of its blocks. Authorized as
/// the API's `service_token:*` routes, with the token's `service_token_id` fact.
extension Dashboard {
    func addServiceTokenRoutes(to group: RouterGroup<FerryRequestContext>) {
        let base = "organizations/:organization_id/service_tokens"
        group.get(RouterPath(base)) { request, context in
            await rendering(context) {
                try await inOrganization(request, context, .serviceTokenList) { scope in
                    try await serviceTokensPage(scope, notice: Notice.of(request))
                }
            }
        }
        group.post(RouterPath(base)) { request, context in
            await rendering(context) {
                try await postedToOrganization(request, context, authorization: { _ in (.serviceTokenCreate, []) }) {
                    scope, form in
                    let name = (form.decode(NameForm.self)?.name ?? "").trimmingCharacters(in: .whitespaces)
                    do {
                        try ResourceRules.validateLabelName(name)
                    } catch let error as DomainError {
                        return try await serviceTokensPage(scope, errors: FormErrors.messages(error), name: name)
                    }
                    let (token, bearer) = try await ServiceTokenIssuance.issue(
                        organizationID: scope.organization.id, name: name, createdBy: scope.signedIn.user.id,
                        store: store, issuer: issuer)
                    return try await serviceTokenPage(scope, token, created: bearer, status: .created)
                }
            }
        }
        group.get(RouterPath(base + "/:token_id")) { request, context in
            await rendering(context) {
                let id = Self.serviceTokenID(context)
                return try await inOrganization(
                    request, context, .serviceTokenGet, facts: [AuthorizationRequest.serviceTokenID(id)]
                ) { scope in
                    try await withServiceToken(id, scope) { token in
                        try await serviceTokenPage(scope, token, notice: Notice.of(request))
                    }
                }
            }
        }
        group.post(RouterPath(base + "/:token_id")) { request, context in
            await rendering(context) {
                let id = Self.serviceTokenID(context)
                return try await postedToOrganization(
                    request, context,
                    authorization: { _ in (.serviceTokenEdit, [AuthorizationRequest.serviceTokenID(id)]) }
                ) { scope, form in
                    try await withServiceToken(id, scope) { token in
                        let name = (form.decode(NameForm.self)?.name ?? "").trimmingCharacters(in: .whitespaces)
                        do {
                            try ResourceRules.validateLabelName(name)
                        } catch let error as DomainError {
                            return try await serviceTokenPage(scope, token, errors: FormErrors.messages(error))
                        }
                        guard
                            try await store.renameServiceToken(
                                id: id, organizationID: scope.organization.id, name: name) != nil
                        else { return notFound(scope) }
                        return Self.redirect(
                            to: scope.path + "/service_tokens/" + id.lowercased, notice: .serviceTokenRenamed)
                    }
                }
            }
        }
        group.post(RouterPath(base + "/:token_id/delete")) { request, context in
            await rendering(context) {
                let id = Self.serviceTokenID(context)
                return try await postedToOrganization(
                    request, context,
                    authorization: { _ in (.serviceTokenDelete, [AuthorizationRequest.serviceTokenID(id)]) }
                ) { scope, _ in
                    guard try await store.revokeServiceToken(id: id, organizationID: scope.organization.id) else {
                        return notFound(scope)
                    }
                    return Self.redirect(to: scope.path + "/service_tokens", notice: .serviceTokenDeleted)
                }
            }
        }
        group.post(RouterPath(base + "/:token_id/attenuate")) { request, context in
            await rendering(context) {
                let id = Self.serviceTokenID(context)
                return try await postedToOrganization(
                    request, context,
                    authorization: { _ in (.serviceTokenEdit, [AuthorizationRequest.serviceTokenID(id)]) }
                ) { scope, form in
                    try await withServiceToken(id, scope) { token in
                        try await attenuate(scope, token, form.decode(AttenuationForm.self) ?? AttenuationForm())
                    }
                }
            }
        }
    }

    /// The token id the path names (one matching nothing when it is not an id, so the page answers 404).
    private static func serviceTokenID(_ context: FerryRequestContext) -> UUID {
        UUID(uuidString: context.parameters.get("token_id") ?? "") ?? UUID()
    }

    /// Runs `page` with the organization's service token `id`, or answers 404.
    private func withServiceToken(
        _ id: UUID, _ scope: OrganizationScope, _ page: (ServiceToken) async throws -> Response
    ) async throws -> Response {
        guard let token = try await store.serviceToken(id: id, organizationID: scope.organization.id) else {
            return notFound(scope)
        }
        return try await page(token)
    }

    private func attenuate(_ scope: OrganizationScope, _ token: ServiceToken, _ form: AttenuationForm) async throws
        -> Response
    {
        var errors: [String] = []
        var restrictions = AttenuationRestrictions(
            preset: form.preset.isEmpty ? nil : form.preset,
            datalog: form.datalog.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : form.datalog)
        if !form.application.isEmpty {
            if let id = UUID(uuidString: form.application) {
                restrictions.applicationID = id
            } else {
                errors.append("Application: choose one of the list.")
            }
        }
        if !form.expires.isEmpty {
            if let date = Timestamp.parse(form.expires + (form.expires.count == 16 ? ":00Z" : "Z")) {
                restrictions.expiresAt = date
            } else {
                errors.append("Expires: give a date and time, UTC.")
            }
        }
        if errors.isEmpty {
            do {
                let attenuated = try await attenuator.attenuate(form.biscuit, of: token, with: restrictions)
                return try await serviceTokenPage(scope, token, attenuated: attenuated, form: form, status: .created)
            } catch let error as DomainError {
                errors = FormErrors.messages(error)
            }
        }
        return try await serviceTokenPage(scope, token, errors: errors, form: form, status: .unprocessableContent)
    }

    private func serviceTokensPage(
        _ scope: OrganizationScope, notice: String? = nil, errors: [String] = [], name: String = ""
    ) async throws -> Response {
        let tokens = try await store.serviceTokens(organizationID: scope.organization.id)
        let emails = try await memberEmails(scope)
        let view = ServiceTokensView(
            tokens: tokens.map { ServiceTokenRow($0, path: scope.path, creators: emails) },
            hasTokens: !tokens.isEmpty, canCreate: may(scope, .serviceTokenCreate), name: name)
        return organizationPage(
            "service_tokens", scope, tab: "service_tokens", notice: notice, errors: errors, view,
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    private func serviceTokenPage(
        _ scope: OrganizationScope, _ token: ServiceToken, notice: String? = nil, errors: [String] = [],
        created: String? = nil, attenuated: AttenuatedToken? = nil, form: AttenuationForm = AttenuationForm(),
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let facts = [AuthorizationRequest.serviceTokenID(token.id)]
        let applications = try await store.applications(organizationID: scope.organization.id)
            .sorted { $0.name < $1.name }
        let view = ServiceTokenView(
            row: ServiceTokenRow(token, path: scope.path, creators: try await memberEmails(scope)),
            created: created, canEdit: may(scope, .serviceTokenEdit, facts: facts),
            canDelete: may(scope, .serviceTokenDelete, facts: facts),
            presets: [Choice(value: "", selected: form.preset.isEmpty, id: "preset-none")]
                + AttenuationRestrictions.presets.map {
                    Choice(value: $0, selected: form.preset == $0, id: "preset-" + $0)
                },
            applications: [ApplicationChoice(id: "", name: "Every application", selected: form.application.isEmpty)]
                + applications.map {
                    ApplicationChoice(
                        id: $0.id.lowercased, name: $0.name, selected: form.application == $0.id.lowercased)
                },
            form: form, attenuated: attenuated.map(AttenuatedView.init))
        return organizationPage(
            "service_token", scope, tab: "service_tokens", notice: notice, errors: errors, view, status: status)
    }

    /// The members' addresses by id, to say who created each token.
    private func memberEmails(_ scope: OrganizationScope) async throws -> [UUID: String] {
        Dictionary(
            try await store.members(organizationID: scope.organization.id).map { ($0.user.id, $0.user.email) },
            uniquingKeysWith: { first, _ in first })
    }
}

/// The attenuation form's fields; each may be empty.
struct AttenuationForm: Decodable, Sendable {
    var biscuit = ""
    var preset = ""
    var application = ""
    /// `YYYY-MM-DDTHH:MM`, UTC (a `datetime-local` control's value).
    var expires = ""
    var datalog = ""

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        biscuit = try container.decodeIfPresent(String.self, forKey: .biscuit) ?? ""
        preset = try container.decodeIfPresent(String.self, forKey: .preset) ?? ""
        application = try container.decodeIfPresent(String.self, forKey: .application) ?? ""
        expires = try container.decodeIfPresent(String.self, forKey: .expires) ?? ""
        datalog = try container.decodeIfPresent(String.self, forKey: .datalog) ?? ""
    }

    enum CodingKeys: String, CodingKey {
        case biscuit, preset, application, expires, datalog
    }
}

/// `/organizations/{id}/service_tokens`.
struct ServiceTokensView: Sendable {
    var tokens: [ServiceTokenRow]
    var hasTokens: Bool
    var canCreate: Bool
    var name: String
}

/// One service token, as listed.
struct ServiceTokenRow: Sendable {
    var id: String
    var name: String
    var hint: String
    var link: String
    var createdAt: String
    var createdBy: String
    var lastUsed: String

    init(_ token: ServiceToken, path: String, creators: [UUID: String]) {
        id = token.id.lowercased
        name = token.name
        hint = token.displayHint
        link = path + "/service_tokens/" + id
        createdAt = AttemptRow.readable(token.createdAt)
        createdBy =
            token.createdBy.map { creators[$0] ?? "a former member" } ?? "the server (first start or master key)"
        lastUsed = token.lastUsedAt.map(AttemptRow.readable) ?? "never"
    }
}

/// `/organizations/{id}/service_tokens/{token}`.
struct ServiceTokenView: Sendable {
    var row: ServiceTokenRow
    /// The bearer value, right after creation only.
    var created: String?
    var canEdit: Bool
    var canDelete: Bool
    var presets: [Choice]
    var applications: [ApplicationChoice]
    var form: AttenuationForm
    var attenuated: AttenuatedView?
}

/// An application offered to restrict a token to.
struct ApplicationChoice: Sendable {
    var id: String
    var name: String
    var selected: Bool
}

/// The result of an attenuation.
struct AttenuatedView: Sendable {
    struct Block: Sendable {
        var number: Int
        var title: String
        var source: String
        var revocationID: String
    }

    var bearer: String
    var blocks: [Block]

    init(_ token: AttenuatedToken) {
        bearer = token.bearer
        blocks = token.blocks.enumerated().map { index, source in
            Block(
                number: index, title: index == 0 ? "Authority block (signed by the server)" : "Block \(index)",
                source: source,
                revocationID: token.revocationIDs.indices.contains(index) ? token.revocationIDs[index] : "")
        }
    }
}
