import FerryCore
import Foundation

/// The views below are what templates render: swift-mustache reads their stored properties by name.

/// Where the layout finds the static files (their names carry a hash of their content).
struct AssetPaths: Sendable {
    var stylesheet: String
    var icon: String
    var script: String
}

/// The signed-in person as the layout shows them, with the token its sign-out form carries.
struct PersonView: Sendable {
    var email: String
    var csrf: String

    init(_ signedIn: SignedIn) {
        email = signedIn.user.email
        csrf = signedIn.csrf
    }
}

/// `/login`.
struct LoginPage: Sendable {
    var assets: AssetPaths
    var person: PersonView? = nil
    var csrf: String
    var email: String
    var error: String?
    var notice: String?
    var registrationOpen: Bool
}

/// `/`: the person's organizations, each with its applications.
struct HomePage: Sendable {
    var assets: AssetPaths
    var person: PersonView?
    var notice: String?
    var csrf: String
    var organizations: [OrganizationView]
    /// What a refused new organization form broke, and its name as typed.
    var errors: [String]
    var hasErrors: Bool
    var name: String
}

struct OrganizationView: Sendable {
    var id: String
    var name: String
    /// Its overview page.
    var link: String
    var role: String
    var applications: [ApplicationView]
    /// Stored, not computed: templates see stored properties only.
    var hasApplications: Bool

    init(id: String, name: String, role: String, applications: [ApplicationView]) {
        self.id = id
        self.name = name
        link = "/organizations/" + id
        self.role = role
        self.applications = applications
        hasApplications = !applications.isEmpty
    }
}

struct ApplicationView: Sendable {
    var id: String
    var name: String
    /// Its overview page.
    var overview: String
    /// Its events page.
    var events: String
    /// RFC 3339, for `<time datetime>`.
    var createdAt: String
    /// The day, as shown.
    var createdDay: String

    init(_ application: Application) {
        id = application.id.lowercased
        name = application.name
        overview = DashboardPaths.application(application.organizationID, application.id)
        events = overview + "/events"
        createdAt = Timestamp.format(application.createdAt)
        createdDay = String(createdAt.prefix(10))
    }
}

/// An organization or application named on a page.
struct NamedView: Sendable {
    var id: String
    var name: String
}

/// The tabs of an organization's or an application's pages, and which one is shown.
struct PageTabs: Sendable {
    struct Tab: Sendable {
        var title: String
        var link: String
        var current: Bool
    }

    /// What the tabs are of, for the navigation's label.
    var label: String
    var tabs: [Tab]

    /// The tabs under `applicationPath`, with `page` (a tab's last path segment) as the current one.
    static func application(_ applicationPath: String, on page: String) -> PageTabs {
        PageTabs(
            label: "Application", base: applicationPath, on: page,
            [
                ("overview", "Overview"), ("events", "Events"), ("deliveries", "Deliveries"),
                ("subscriptions", "Subscriptions"), ("event_types", "Event types"), ("secrets", "Secrets"),
                ("settings", "Settings"),
            ])
    }

    /// The tabs under `organizationPath`.
    static func organization(_ organizationPath: String, on page: String) -> PageTabs {
        PageTabs(
            label: "Organization", base: organizationPath, on: page,
            [
                ("overview", "Overview"), ("members", "Members"), ("service_tokens", "Service tokens"),
                ("settings", "Settings"),
            ])
    }

    private init(label: String, base: String, on page: String, _ entries: [(String, String)]) {
        self.label = label
        tabs = entries.map { segment, title in
            Tab(title: title, link: segment == "overview" ? base : base + "/" + segment, current: segment == page)
        }
    }
}

/// An application's events.
struct EventsPage: Sendable {
    /// The page's own path, without filters.
    var path: String
    var form: EventsFilterForm
    var events: [EventRow]
    var hasEvents: Bool
    var olderPage: String?
}

/// One event in the list.
struct EventRow: Sendable {
    var id: String
    var type: String
    var link: String
    /// `key=value` pairs, by key.
    var labels: String
    var receivedAt: String
    var receivedText: String

