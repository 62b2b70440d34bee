import FerryAPI
import FerryCore
import FerryDelivery
import FerryIdentity
import FerryObservability
import FerryStorage
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The web dashboard, served by `ferry serve` and `ferry api` beside the API: server-rendered pages over the same
/// store and the same authorizer as `/api/v1`, so no page can show or do what the signed-in person's role does not
/// allow. Signing in uses the API's own password check (throttling included) and opens a cookie session bound to
/// a Biscuit session (`DashboardSessions`); every form carries a synchronizer token; every page is sent with a
/// strict Content-Security-Policy (`DashboardHeadersMiddleware`).
public struct Dashboard<Store: FerryStore>: Sendable {
    let store: Store
    let access: AccessControl<Store>
    let signIn: PasswordSignIn<Store>
    /// Creating accounts, verification and reset links, and password changes: the API's rules.
    let accounts: Accounts<Store>
    /// Inviting, role changes and removals: the API's rules.
    let membership: Membership<Store>
    /// Narrowing a service token by one more block: the API's rules.
    let attenuator: ServiceTokenAttenuator<Store>
    /// Signs the service tokens the organization pages create.
    let issuer: TokenIssuer
    /// Counts the events the dashboard's form sends, as the API's ingest does.
    let metrics: FerryMetrics
    /// How many days events are kept when an application does not say.
    let defaultRetentionDays: Int
    let sessions: DashboardSessions<Store>
    let pages = PageRenderer()
    /// Which targets a subscription may name (the API's rule).
    let targetPolicy: TargetPolicy
    /// Sends a subscription's test event; nil where no delivery client is given (no test-send button then).
    let oneOffDelivery: OneOffDelivery?
    /// Told when a person enables or disables a subscription here.
    let operationalEvents: StoreOperationalEvents<Store>

    /// How long one live stream of the delivery log lasts before the browser reconnects.
    let liveStreamLifetime: Duration

    /// A dashboard over `store` with the API's `configuration`; `oneOffDelivery` sends test events the way the
    /// delivery worker sends real ones.
    public init(
        store: Store, configuration: APIConfiguration, oneOffDelivery: OneOffDelivery? = nil,
        liveStreamLifetime: Duration = .seconds(300)
    ) {
        self.store = store
        self.liveStreamLifetime = liveStreamLifetime
        self.oneOffDelivery = oneOffDelivery
        self.operationalEvents = StoreOperationalEvents(store: store, logger: Logger(label: "ferry.operational"))
        targetPolicy = configuration.targetPolicy
        access = AccessControl(store: store, authorizer: RequestAuthorizer())
        signIn = PasswordSignIn(store: store, settings: configuration.accounts)
        accounts = Accounts(store: store, configuration: configuration)
        membership = Membership(store: store, publicURL: configuration.publicURL)
        attenuator = ServiceTokenAttenuator(store: store, configuration: configuration)
        issuer = configuration.tokenIssuer
        metrics = configuration.metrics
        defaultRetentionDays = configuration.retentionDays
        sessions = DashboardSessions(
            store: store, issuer: configuration.tokenIssuer, publicURL: configuration.publicURL)
    }

