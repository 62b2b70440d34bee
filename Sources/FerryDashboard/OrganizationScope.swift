import Biscuit
import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import HTTPTypes
import Hummingbird

/// A page's signed-in person and the organization its path names.
struct OrganizationScope {
    var signedIn: SignedIn
    var organization: Organization

    /// `/organizations/{organization}`, the base of the organization's pages.
    var path: String { "/organizations/" + organization.id.lowercased }
    var organizationView: NamedView { NamedView(id: organization.id.lowercased, name: organization.name) }
}

extension Dashboard {
    /// Runs `page` for the signed-in person and the organization the path names, authorized for `action` as the
    /// API authorizes it (403 when refused, the sign-in page when nobody is signed in, 404 for a malformed id).
    func inOrganization(
        _ request: Request, _ context: FerryRequestContext, _ action: APIAction, facts: [Fact] = [],
        _ page: (OrganizationScope) async throws -> Response
    ) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return Self.redirect(to: "/login") }
        return try await inOrganization(signedIn, context, action, facts: facts, page)
    }

    /// A form posted to one of an organization's pages, checked by `checkedForm`.
    func postedToOrganization(
        _ request: Request, _ context: FerryRequestContext,
        authorization: (PostedForm) throws -> (APIAction, [Fact]),
        _ page: (OrganizationScope, PostedForm) async throws -> Response
    ) async throws -> Response {
        try await checkedForm(request, authorization: authorization) { signedIn, action, facts, form in
            try await inOrganization(signedIn, context, action, facts: facts) { scope in try await page(scope, form) }
        }
    }

    private func inOrganization(
        _ signedIn: SignedIn, _ context: FerryRequestContext, _ action: APIAction, facts: [Fact],
        _ page: (OrganizationScope) async throws -> Response
    ) async throws -> Response {
        guard let organizationID = UUID(uuidString: context.parameters.get("organization_id") ?? "") else {
            return pages.page("error", errorPage(signedIn, Self.notFound), status: .notFound)
        }
        let organization = try await access.organization(organizationID, for: signedIn.caller, action, facts: facts)
        return try await page(OrganizationScope(signedIn: signedIn, organization: organization))
    }

    /// Whether the person may do `action` in the scope's organization.
    func may(_ scope: OrganizationScope, _ action: APIAction, facts: [Fact] = []) -> Bool {
        access.permits(scope.signedIn.caller, action, inOrganization: scope.organization.id, facts: facts)
    }

    /// One of an organization's pages: `template` rendered with the frame of `scope` around `content`.
    func organizationPage<Content: Sendable>(
        _ template: String, _ scope: OrganizationScope, tab: String, notice: String? = nil, errors: [String] = [],
        _ content: Content, status: HTTPResponse.Status = .ok
    ) -> Response {
        framedPage(
            template, scope.signedIn, organization: scope.organizationView, application: nil,
            tabs: .organization(scope.path, on: tab), notice: notice, errors: errors, content, status: status)
    }

    /// The 404 page inside an organization.
    func notFound(_ scope: OrganizationScope) -> Response {
        pages.page("error", errorPage(scope.signedIn, Self.notFound), status: .notFound)
    }
}