    init(_ event: Event, applicationPath: String) {
        id = event.id.lowercased
        type = event.eventType
        link = applicationPath + "/events/" + id
        labels = event.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        receivedAt = Timestamp.format(event.receivedAt)
        receivedText = AttemptRow.readable(event.receivedAt)
    }
}

/// An application's delivery log.
struct DeliveriesPage: Sendable {
    /// The page's own path, without filters.
    var path: String
    /// The live stream of this page's attempts (the first page only: older pages do not change).
    var livePath: String?
    /// What the page is limited to, if anything.
    var filter: String?
    var form: DeliveriesFilterForm
    var attempts: [AttemptRow]
    var hasAttempts: Bool
    var olderPage: String?
    /// Right after the dashboard sent this event: the page follows its first delivery and says how to check it.
    var waitingForDelivery: Bool
    /// On the given-up view, to person who may replay: sending the given-up attempts again.
    var recovery: RecoveryView?
}

/// One delivery attempt in the log. The status is said in words (the colour only repeats it).
struct AttemptRow: Sendable, Equatable {
    var id: String
    /// The attempt's own page.
    var link: String
    /// `successful`, `failed`, `waiting`, `in-progress` or `pending`, for the status's style.
    var statusKind: String
    var statusText: String
    var httpStatus: String
    var eventType: String
    var eventLink: String
    var subscription: String
    var subscriptionLink: String
    var createdAt: String
    var createdText: String
    var retryCount: Int

    /// A row of the log of the application at `applicationPath`
    /// (`/organizations/{organization}/applications/{application}`).
    init(_ attempt: RequestAttempt, applicationPath: String, at now: Date) {
        id = attempt.id.lowercased
        link = applicationPath + "/deliveries/" + id
        switch attempt.status(at: now) {
        case .successful(_, let milliseconds):
            statusKind = "successful"
            statusText = "Successful · \(milliseconds) ms"
        case .failed:
            statusKind = "failed"
            statusText = attempt.wasCancelled ? "Cancelled, not sent" : "Failed"
        case .inProgress:
            statusKind = "in-progress"
            statusText = "Sending"
        case .waiting(_, let until):
            statusKind = "waiting"
            statusText = "Retry " + Self.relative(until, from: now)
        case .pending:
            statusKind = "pending"
            statusText = "Pending"
        }
        httpStatus = attempt.httpResponseStatus.map(String.init) ?? "—"
        eventType = attempt.eventType
        eventLink = applicationPath + "/events/" + attempt.eventID.lowercased
        subscription =
            attempt.subscriptionDescription.flatMap { $0.isEmpty ? nil : $0 }
            ?? attempt.subscriptionID.lowercased
        subscriptionLink = applicationPath + "/deliveries?subscription_id=" + attempt.subscriptionID.lowercased
        createdAt = Timestamp.format(attempt.createdAt)
        createdText = Self.readable(attempt.createdAt)
        retryCount = attempt.retryCount
    }

    /// `in 40 s`, `in 3 min`, or `at 14:05 UTC`.
    static func relative(_ date: Date, from now: Date) -> String {
        let seconds = Int(date.timeIntervalSince(now).rounded(.up))
        if seconds < 60 { return "in \(max(1, seconds)) s" }
        if seconds < 3600 { return "in \((seconds + 59) / 60) min" }
        return "at " + String(readable(date).dropFirst(11).prefix(5)) + " UTC"
    }

    /// `2026-12-03 08:01:21 UTC`.
    static func readable(_ date: Date) -> String {
        let text = Timestamp.format(date)
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(8)) + " UTC"
    }
}

/// A page that says what went wrong.
struct ErrorPage: Sendable {
    var assets: AssetPaths
    var person: PersonView?
    var heading: String
    var detail: String
}

/// The sign-in form's fields.
struct LoginForm: Decodable {
    var email: String
    var password: String
    var csrf: String
}

/// A form that carries only its synchronizer token (sign-out).
struct CSRFForm: Decodable {
    var csrf: String
}
