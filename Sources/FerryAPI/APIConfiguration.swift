import FerryCore
import FerryDelivery
import FerryIdentity
import FerryObservability

/// Settings of the HTTP API.
public struct APIConfiguration: Sendable {
    /// The externally visible base URL (scheme, host, port), used in pagination links.
    public var publicURL: String
    /// A UUID bearer with rights on every organization, or nil.
    public var masterAPIKey: String?
    /// Mints and verifies the server's Biscuit tokens with its root key (published in `/instance`).
    public var tokenIssuer: TokenIssuer

    /// Which subscription targets are refused up front (literal non-global addresses, `http` in https-only mode).
    public var targetPolicy: TargetPolicy

    /// Largest request body accepted (400 `JsonPayload` beyond it, as Hook0).
    public var maxRequestBodyBytes: Int
    /// Most events one `POST /event/batch` may carry (400 `JsonPayload` beyond it).
    public var maxBatchEvents: Int
    /// The rate limits of `/api/v1` (`RateLimitMiddleware`).
    public var rateLimits: RateLimits
    /// Proxies whose `Forwarded` / `X-Forwarded-For` name the client (`ClientAddressMiddleware`).
    public var trustedProxies: [CIDR]
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

    /// Registration, passwords and sign-in throttling.
    public var accounts: AccountSettings

    /// Days events are kept when their application sets no retention of its own (shown in quotas).
    public var retentionDays: Int

    /// Every setting the server reads, as `GET /api/v1/environment_variables` lists them (definitions and
    /// defaults, never the values in effect).
    public var documentedSettings: [DocumentedSetting]

    /// How relayed subscriptions' deliveries reach `ferry listen` sessions.
    public var relay: RelaySettings

    public init(
        publicURL: String, masterAPIKey: String? = nil, tokenIssuer: TokenIssuer = .ephemeral(),
        targetPolicy: TargetPolicy = TargetPolicy(),
        maxRequestBodyBytes: Int = 2 * 1024 * 1024, maxBatchEvents: Int = 100, rateLimits: RateLimits = RateLimits(),
        trustedProxies: [CIDR] = [],
        requestBodyTimeout: Duration = .seconds(30),
        storageTimeout: Duration = .seconds(5), metrics: FerryMetrics = .disabled,
        metricsExposition: (@Sendable () -> [UInt8])? = nil, metricsToken: String? = nil,
        healthCheckKey: String? = nil, accounts: AccountSettings = AccountSettings(), retentionDays: Int = 30,
        documentedSettings: [DocumentedSetting] = [], delivery: DeliveryConfiguration = DeliveryConfiguration()
    ) {
        self.relay = RelaySettings(delivery: delivery, storageTimeout: storageTimeout)
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.maxBatchEvents = maxBatchEvents
        self.rateLimits = rateLimits
        self.trustedProxies = trustedProxies
        self.requestBodyTimeout = requestBodyTimeout
        self.storageTimeout = storageTimeout
        self.metrics = metrics
        self.metricsExposition = metricsExposition
        self.metricsToken = metricsToken
        self.healthCheckKey = healthCheckKey
        self.accounts = accounts
        self.retentionDays = retentionDays
        self.documentedSettings = documentedSettings
        self.publicURL = publicURL
        self.masterAPIKey = masterAPIKey
        self.tokenIssuer = tokenIssuer
        self.targetPolicy = targetPolicy
    }
}

/// How the API relays deliveries to `ferry listen` sessions: the delivery settings workers use (retries, signature
/// versions, the stored body limit) and the stream's own pace.
public struct RelaySettings: Sendable {
    public var retryPolicy: RetryPolicy
    public var failingRule: FailingSubscriptionRule
    public var signatureVersions: Set<Hook0Signature.Version>
    public var responseBodyLimit: Int
    /// How long a session has to forward a delivery and post its answer before the attempt is leased again: the
    /// delivery's total timeout and 30 seconds more for the two trips to the session.
    public var lease: Duration
    /// The storage deadline of each claim (a stream lasts longer than any request's deadline).
    public var storageTimeout: Duration
    /// Most attempts of one relayed subscription leased and unanswered at once.
    public var inFlight = 16
    /// A stream ends after this long with a `reconnect` line, so the session authenticates again (a revoked token
    /// or a removed member stops receiving within it).
    public var streamLifetime: Duration = .seconds(300)
    /// A line goes out at least this often, so a session (and the server) notice a dead connection.
    public var heartbeat: Duration = .seconds(10)
    /// Longest wait for new work (or for an answer that frees a place) between claims when nothing signals.
    public var pollInterval: Duration = .milliseconds(250)

    public init(delivery: DeliveryConfiguration, storageTimeout: Duration) {
        retryPolicy = delivery.retryPolicy
        failingRule = delivery.failingRule
        signatureVersions = delivery.signatureVersions
        responseBodyLimit = delivery.responseBodyLimit
        lease = delivery.totalTimeout + .seconds(30)
        self.storageTimeout = storageTimeout
    }
}

/// How people get and use accounts.
public struct AccountSettings: Sendable {
    /// `POST /register` answers 410 `RegistrationDisabled` (Hook0's `DISABLE_REGISTRATION`).
    public var registrationDisabled: Bool
    /// The rules new passwords must meet.
    public var passwordPolicy: PasswordPolicy
    /// How passwords are hashed.
    public var passwordHasher: PasswordHasher
    /// Failed sign-ins one account may have within `loginFailureWindow` before sign-in answers 429.
    public var maxLoginFailuresPerAccount: Int
    /// Failed sign-ins one client address may have within `loginFailureWindow` before sign-in answers 429.
    public var maxLoginFailuresPerAddress: Int
    /// The window failed sign-ins are counted in.
    public var loginFailureWindow: Duration

    public init(
        registrationDisabled: Bool = false, passwordPolicy: PasswordPolicy = PasswordPolicy(),
        passwordHasher: PasswordHasher = PasswordHasher(), maxLoginFailuresPerAccount: Int = 10,
        maxLoginFailuresPerAddress: Int = 100, loginFailureWindow: Duration = .seconds(15 * 60)
    ) {
        self.registrationDisabled = registrationDisabled
        self.passwordPolicy = passwordPolicy
        self.passwordHasher = passwordHasher
        self.maxLoginFailuresPerAccount = maxLoginFailuresPerAccount
        self.maxLoginFailuresPerAddress = maxLoginFailuresPerAddress
        self.loginFailureWindow = loginFailureWindow
    }
}

/// One setting as Hook0's public `GET /api/v1/environment_variables` describes it: its name, environment variable,
/// meaning, default, whether it is a secret, whether it must be set, and the group it belongs to.
public struct DocumentedSetting: Sendable, Equatable {
    public var name: String
    public var environmentVariable: String
    public var description: String
    /// The default value, or nil when the setting has none.
    public var defaultValue: String?
    public var isSensitive: Bool
    public var isRequired: Bool
    public var group: String

    public init(
        name: String, environmentVariable: String, description: String, defaultValue: String?, isSensitive: Bool,
        isRequired: Bool, group: String
    ) {
        self.name = name
        self.environmentVariable = environmentVariable
        self.description = description
        self.defaultValue = defaultValue
        self.isSensitive = isSensitive
        self.isRequired = isRequired
        self.group = group
    }

    /// The JSON object Hook0 answers for one variable.
    var jsonValue: JSONValue {
        .object([
            "name": .string(name), "env_var": .string(environmentVariable), "description": .string(description),
            "default": defaultValue.map(JSONValue.string) ?? .null, "sensitive": .bool(isSensitive),
            "required": .bool(isRequired), "group": .string(group),
        ])
    }
}
