import Foundation

/// The field rules of Ferry's resources outside the submissions (names, retention, invitations, revocation ids),
/// in Hook0's order where Hook0 has one: the field validator first (so `""` is 422 `Validation`), then the blank
/// check (400).
public enum ResourceRules {
    /// Longest retention an application may ask for, in days (100 years).
    public static let maximumRetentionDays = 36_500

    /// An organization's name: 2–50 characters, not blank.
    public static func validateOrganizationName(_ name: String) throws {
        try requireLength(name, field: "name", min: 2, max: 50)
        if isBlank(name) { throw DomainError.organizationNameMissing }
    }

    /// An application's name: 2–50 characters, not blank.
    public static func validateApplicationName(_ name: String) throws {
        try requireLength(name, field: "name", min: 2, max: 50)
        if isBlank(name) { throw DomainError.applicationNameMissing }
    }

    /// An application's own retention: 1 to `maximumRetentionDays` days.
    public static func validateRetention(days: Int) throws {
        guard !(1...maximumRetentionDays).contains(days) else { return }
        var errors = ValidationErrors()
        errors.add(
            "days_of_events_retention_limit",
            ValidationIssue(
                code: "range", message: "between 1 and \(maximumRetentionDays) days",
                params: [
                    "min": .number(1), "max": .number(Double(maximumRetentionDays)), "value": .number(Double(days)),
                ]))
        throw DomainError.validation(errors)
    }

    /// An application secret's optional name, or a service token's name: at most 50 characters and no minimum
    /// (Hook0 accepts an empty name).
    public static func validateLabelName(_ name: String?) throws {
        guard let name else { return }
        try requireLength(name, field: "name", min: 0, max: 50)
    }

    /// The address an invitation goes to.
    public static func validateInvitationEmail(_ email: String) throws {
        guard !EmailAddress.isValid(email.trimmingCharacters(in: .whitespaces)) else { return }
        var errors = ValidationErrors()
        errors.add("email", ValidationIssue(code: "email", message: nil))
        throw DomainError.validation(errors)
    }

    /// A Biscuit block's revocation id as Ferry lists them: 128 hexadecimal digits (a 64-byte signature).
    public static func validateRevocationID(_ id: String) throws {
        guard id.count != 128 || !id.allSatisfy(\.isHexDigit) else { return }
        var errors = ValidationErrors()
        errors.add("revocation_id", ValidationIssue(code: "revocation_id", message: "128 hexadecimal digits"))
        throw DomainError.validation(errors)
    }

    private static func requireLength(_ value: String, field: String, min: Int, max: Int) throws {
        var errors = ValidationErrors()
        Validator.length(value, field: field, min: min, max: max, into: &errors)
        if !errors.isEmpty { throw DomainError.validation(errors) }
    }

    private static func isBlank(_ value: String) -> Bool {
        value.trimmingCharacters(in: .whitespaces).isEmpty
    }
}
