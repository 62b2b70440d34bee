import FerryCore
import FerryObservability

/// Settings of the HTTP API.
public struct APIConfiguration: Sendable {
    /// The externally visible base URL (scheme, host, port), used in pagination links.
    public var publicURL: String
    /// A UUID bearer with rights on every organization, or nil.
    public var masterAPIKey: String?

    /// Which subscription targets are refused up front (literal non-global addresses, `http` in https-only mode).
    public var targetPolicy: TargetPolicy

    /// Largest request body accepted (413 beyond it).
    public var maxRequestBodyBytes: Int
    /// Longest a client may take to send a request body (408 beyond it).
    public var requestBodyTimeout: Duration
    /// Longest a request may wait on storage in all, over every statement it runs, before it is answered 503.
    public var storageTimeout: Duration

    /// Where the API records its metrics (events ingested, ingest latency) and sets the queue gauges on a scrape.
    public var metrics: FerryMetrics
    /// Renders every metric of the process in the Prometheus text format; nil serves no `/metrics`.
    public var metricsExposition: (@Sendable () -> [UInt8])?
    /// A bearer token `/metrics` requires; nil or empty leaves it open (bind the API to a private address then).
    public var metricsToken: String?
    /// The `?key=` `/api/v1/health` requires; nil or empty leaves it open.
    public var healthCheckKey: String?

    /// Days events are kept when their application sets no retention of its own (shown in quotas).
    public var retentionDays: Int

    /// Recognises the storage backend's "unavailable, retry later" failures (answered 503 + Retry-After).
    public var isTransientStorageFailure: @Sendable (any Error) -> Bool

    public init(
        publicURL: String, masterAPIKey: String? = nil, targetPolicy: TargetPolicy = TargetPolicy(),
        maxRequestBodyBytes: Int = 2 * 1024 * 1024, requestBodyTimeout: Duration = .seconds(30),
        storageTimeout: Duration = .seconds(5), metrics: FerryMetrics = .disabled,
        metricsExposition: (@Sendable () -> [UInt8])? = nil, metricsToken: String? = nil,
        healthCheckKey: String? = nil, retentionDays: Int = 30,
        isTransientStorageFailure: @escaping @Sendable (any Error) -> Bool = { _ in false }
    ) {
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.requestBodyTimeout = requestBodyTimeout
        self.storageTimeout = storageTimeout
        self.metrics = metrics
        self.metricsExposition = metricsExposition
        self.metricsToken = metricsToken
        self.healthCheckKey = healthCheckKey
        self.retentionDays = retentionDays
        self.publicURL = publicURL
        self.masterAPIKey = masterAPIKey
        self.targetPolicy = targetPolicy
        self.isTransientStorageFailure = isTransientStorageFailure
    }
}
