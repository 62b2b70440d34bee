import FerryCore
import FerryIdentity
import FerryStorage
import Foundation

/// Checks an address and password the way every sign-in does, `POST /auth/login` and the dashboard's form alike:
/// throttled per account and per client address (429 with `Retry-After`), the same scrypt work for unknown
/// addresses as for known ones, 401 `AuthFailedLogin` for a wrong password or a disabled account, 401
/// `AuthEmailNotVerified` only after a correct password, and a stored hash of an older cost re-hashed.
public struct PasswordSignIn<Store: IdentityStore>: Sendable {
    let store: Store
    let settings: AccountSettings

    public init(store: Store, settings: AccountSettings) {
        self.store = store
        self.settings = settings
    }

    /// The account the address and password open, or the problem that refuses them.
    public func account(email: String, password: String, clientIP: String, at now: Date = Date()) async throws
        -> User
    {
        let accountKey = "login:" + EmailAddress.canonical(email)
        let addressKey = "login-ip:" + clientIP
        try await refuseIfThrottled(accountKey, limit: settings.maxLoginFailuresPerAccount, now: now)
        try await refuseIfThrottled(addressKey, limit: settings.maxLoginFailuresPerAddress, now: now)
        let credentials = try await store.userCredentials(email: email)
        let hasher = settings.passwordHasher
        let matches = try await PasswordWork.run {
            guard let credentials else {
                hasher.verifyNothing(password)
                return false
            }
            return hasher.verify(password, against: credentials.passwordHash)
        }
        guard matches, let (user, storedHash) = credentials, user.disabledAt == nil else {
            try await store.recordThrottledEvent(keys: [accountKey, addressKey], at: now)
            throw ProblemCatalog.authFailedLogin
        }
        if user.emailVerifiedAt == nil { throw ProblemCatalog.authEmailNotVerified }
        try await store.clearThrottledEvents(key: accountKey)
        if hasher.needsRehash(storedHash) {
            let hash = try await PasswordWork.run { try hasher.hash(password) }
            _ = try await store.setPassword(
                userID: user.id, hash: hash, endingSessions: false, consumingMailToken: nil, at: now)
        }
        return user
    }

    private func refuseIfThrottled(_ key: String, limit: Int, now: Date) async throws {
        let window = Double(settings.loginFailureWindow.components.seconds)
        let failures = try await store.throttledEvents(key: key, since: now.addingTimeInterval(-window))
        guard failures.count >= limit, let oldest = failures.first else { return }
        let wait = Int((oldest.timeIntervalSince(now) + window).rounded(.up))
        throw ProblemCatalog.loginThrottled(retryAfter: max(1, wait))
    }
}
