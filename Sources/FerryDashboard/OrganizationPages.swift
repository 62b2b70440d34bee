import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// An organization's overview (its applications, a new application, events per day stacked by application over 7,
/// 30 or 90 days, and its usage), its settings (rename, delete when empty), and creating an organization from the
/// home page; each authorized as the API's route for it.
extension Dashboard {
    func addOrganizationRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.post("organizations") { request, context in
            await rendering(context) { try await createOrganization(request) }
        }
        group.get("organizations/:organization_id") { request, context in
            await rendering(context) {
                try await inOrganization(request, context, .organizationGet) { scope in
                    try await overview(scope, request, notice: Notice.of(request))
                }
            }
        }
        group.post("organizations/:organization_id/applications") { request, context in
            await rendering(context) {
                try await postedToOrganization(request, context, authorization: { _ in (.applicationCreate, []) }) {
                    scope, form in
                    let name = (form.decode(NameForm.self)?.name ?? "").trimmingCharacters(in: .whitespaces)
                    do {
                        try ResourceRules.validateApplicationName(name)
                    } catch let error as DomainError {
                        return try await overview(scope, request, errors: FormErrors.messages(error), name: name)
                    }
                    let (application, _) = try await store.createApplication(
                        organizationID: scope.organization.id, name: name)
                    return Self.redirect(
                        to: DashboardPaths.application(scope.organization.id, application.id),
                        notice: .applicationCreated)
                }
            }
        }
        group.get("organizations/:organization_id/settings") { request, context in
            await rendering(context) {
                try await inOrganization(request, context, .organizationGet) { scope in
                    organizationSettings(scope, notice: Notice.of(request))
                }
            }
        }
        group.post("organizations/:organization_id/settings") { request, context in
            await rendering(context) {
                try await postedToOrganization(request, context, authorization: { _ in (.organizationEdit, []) }) {
                    scope, form in
                    let name = (form.decode(NameForm.self)?.name ?? "").trimmingCharacters(in: .whitespaces)
                    do {
                        try ResourceRules.validateOrganizationName(name)
                    } catch let error as DomainError {
                        return organizationSettings(scope, errors: FormErrors.messages(error), name: name)
                    }
                    guard try await store.renameOrganization(id: scope.organization.id, name: name) != nil else {
                        return notFound(scope)
                    }
                    return Self.redirect(to: scope.path + "/settings", notice: .organizationRenamed)
                }
            }
        }
        group.post("organizations/:organization_id/delete") { request, context in
            await rendering(context) {
                try await postedToOrganization(request, context, authorization: { _ in (.organizationDelete, []) }) {
                    scope, _ in
                    do {
                        guard try await store.deleteOrganization(id: scope.organization.id) else {
                            return notFound(scope)
                        }
                    } catch let error as DomainError {
                        return organizationSettings(scope, errors: FormErrors.messages(error), status: .conflict)
                    }
                    return Self.redirect(to: "/", notice: .organizationDeleted)
                }
            }
        }
    }

    /// The home page's form: a new organization whose only editor is the person.
    private func createOrganization(_ request: Request) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return Self.redirect(to: "/login") }
        guard let form = try await genuineForm(request, signedIn) else {
            return pages.page("error", errorPage(signedIn, Self.expiredForm), status: .forbidden)
        }
        guard
            case .person(let userID, _, _) = try access.authorize(
                signedIn.caller, AuthorizationRequest(action: .organizationCreate))
        else {
            return pages.page("error", errorPage(signedIn, ProblemCatalog.forbidden), status: .forbidden)
        }
        let name = (form.decode(NameForm.self)?.name ?? "").trimmingCharacters(in: .whitespaces)
        do {
            try ResourceRules.validateOrganizationName(name)
        } catch let error as DomainError {
            return try await home(request, errors: FormErrors.messages(error), name: name)
        }
        let organization = try await store.createOrganization(name: name, editor: userID)
        return Self.redirect(to: "/organizations/" + organization.id.lowercased, notice: .organizationCreated)
    }

    private func overview(
        _ scope: OrganizationScope, _ request: Request, notice: String? = nil, errors: [String] = [],
        name: String = ""
    ) async throws -> Response {
        let applications = try await store.applications(organizationID: scope.organization.id)
            .sorted { ($0.name, $0.id.lowercased) < ($1.name, $1.id.lowercased) }
        let range = ChartRange(request)
        let now = Date()
        let days = StackedBarChart.days(range.days, endingAt: now)
        let counts = try await store.eventsPerDay(
            applicationIDs: applications.map(\.id), from: days.first ?? now, to: days.last ?? now)
        var byApplication: [UUID: [Date: Int]] = [:]
        for count in counts { byApplication[count.applicationID, default: [:]][count.day, default: 0] += count.amount }
        let chart = StackedBarChart(
            id: "events-per-day", caption: "Events received per day, by application, over \(range.days) days",
            days: days,
            series: applications.map { application in
                StackedBarChart.Series(
                    name: application.name, values: days.map { byApplication[application.id]?[$0] ?? 0 })
            })
        let members = try await store.members(organizationID: scope.organization.id)
        let eventsToday = chart.rows.first?.total ?? 0
        let view = OrganizationOverview(
            applications: applications.map(ApplicationView.init), hasApplications: !applications.isEmpty,
            canCreateApplication: may(scope, .applicationCreate), name: name, chart: chart,
            ranges: ChartRange.links(scope.path, current: range.days),
            usage: [
                UsageItem(label: "Applications", value: applications.count),
                UsageItem(label: "Members", value: members.count),
                UsageItem(label: "Events today (UTC)", value: eventsToday),
                UsageItem(label: "Events in \(range.days) days", value: chart.rows.reduce(0) { $0 + $1.total }),
            ])
        return organizationPage(
            "organization", scope, tab: "overview", notice: notice, errors: errors, view,
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    private func organizationSettings(
        _ scope: OrganizationScope, notice: String? = nil, errors: [String] = [], name: String? = nil,
        status: HTTPResponse.Status? = nil
    ) -> Response {
        let view = OrganizationSettingsView(
            id: scope.organization.id.lowercased, name: name ?? scope.organization.name,
            canRename: may(scope, .organizationEdit), canDelete: may(scope, .organizationDelete))
        return organizationPage(
            "organization_settings", scope, tab: "settings", notice: notice, errors: errors, view,
            status: status ?? (errors.isEmpty ? .ok : .unprocessableContent))
    }
}

/// The days a chart spans, from the page's `days` parameter: 7, 30 (the default) or 90.
struct ChartRange {
    var days: Int

    init(_ request: Request) {
        let asked = request.uri.queryParameters["days"].flatMap { Int(String($0)) } ?? 30
        days = [7, 30, 90].contains(asked) ? asked : 30
    }

    /// Links to the page at `path` with each range.
    static func links(_ path: String, current: Int) -> [RangeLink] {
        [7, 30, 90].map { RangeLink(title: "\($0) days", link: path + "?days=\($0)", current: $0 == current) }
    }
}

struct RangeLink: Sendable {
    var title: String
    var link: String
    var current: Bool
}

/// A number of the organization's or application's usage.
struct UsageItem: Sendable {
    var label: String
    var value: Int
}

/// `/organizations/{id}`.
struct OrganizationOverview: Sendable {
    var applications: [ApplicationView]
    var hasApplications: Bool
    var canCreateApplication: Bool
    /// What the new application form had, when refused.
    var name: String
    var chart: StackedBarChart
    var ranges: [RangeLink]
    var usage: [UsageItem]
}

/// `/organizations/{id}/settings`.
struct OrganizationSettingsView: Sendable {
    var id: String
    var name: String
    var canRename: Bool
    var canDelete: Bool
}
