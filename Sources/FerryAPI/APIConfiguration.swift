import FerryCore

/// Settings of the HTTP API.
public struct APIConfiguration: Sendable {
    /// The externally visible base URL (scheme, host, port), used in pagination links.
    public var publicURL: String
    /// A UUID bearer with rights on every organization, or nil.
    public var masterAPIKey: String?

    /// Which subscription targets are refused up front (literal non-global addresses, `http` in https-only mode).
    public var targetPolicy: TargetPolicy

    /// Recognises the storage backend's "unavailable, retry later" failures (answered 503 + Retry-After).
    public var isTransientStorageFailure: @Sendable (any Error) -> Bool

    public init(
        publicURL: String, masterAPIKey: String? = nil, targetPolicy: TargetPolicy = TargetPolicy(),
        isTransientStorageFailure: @escaping @Sendable (any Error) -> Bool = { _ in false }
    ) {
        self.publicURL = publicURL
        self.masterAPIKey = masterAPIKey
        self.targetPolicy = targetPolicy
        self.isTransientStorageFailure = isTransientStorageFailure
    }
}
