import FerryCore
import FerryStorage
import Foundation

/// The mails accounts receive, in plain text: what happened, the link to follow, how long it works, and what to do
/// when the mail was not expected. Links point at the server's public URL.
struct AccountMail: Sendable {
    let publicURL: String

    /// How long an e-mail verification link works (Hook0: 24 hours).
    static let verificationLifetime: Duration = .seconds(24 * 3600)
    /// How long a password reset link works (Hook0: 30 minutes).
    static let resetLifetime: Duration = .seconds(30 * 60)
    /// How long an invitation link works.
    static let invitationLifetime: Duration = .seconds(7 * 24 * 3600)

    func verification(to user: User, token: String) -> OutboundMail {
        OutboundMail(
            recipient: user.email, subject: "Verify your Ferry e-mail address",
            body: """
                Hello \(user.firstName),

                Confirm that this address is yours to finish creating your Ferry account:

                \(link("verify-email", token))

                The link works for 24 hours. The API takes the same token:
                POST \(publicURL)/api/v1/auth/verify-email {"token": "<the token in the link>"}

                If you did not create an account, ignore this mail.
                """)
    }

    func welcome(to user: User) -> OutboundMail {
        OutboundMail(
            recipient: user.email, subject: "Your Ferry account is ready",
            body: """
                Hello \(user.firstName),

                Your address is verified and your account is ready. Sign in at \(publicURL)/ to create an
                application, declare event types, subscribe an endpoint and send your first event.
                """)
    }

    func passwordReset(to user: User, token: String) -> OutboundMail {
        OutboundMail(
            recipient: user.email, subject: "Reset your Ferry password",
            body: """
                Hello \(user.firstName),

                Someone asked to reset the password of your Ferry account. To choose a new one, open:

                \(link("reset-password", token))

                The link works once, for 30 minutes. The API takes the same token:
                POST \(publicURL)/api/v1/auth/reset-password {"token": "<the token in the link>", "new_password": "…"}

                If you did not ask for this, ignore this mail: your password stays as it is.
                """)
    }

    func invitation(to email: String, organization: Organization, role: OrganizationRole, secret: String)
        -> OutboundMail
    {
        OutboundMail(
            recipient: email, subject: "You are invited to \(organization.name) on Ferry",
            body: """
                Hello,

                You are invited to join the organization "\(organization.name)" on Ferry as \(role.rawValue).
                Create your account and join it with this link:

                \(link("register", secret, parameter: "invitation"))

                The link works once, for 7 days. The API takes the same value as `invitation_token` in
                POST \(publicURL)/api/v1/register.

                If you did not expect this invitation, ignore this mail.
                """)
    }

    private func link(_ path: String, _ token: String, parameter: String = "token") -> String {
        let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-", "_"])) ?? token
        return "\(publicURL)/\(path)?\(parameter)=\(encoded)"
    }
}
