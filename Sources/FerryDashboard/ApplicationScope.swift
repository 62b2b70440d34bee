import Biscuit
import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// A page's signed-in person and the application its path names.
struct ApplicationScope {
    var signedIn: SignedIn
    var organization: Organization
    var application: FerryCore.Application

    /// `/organizations/{organization}/applications/{application}`, the base of the application's pages.
    var path: String { DashboardPaths.application(organization.id, application.id) }

    var organizationView: NamedView { NamedView(id: organization.id.lowercased, name: organization.name) }
    var applicationView: NamedView { NamedView(id: application.id.lowercased, name: application.name) }
}

/// The paths of the dashboard's pages.
enum DashboardPaths {
    /// `/organizations/{organization}/applications/{application}`, the base of an application's pages.
    static func application(_ organizationID: UUID, _ applicationID: UUID) -> String {
        "/organizations/\(organizationID.lowercased)/applications/\(applicationID.lowercased)"
    }
}

/// A form as it was posted: its fields, readable as any of the form types.
struct PostedForm: Sendable {
    let body: String

    /// The form's fields as `Form`, or nil when they are not one.
    func decode<Form: Decodable>(_ type: Form.Type) -> Form? {
        try? URLEncodedFormDecoder().decode(Form.self, from: body)
    }
}

extension Dashboard {
    /// Runs `page` for the signed-in person and the application the page's path names (under its own
    /// organization), authorized for `action` as the API authorizes it. Answers the sign-in page instead when nobody
    /// is signed in, and 404 for an id that is not one or an application named under another organization; the
    /// authorizer's refusal is thrown (403).
    func inApplication(
        _ request: Request, _ context: FerryRequestContext, _ action: APIAction, facts: [Fact] = [],
        _ page: (ApplicationScope) async throws -> Response
    ) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return Self.redirect(to: "/login") }
        return try await inApplication(signedIn, context, action, facts: facts, page)
    }

    /// A form posted to one of an application's pages, checked by `checkedForm`.
    func posted(
        _ request: Request, _ context: FerryRequestContext,
        authorization: (PostedForm) throws -> (APIAction, [Fact]),
        _ page: (ApplicationScope, PostedForm) async throws -> Response
    ) async throws -> Response {
        try await checkedForm(request, authorization: authorization) { signedIn, action, facts, form in
            try await inApplication(signedIn, context, action, facts: facts) { scope in try await page(scope, form) }
        }
    }

    /// The posted form when it comes from a page of this server with the session's synchronizer token, else nil.
    func genuineForm(_ request: Request, _ signedIn: SignedIn) async throws -> PostedForm? {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: Self.formBodyLimit))
        let form = PostedForm(body: body)
        guard Self.isSameOrigin(request), let csrf = form.decode(CSRFForm.self)?.csrf,
            ConstantTime.equals(Array(csrf.utf8), Array(signedIn.csrf.utf8))
        else { return nil }
        return form
    }

    private func inApplication(
        _ signedIn: SignedIn, _ context: FerryRequestContext, _ action: APIAction, facts: [Fact],
        _ page: (ApplicationScope) async throws -> Response
    ) async throws -> Response {
        guard let organizationID = UUID(uuidString: context.parameters.get("organization_id") ?? ""),
            let applicationID = UUID(uuidString: context.parameters.get("application_id") ?? "")
        else { return pages.page("error", errorPage(signedIn, Self.notFound), status: .notFound) }
        let application = try await access.application(applicationID, for: signedIn.caller, action, facts: facts)
        guard application.organizationID == organizationID,
            let organization = try await store.organization(id: organizationID)
        else { return pages.page("error", errorPage(signedIn, Self.notFound), status: .notFound) }
        return try await page(
            ApplicationScope(signedIn: signedIn, organization: organization, application: application))
    }

    /// Whether the person may do `action` in the scope's application: pages show an action only then.
    func may(_ scope: ApplicationScope, _ action: APIAction, facts: [Fact] = []) -> Bool {
        access.permits(scope.signedIn.caller, action, on: scope.application, facts: facts)
    }

    /// The largest form body read (a subscription's form is the largest, well under this).
    static var formBodyLimit: Int { 64 * 1024 }

    /// Where a form's change leads: back to `path`, saying `notice` there.
    static func redirect(to path: String, notice: Notice) -> Response {
        redirect(to: path + (path.contains("?") ? "&" : "?") + "done=" + notice.rawValue)
    }
}

