import Foundation

/// A tenant: owns applications and service tokens.
public struct Organization: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var createdAt: Date

    public init(id: UUID, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// A producer of events inside an organization; subscriptions and event types belong to it.
public struct Application: Sendable, Equatable {
    public var id: UUID
    public var organizationID: UUID
    public var name: String
    public var createdAt: Date
    /// Days its events are kept; nil: the server's default (`FERRY_RETENTION_DAYS`).
    public var retentionDays: Int?

    public init(id: UUID, organizationID: UUID, name: String, createdAt: Date, retentionDays: Int? = nil) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.createdAt = createdAt
        self.retentionDays = retentionDays
    }
}

/// A bearer credential scoped to one application (a UUID, as in Hook0).
public struct ApplicationSecret: Sendable, Equatable {
    public var token: UUID
    public var applicationID: UUID
    public var name: String?
    public var createdAt: Date
    public var deletedAt: Date?

    public init(token: UUID, applicationID: UUID, name: String?, createdAt: Date, deletedAt: Date? = nil) {
        self.token = token
        self.applicationID = applicationID
        self.name = name
        self.createdAt = createdAt
        self.deletedAt = deletedAt
    }
}

/// An organization-wide bearer credential; only its hash is stored.
public struct ServiceToken: Sendable, Equatable {
    public var id: UUID
    public var organizationID: UUID
    public var name: String
    /// A non-secret prefix of the token, shown in listings so users can tell tokens apart.
    public var displayHint: String
    public var createdAt: Date
    /// The person who created it; nil when the master key, another service token or first start did.
    public var createdBy: UUID?
    /// When it (or a token attenuated from it) last authenticated a request, to the minute
    /// (`ServiceTokenUse.interval`); nil if never.
    public var lastUsedAt: Date?

    public init(
        id: UUID, organizationID: UUID, name: String, displayHint: String, createdAt: Date, createdBy: UUID? = nil,
        lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.displayHint = displayHint
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.lastUsedAt = lastUsedAt
    }
}
