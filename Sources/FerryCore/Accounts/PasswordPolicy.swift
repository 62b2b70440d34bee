import Foundation

/// Why a new password was refused, by Hook0's problem ids.
public enum PasswordViolation: String, Error, Sendable, Equatable, CaseIterable {
    case tooShort = "PasswordTooShort"
    case tooLong = "PasswordTooLong"
    case similarToEmail = "PasswordSimilarToEmail"
    case similarToName = "PasswordSimilarToName"
    case tooCommon = "PasswordTooCommon"
    case notDiverseEnough = "PasswordNotDiverseEnough"
}

/// Hook0's password policy: between `minimumLength` (12 by default, `FERRY_PASSWORD_MINIMUM_LENGTH`) and 100
/// characters, not built from the account's e-mail address or names, not one of the most common passwords, and at
/// least 4 distinct characters. Checked in this order, so the first broken rule is the one reported.
public struct PasswordPolicy: Sendable, Equatable {
    /// Hook0's `PASSWORD_MINIMUM_LENGTH` default.
    public static let defaultMinimumLength = 12
    /// Hook0's maximum (also bounds the work of hashing one).
    public static let maximumLength = 100

    public var minimumLength: Int

    public init(minimumLength: Int = Self.defaultMinimumLength) {
        self.minimumLength = minimumLength
    }

    /// The first rule `password` breaks for this account, or nil when it is acceptable.
    public func violation(of password: String, email: String, firstName: String, lastName: String)
        -> PasswordViolation?
    {
        let length = password.count
        if length < minimumLength { return .tooShort }
        if length > Self.maximumLength { return .tooLong }
        let folded = Self.fold(password)
        let canonicalEmail = EmailAddress.canonical(email)
        let localPart = canonicalEmail.split(separator: "@").first.map(String.init) ?? canonicalEmail
        if Self.isSimilar(folded, to: Self.fold(canonicalEmail)) || Self.isSimilar(folded, to: Self.fold(localPart)) {
            return .similarToEmail
        }
        for name in [firstName, lastName, firstName + lastName] where Self.isSimilar(folded, to: Self.fold(name)) {
            return .similarToName
        }
        if CommonPasswords.contains(folded) { return .tooCommon }
        if Set(password).count < 4 { return .notDiverseEnough }
        return nil
    }

    /// Lowercased, with everything but letters and digits removed, so `John.Smith-1990` and `johnsmith1990` compare
    /// equal.
    static func fold(_ text: String) -> String {
        String(text.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) })
    }

    /// Similar: the password is mostly the other value — it contains a piece of it of four or more characters
    /// that covers at least half of the password.
    static func isSimilar(_ password: String, to other: String) -> Bool {
        guard other.count >= 3, !password.isEmpty else { return false }
        if password == other || password.contains(other) && other.count * 2 >= password.count { return true }
        if other.contains(password) { return true }
        let otherCharacters = Array(other)
        let needed = max(4, (password.count + 1) / 2)
        guard otherCharacters.count >= needed else { return false }
        for start in 0...(otherCharacters.count - needed) {
            if password.contains(String(otherCharacters[start..<(start + needed)])) { return true }
        }
        return false
    }
}