    /// Mounts the pages at `/`, `/login`, `/logout`, the account pages (`/register`, `/check-email`,
    /// `/verify-email`, `/forgot-password`, `/reset-password`, `/account`) and the pages under `/organizations`, and
    /// the static files under `/assets`.
    public func addRoutes(to router: Router<FerryRequestContext>) {
        let group = router.group("").add(middleware: DashboardHeadersMiddleware())
        group.get("/") { request, context in
            await rendering(context) { try await home(request) }
        }
        group.get("login") { request, context in
            await rendering(context) {
                if try await sessions.signedIn(request) != nil { return Self.redirect(to: "/") }
                return loginPage(request, email: "", error: nil, status: .ok)
            }
        }
        group.post("login") { request, context in
            await rendering(context) { try await submitLogin(request, clientIP: context.clientIP) }
        }
        group.post("logout") { request, context in
            await rendering(context) { try await logout(request) }
        }
        group.get("organizations/:organization_id/applications/:application_id/deliveries") { request, context in
            await rendering(context) { try await deliveries(request, context) }
        }
        group.get("organizations/:organization_id/applications/:application_id/deliveries/live") {
            request, context in
            await rendering(context) { try await liveDeliveries(request, context) }
        }
        group.post("organizations/:organization_id/applications/:application_id/deliveries/recover") {
            request, context in
            await rendering(context) {
                try await posted(request, context, authorization: { _ in (.eventReplay, []) }) { scope, form in
                    try await recover(scope, form)
                }
            }
        }
        group.get("organizations/:organization_id/applications/:application_id/deliveries/:attempt_id") {
            request, context in
            await rendering(context) { try await attemptPage(request, context) }
        }
        group.get("organizations/:organization_id/applications/:application_id/events") { request, context in
            await rendering(context) { try await events(request, context) }
        }
        group.get("organizations/:organization_id/applications/:application_id/events/:event_id") {
            request, context in
            await rendering(context) { try await event(request, context) }
        }
        addAccountRoutes(to: group)
        addOrganizationRoutes(to: group)
        addMemberRoutes(to: group)
        addApplicationRoutes(to: group)
        addServiceTokenRoutes(to: group)
        addSubscriptionRoutes(to: group)
        addCatalogRoutes(to: group)
        addEventActionRoutes(to: group)
        group.get("assets/:name") { _, context in
            let name = context.parameters.get("name") ?? ""
            return pages.asset(name) ?? pages.page("error", errorPage(nil, Self.notFound), status: .notFound)
        }
    }

    // MARK: Pages

