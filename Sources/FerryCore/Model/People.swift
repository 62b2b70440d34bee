import Foundation

/// A member's role in an organization, as Hook0 spells it (`organization_role` facts, invitation bodies).
public enum OrganizationRole: String, Sendable, CaseIterable, Codable {
    /// May do everything in the organization.
    case editor
    /// May read only (Hook0's viewer-allowed actions).
    case viewer
}

/// A person with an account: signs in with an e-mail address and a password, and belongs to organizations.
public struct User: Sendable, Equatable {
    public var id: UUID
    /// Stored as given; compared without regard to case (`EmailAddress.canonical`).
    public var email: String
    public var firstName: String
    public var lastName: String
    public var createdAt: Date
    /// When the person proved the address is theirs; nil until then (they cannot sign in before).
    public var emailVerifiedAt: Date?
    /// When an operator disabled the account (`ferry users disable`); a disabled account cannot sign in and its
    /// tokens stop working at once.
    public var disabledAt: Date?
    public var lastLoginAt: Date?

    public init(
        id: UUID, email: String, firstName: String, lastName: String, createdAt: Date, emailVerifiedAt: Date? = nil,
        disabledAt: Date? = nil, lastLoginAt: Date? = nil
    ) {
        self.id = id
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.createdAt = createdAt
        self.emailVerifiedAt = emailVerifiedAt
        self.disabledAt = disabledAt
        self.lastLoginAt = lastLoginAt
    }
}

/// A person's membership of an organization, as `OrganizationInfo.users` lists it.
public struct Member: Sendable, Equatable {
    public var user: User
    public var role: OrganizationRole

    public init(user: User, role: OrganizationRole) {
        self.user = user
        self.role = role
    }
}

/// An invitation to an organization for an e-mail address that has no account yet: a single-use link lets its
/// holder register and join in one step.
public struct PendingInvitation: Sendable, Equatable {
    public var id: UUID
    public var organizationID: UUID
    public var email: String
    public var role: OrganizationRole
    public var createdAt: Date
    public var expiresAt: Date

    public init(id: UUID, organizationID: UUID, email: String, role: OrganizationRole, createdAt: Date, expiresAt: Date)
    {
        self.id = id
        self.organizationID = organizationID
        self.email = email
        self.role = role
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
