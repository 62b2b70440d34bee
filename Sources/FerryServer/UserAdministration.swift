import FerryAPI
import FerryCore
import FerryIdentity
import FerryPostgres
import FerrySQLite
import FerryStorage
import Foundation
import Logging

/// What `ferry users` does, against the configured database: list, create, verify, reset-password, disable. It lets
/// an operator with no SMTP server (the embedded default) verify an address or reset a password without any mail.
public struct UserAdministration: Sendable {
    let store: any FerryStore
    let hasher: PasswordHasher
    let policy: PasswordPolicy

    /// A failure `ferry users` reports and exits non-zero on.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(store: any FerryStore, hasher: PasswordHasher = PasswordHasher(), policy: PasswordPolicy) {
        self.store = store
        self.hasher = hasher
        self.policy = policy
    }

    /// The administration of `store` with the configured password hashing and policy.
    public init(store: any FerryStore, configuration: FerryConfiguration) {
        self.init(
            store: store, hasher: configuration.accounts.passwordHasher, policy: configuration.accounts.passwordPolicy)
    }

    /// Every account, one per line.
    public func list() async throws -> String {
        let users = try await store.users()
        var lines = ["id                                    email  verified  disabled  last_login"]
        for user in users {
            lines.append(
                [
                    user.id.lowercased, user.email, user.emailVerifiedAt == nil ? "no" : "yes",
                    user.disabledAt == nil ? "no" : "yes", user.lastLoginAt.map(Timestamp.format) ?? "never",
                ].joined(separator: "  "))
        }
        return lines.joined(separator: "\n") + "\n\(users.count) account(s)"
    }

    /// Creates a verified account with its personal organization; returns what to print (with the password when
    /// one was generated).
    public func create(email: String, firstName: String, lastName: String, password: String?) async throws -> String {
        guard EmailAddress.isValid(email) else { throw Failure(description: "\(email) is not an e-mail address") }
        let chosen = password ?? FirstStart.oneTimePassword()
        try check(chosen, email: email, firstName: firstName, lastName: lastName)
        let now = Date()
        let user = User(
            id: UUID(), email: email, firstName: firstName, lastName: lastName, createdAt: now, emailVerifiedAt: now)
        do {
            let organization = try await store.register(
                Registration(
                    user: user, passwordHash: try hasher.hash(chosen),
                    personalOrganizationName: "\(firstName) \(lastName)'s personal organization"))
            return "created \(email) (user_id \(user.id.lowercased), organization_id \(organization.lowercased))"
                + (password == nil ? "\npassword: \(chosen)" : "")
        } catch DomainError.userAlreadyExists {
            throw Failure(description: "an account with the address \(email) exists")
        }
    }

    /// Marks an account's address verified.
    public func verify(email: String) async throws -> String {
        let user = try await account(email)
        return try await store.markEmailVerified(userID: user.id, at: Date())
            ? "verified \(user.email)" : "\(user.email) was already verified"
    }

    /// Sets a new password (generated when none is given) and ends every session of the account.
    public func resetPassword(email: String, password: String?) async throws -> String {
        let user = try await account(email)
        let chosen = password ?? FirstStart.oneTimePassword()
        try check(chosen, email: user.email, firstName: user.firstName, lastName: user.lastName)
        _ = try await store.setPassword(
            userID: user.id, hash: try hasher.hash(chosen), endingSessions: true, consumingMailToken: nil, at: Date())
        return "new password set for \(user.email); its sessions ended"
            + (password == nil ? "\npassword: \(chosen)" : "")
    }

    /// Disables (ending its sessions) or re-enables an account.
    public func setDisabled(email: String, disabled: Bool) async throws -> String {
        let user = try await account(email)
        _ = try await store.setUserDisabled(userID: user.id, disabled: disabled, at: Date())
        return disabled ? "disabled \(user.email); its sessions ended" : "enabled \(user.email)"
    }

    private func account(_ email: String) async throws -> User {
        guard let (user, _) = try await store.userCredentials(email: email) else {
            throw Failure(description: "no account has the address \(email)")
        }
        return user
    }

    private func check(_ password: String, email: String, firstName: String, lastName: String) throws {
        if let violation = policy.violation(of: password, email: email, firstName: firstName, lastName: lastName) {
            throw Failure(description: "the password breaks the policy: \(violation.rawValue)")
        }
    }
}

extension FerryServer {
    /// Opens the configured database (applying migrations when `auto_migrate` is on), runs `body`, closes it.
    public static func withStore<T: Sendable>(
        configuration: FerryConfiguration, _ body: @Sendable (any FerryStore) async throws -> T
    ) async throws -> T {
        let logger = makeLogger(level: .warning)
        let store: any FerryStore
        if let url = configuration.postgresURL {
            store = try await openPostgres(
                url, configuration: configuration, maximumConnections: 2, migrate: configuration.autoMigrate,
                logger: logger)
        } else {
            store = try await openSQLite(configuration)
        }
        do {
            let result = try await body(store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }
}