/// What a page says after a change made on it (the redirect's `done` parameter names one, so a page never echoes
/// text from its URL).
enum Notice: String, CaseIterable {
    case subscriptionCreated = "subscription-created"
    case subscriptionSaved = "subscription-saved"
    case subscriptionEnabled = "subscription-enabled"
    case subscriptionDisabled = "subscription-disabled"
    case subscriptionDeleted = "subscription-deleted"
    case eventTypeCreated = "event-type-created"
    case eventTypeDeactivated = "event-type-deactivated"
    case eventTypeSchemaSaved = "event-type-schema-saved"
    case eventTypeSchemaRemoved = "event-type-schema-removed"
    case secretCreated = "secret-created"
    case secretDeleted = "secret-deleted"
    case eventReplayed = "event-replayed"
    case attemptRetried = "attempt-retried"
    case verificationSent = "verification-sent"
    case resetSent = "reset-sent"
    case accountCreated = "account-created"
    case emailVerified = "email-verified"
    case alreadyVerified = "already-verified"
    case passwordReset = "password-reset"
    case passwordChanged = "password-changed"
    case otherSessionsEnded = "other-sessions-ended"
    case organizationCreated = "organization-created"
    case organizationRenamed = "organization-renamed"
    case organizationDeleted = "organization-deleted"
    case applicationCreated = "application-created"
    case applicationSaved = "application-saved"
    case applicationDeleted = "application-deleted"
    case memberAdded = "member-added"
    case invitationSent = "invitation-sent"
    case invitationResent = "invitation-resent"
    case invitationCancelled = "invitation-cancelled"
    case roleChanged = "role-changed"
    case memberRemoved = "member-removed"
    case serviceTokenRenamed = "service-token-renamed"
    case serviceTokenDeleted = "service-token-deleted"
    case eventSent = "event-sent"
    case attemptsRecovered = "attempts-recovered"

    var message: String {
        switch self {
        case .subscriptionCreated: "The subscription was created. Matching events are sent to it from now on."
        case .subscriptionSaved: "The subscription was saved."
        case .subscriptionEnabled: "The subscription was enabled."
        case .subscriptionDisabled: "The subscription was disabled; its waiting attempts were cancelled."
        case .subscriptionDeleted: "The subscription was deleted; its waiting attempts were cancelled."
        case .eventTypeCreated: "The event type was created."
        case .eventTypeSchemaSaved: "The payload schema was saved; ingest checks it within 5 seconds."
        case .eventTypeSchemaRemoved: "The payload schema was removed; ingest stops checking it within 5 seconds."
        case .eventTypeDeactivated: "The event type was deactivated."
        case .secretCreated: "The application secret was created."
        case .secretDeleted: "The application secret was deleted; requests using it are refused from now on."
        case .eventReplayed: "The event is being sent again to every subscription it matches."
        case .attemptRetried: "The event is being sent again to that subscription."
        case .verificationSent:
            "If this address has an account waiting for verification, a link is on its way. It works for 24 hours."
        case .resetSent:
            "If an account uses this address, a link to choose a new password is on its way. It works once, for 30 "
                + "minutes."
        case .accountCreated: "Your account is ready, and you joined the organization that invited you."
        case .emailVerified: "Your address is verified and you are signed in. Welcome to Ferry."
        case .alreadyVerified: "This address is already verified: sign in."
        case .passwordReset: "Your password was changed. Sign in with the new one."
        case .passwordChanged: "Your password was changed and every session was signed out. Sign in again."
        case .otherSessionsEnded: "Every other session was signed out."
        case .organizationCreated: "The organization was created. Create its first application below."
        case .organizationRenamed: "The organization was renamed."
        case .organizationDeleted: "The organization was deleted."
        case .applicationCreated:
            "The application was created. Next: declare an event type, then subscribe an endpoint to it."
        case .applicationSaved: "The application's settings were saved."
        case .applicationDeleted: "The application was deleted with its event types, subscriptions and events."
        case .memberAdded: "That account is now a member."
        case .invitationSent: "The invitation was sent. Its link works once, for 7 days."
        case .invitationResent: "The invitation was sent again with a new link; the old one no longer works."
        case .invitationCancelled: "The invitation was cancelled; its link no longer works."
        case .roleChanged: "The member's role was changed."
        case .memberRemoved: "The member was removed from the organization."
        case .serviceTokenRenamed: "The service token was renamed."
        case .serviceTokenDeleted: "The service token was deleted; it and every token made from it are refused now."
        case .eventSent: "The event was stored. Its deliveries appear below as they happen."
        case .attemptsRecovered: "The given-up attempts are being sent again; below, the attempts not finished yet."
        }
    }

