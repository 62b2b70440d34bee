import FerryCore
import Foundation

/// The views below are what templates render: swift-mustache reads their stored properties by name.

/// Where the layout finds the static files (their names carry a hash of their content).
struct AssetPaths: Sendable {
    var stylesheet: String
    var icon: String
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
}

/// `/`: the person's organizations, each with its applications.
struct HomePage: Sendable {
    var assets: AssetPaths
    var person: PersonView?
    var organizations: [OrganizationView]
}

struct OrganizationView: Sendable {
    var id: String
    var name: String
    var role: String
    var applications: [ApplicationView]
    /// Stored, not computed: templates see stored properties only.
    var hasApplications: Bool

    init(id: String, name: String, role: String, applications: [ApplicationView]) {
        self.id = id
        self.name = name
        self.role = role
        self.applications = applications
        hasApplications = !applications.isEmpty
    }
}

struct ApplicationView: Sendable {
    var id: String
    var name: String
    /// RFC 3339, for `<time datetime>`.
    var createdAt: String
    /// The day, as shown.
    var createdDay: String

    init(_ application: Application) {
        id = application.id.lowercased
        name = application.name
        createdAt = Timestamp.format(application.createdAt)
        createdDay = String(createdAt.prefix(10))
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
