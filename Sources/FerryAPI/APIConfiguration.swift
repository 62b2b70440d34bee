/// Settings of the HTTP API.
public struct APIConfiguration: Sendable {
    /// The externally visible base URL (scheme, host, port), used in pagination links.
    public var publicURL: String
    /// A UUID bearer with rights on every organization, or nil.
    public var masterAPIKey: String?

    public init(publicURL: String, masterAPIKey: String? = nil) {
        self.publicURL = publicURL
        self.masterAPIKey = masterAPIKey
    }
}