    func home(_ request: Request, errors: [String] = [], name: String = "") async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return Self.redirect(to: "/login") }
        var organizations: [OrganizationView] = []
        if case .token(_, let memberships?) = signedIn.caller {
            for (organizationID, role) in memberships {
                // The authorizer has the last word on each membership, as on the API's `GET /organizations/{id}`.
                guard let organization = try await permitted(organizationID, signedIn, .applicationList) else {
                    continue
                }
                let applications = try await store.applications(organizationID: organizationID)
                organizations.append(
                    OrganizationView(
                        id: organization.id.lowercased, name: organization.name, role: role.rawValue,
                        applications: applications.sorted { $0.name < $1.name }.map(ApplicationView.init)))
            }
        }
        organizations.sort { ($0.name, $0.id) < ($1.name, $1.id) }
        return pages.page(
            "home",
            HomePage(
                assets: pages.paths, person: PersonView(signedIn), notice: Notice.of(request), csrf: signedIn.csrf,
                organizations: organizations, errors: errors, hasErrors: !errors.isEmpty, name: name),
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    /// The organization, if the person may do `action` on it; nil when the authorizer refuses.
    private func permitted(_ id: UUID, _ signedIn: SignedIn, _ action: APIAction) async throws -> Organization? {
        do {
            return try await access.organization(id, for: signedIn.caller, action)
        } catch let problem as Problem where problem.status == .forbidden {
            return nil
        }
    }

    private func loginPage(_ request: Request, email: String, error: String?, status: HTTPResponse.Status)
        -> Response
    {
        let (cookie, csrf) = sessions.signInChallenge(request)
        var response = pages.page(
            "login",
            LoginPage(
                assets: pages.paths, csrf: csrf, email: email, error: error, notice: Notice.of(request),
                registrationOpen: accounts.registrationIsOpen),
            status: status)
        if let cookie { response.setCookie(cookie) }
        return response
    }

    private func submitLogin(_ request: Request, clientIP: String) async throws -> Response {
        let form = try await Self.form(LoginForm.self, of: request)
        guard Self.isSameOrigin(request), sessions.signInFormIsGenuine(request, csrf: form?.csrf), let form else {
            return loginPage(
                request, email: form?.email ?? "", error: "This form expired. Sign in again.", status: .forbidden)
        }
        let user: User
        do {
            user = try await signIn.account(email: form.email, password: form.password, clientIP: clientIP)
        } catch let problem as Problem {
            var response = loginPage(
                request, email: form.email, error: Self.signInMessage(problem), status: problem.status)
            if let wait = problem.retryAfter { response.headers[.retryAfter] = String(wait) }
            return response
        }
        var response = Self.redirect(to: "/")
        response.setCookie(try await sessions.open(for: user))
        return response
    }

    private func logout(_ request: Request) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return Self.redirect(to: "/login") }
        let form = try await Self.form(CSRFForm.self, of: request)
        guard Self.isSameOrigin(request), let csrf = form?.csrf,
            ConstantTime.equals(Array(csrf.utf8), Array(signedIn.csrf.utf8))
        else {
            return pages.page("error", errorPage(signedIn, Self.expiredForm), status: .forbidden)
        }
        var response = Self.redirect(to: "/login")
        response.setCookie(try await sessions.close(signedIn))
        return response
    }

    // MARK: Helpers

    /// Runs a page handler and turns what it throws into an HTML page: the problem's title and detail for the
    /// errors the API answers as problems, a generic page (logged) for anything else.
    func rendering(_ context: FerryRequestContext, _ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let problem as Problem {
            return pages.page("error", errorPage(nil, problem), status: problem.status)
        } catch let error as DomainError {
            let problem = Problem(error)
            return pages.page("error", errorPage(nil, problem), status: problem.status)
        } catch let error as StorageError where error.isTransient {
            context.logger.warning("database unavailable", metadata: ["error": "\(error)"])
            return pages.page("error", errorPage(nil, ProblemCatalog.serviceUnavailable), status: .serviceUnavailable)
        } catch {
            context.logger.error("dashboard page failed", metadata: ["error": "\(error)"])
            return pages.page(
                "error", errorPage(nil, ProblemCatalog.internalServerError), status: .internalServerError)
        }
    }

    func errorPage(_ signedIn: SignedIn?, _ problem: Problem) -> ErrorPage {
        ErrorPage(
            assets: pages.paths, person: signedIn.map(PersonView.init), heading: problem.title,
            detail: problem.detail)
    }

    static var notFound: Problem {
        Problem(id: "NotFound", status: .notFound, title: "Not found", detail: "There is no such page.")
    }

    static var expiredForm: Problem {
        Problem(
            id: "Forbidden", status: .forbidden, title: "This form expired",
            detail: "Reload the page and try again.")
    }

    /// What the sign-in form says for a refused sign-in.
    static func signInMessage(_ problem: Problem) -> String {
        switch problem.id {
        case "AuthFailedLogin": "Wrong e-mail address or password."
        case "AuthEmailNotVerified": "Verify your e-mail address first: follow the link in the mail Ferry sent you."
        case "RateLimited": "Too many failed sign-ins. Wait a little and try again."
        default: problem.detail
        }
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// A URL-encoded form body, or nil when it is not one of `Form`.
    static func form<Form: Decodable>(_ type: Form.Type, of request: Request) async throws -> Form? {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        return try? URLEncodedFormDecoder().decode(Form.self, from: String(buffer: body))
    }

    /// Whether a form was posted by a page of this server: a browser's `Origin` must name the host the request
    /// was sent to (and a request without one, from an old browser or a tool, passes on its synchronizer token).
    static func isSameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let authority = request.head.authority, let separator = origin.range(of: "://") else { return false }
        return origin[separator.upperBound...].lowercased() == authority.lowercased()
    }
}

/// The headers every dashboard answer carries: a Content-Security-Policy that allows only this server's own
/// scripts, styles and connections and no framing, no content sniffing, no referrer to other sites, and no caching
/// of pages (static files set their own).
struct DashboardHeadersMiddleware: RouterMiddleware {
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    func handle(
        _ request: Request, context: FerryRequestContext,
        next: (Request, FerryRequestContext) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.dashboardReferrerPolicy] = "same-origin"
        response.headers[.dashboardFrameOptions] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension HTTPField.Name {
    static var dashboardReferrerPolicy: Self { HTTPField.Name("Referrer-Policy")! }
    static var dashboardFrameOptions: Self { HTTPField.Name("X-Frame-Options")! }
}
