import FerryCore
import Foundation

/// `POST /register` (Hook0's RegistrationPost; `invitation_token` is Ferry's, from an invitation mail).
struct RegistrationBody: Decodable {
    var firstName: String
    var lastName: String
    var email: String
    var password: String
    var turnstileToken: String?
    var gclid: String?
    var signupChannel: String?
    var invitationToken: String?

    enum CodingKeys: String, CodingKey {
        case firstName = "first_name"
        case lastName = "last_name"
        case email, password, gclid
        case turnstileToken = "turnstile_token"
        case signupChannel = "signup_channel"
        case invitationToken = "invitation_token"
    }

    /// The account it asks for.
    var account: NewAccount {
        NewAccount(
            firstName: firstName, lastName: lastName, email: email, password: password,
            invitationToken: invitationToken)
    }

    /// The account's rules (`NewAccount`), and Hook0's `gclid` ≤ 256 and `signup_channel` ≤ 72.
    func validate() throws {
        var errors = ValidationErrors()
        account.check(into: &errors)
        if let gclid { Validator.length(gclid, field: "gclid", min: 0, max: 256, into: &errors) }
        if let signupChannel {
            Validator.length(signupChannel, field: "signup_channel", min: 0, max: 72, into: &errors)
        }
        if !errors.isEmpty { throw Problem(DomainError.validation(errors)) }
    }
}

/// `POST /auth/login`.
struct LoginBody: Decodable {
    var email: String
    var password: String

    func validate() throws {
        var errors = ValidationErrors()
        Validator.length(email, field: "email", min: 1, max: 100, into: &errors)
        Validator.length(password, field: "password", min: 1, max: 100, into: &errors)
        if !errors.isEmpty { throw Problem(DomainError.validation(errors)) }
    }
}

/// `POST /auth/verify-email`.
struct MailTokenBody: Decodable {
    var token: String
}

/// `POST /auth/resend-verification-email` and `POST /auth/begin-reset-password`.
struct EmailBody: Decodable {
    var email: String
}

/// `POST /auth/reset-password`.
struct ResetPasswordBody: Decodable {
    var token: String
    var newPassword: String

    enum CodingKeys: String, CodingKey {
        case token
        case newPassword = "new_password"
    }
}

/// `POST /auth/password`: Hook0's body plus the current password, which Ferry requires.
struct ChangePasswordBody: Decodable {
    var newPassword: String
    var currentPassword: String?

    enum CodingKeys: String, CodingKey {
        case newPassword = "new_password"
        case currentPassword = "current_password"
    }
}

/// `POST /organizations/{id}/invite`.
struct InviteBody: Decodable {
    var email: String
    var role: String
}

/// `PUT /organizations/{id}/invite`.
struct RoleChangeBody: Decodable {
    var userID: StrictUUID
    var role: String

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case role
    }
}

/// `DELETE /organizations/{id}/invite`.
struct RevokeBody: Decodable {
    var userID: StrictUUID

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
    }
}

extension OrganizationRole {
    /// The role a request names, or 400 `InvalidRole` (Hook0 answered 500 for an unknown one).
    static func parse(_ text: String) throws -> OrganizationRole {
        guard let role = OrganizationRole(rawValue: text) else { throw ProblemCatalog.invalidRole }
        return role
    }
}