    /// The notice a request's `done` parameter names, if any.
    static func of(_ request: Request) -> String? {
        request.uri.queryParameters["done"].flatMap { Notice(rawValue: String($0)) }?.message
    }
}

/// What every page of an organization or an application shows around its own `page`: the layout's files and
/// person, the breadcrumb (`application` is nil on an organization's pages), the tabs, a notice after a change, the
/// form's errors and the token its forms carry. Templates open `{{#page}}`, and names the page's own view lacks are
/// found here.
struct PageFrame<Content: Sendable>: Sendable {
    var assets: AssetPaths
    var person: PersonView?
    var organization: NamedView
    var application: NamedView?
    var tabs: PageTabs
    var notice: String?
    var csrf: String
    var errors: [String]
    var hasErrors: Bool
    var page: Content
}

extension Dashboard {
    /// One of an application's pages: `template` rendered with the frame of `scope` (the tab `tab` current) around
    /// `content`.
    func applicationPage<Content: Sendable>(
        _ template: String, _ scope: ApplicationScope, tab: String, notice: String? = nil, _ content: Content,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        framedPage(
            template, scope.signedIn, organization: scope.organizationView, application: scope.applicationView,
            tabs: .application(scope.path, on: tab), notice: notice, errors: [], content, status: status)
    }

    /// `template` rendered with a `PageFrame` around `content`.
    func framedPage<Content: Sendable>(
        _ template: String, _ signedIn: SignedIn, organization: NamedView, application: NamedView?, tabs: PageTabs,
        notice: String?, errors: [String], _ content: Content, status: HTTPResponse.Status
    ) -> Response {
        pages.page(
            template,
            PageFrame(
                assets: pages.paths, person: PersonView(signedIn), organization: organization,
                application: application, tabs: tabs, notice: notice, csrf: signedIn.csrf, errors: errors,
                hasErrors: !errors.isEmpty, page: content),
            status: status)
    }

    /// The checks every posted form passes before its page reads or changes anything: the person is signed in
    /// (else the sign-in page), and the form comes from a page of this server with the session's synchronizer
    /// token (else 403). `authorization` then names the action (and its facts) the authorizer must allow, as the
    /// API's route for the same change asks, and `next` finds the page's scope under it.
    func checkedForm(
        _ request: Request, authorization: (PostedForm) throws -> (APIAction, [Fact]),
        _ next: (SignedIn, APIAction, [Fact], PostedForm) async throws -> Response
    ) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return Self.redirect(to: "/login") }
        guard let form = try await genuineForm(request, signedIn) else {
            return pages.page("error", errorPage(signedIn, Self.expiredForm), status: .forbidden)
        }
        let (action, facts) = try authorization(form)
        return try await next(signedIn, action, facts, form)
    }
}
