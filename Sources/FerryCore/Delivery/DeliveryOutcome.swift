/// Transport failure names recorded on a response, as Hook0's `response_error__name` values.
public enum ResponseErrorName: String, Sendable, CaseIterable, Codable, Error {
    case unknown = "E_UNKNOWN"
    case invalidHeader = "E_INVALID_HEADER"
    case invalidTarget = "E_INVALID_TARGET"
    case dns = "E_DNS"
    case connection = "E_CONNECTION"
    case timeout = "E_TIMEOUT"
    case http = "E_HTTP"
}

/// What one delivery attempt observed: a receiver's answer or a transport error, and how long it took.
public struct AttemptObservation: Sendable, Equatable {
    public var errorName: ResponseErrorName?
    public var httpStatus: Int?
    public var headers: [String: String]?
    public var body: [UInt8]?
    public var bodyTruncated: Bool
    public var elapsedMilliseconds: Int
    /// The receiver's `Retry-After` in seconds, when it sent one with a 429 or 503.
    public var retryAfterSeconds: Double?
    /// The request that was sent (nil when none could be built), kept with the response.
    public var request: SentRequest?

    public init(
        errorName: ResponseErrorName?, httpStatus: Int? = nil, headers: [String: String]? = nil,
        body: [UInt8]? = nil, bodyTruncated: Bool = false, elapsedMilliseconds: Int,
        retryAfterSeconds: Double? = nil
    ) {
        self.errorName = errorName
        self.httpStatus = httpStatus
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.elapsedMilliseconds = elapsedMilliseconds
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// An observation of an HTTP answer; non-2xx statuses carry `E_HTTP`.
    public static func answered(
        status: Int, headers: [String: String], body: [UInt8], truncated: Bool, elapsedMilliseconds: Int,
        retryAfterSeconds: Double?
    ) -> AttemptObservation {
        AttemptObservation(
            errorName: (200..<300).contains(status) ? nil : .http, httpStatus: status, headers: headers, body: body,
            bodyTruncated: truncated, elapsedMilliseconds: elapsedMilliseconds,
            retryAfterSeconds: (status == 429 || status == 503) ? retryAfterSeconds : nil)
    }

    /// An observation of a transport failure before any answer.
    public static func failed(_ name: ResponseErrorName, elapsedMilliseconds: Int) -> AttemptObservation {
        AttemptObservation(errorName: name, elapsedMilliseconds: elapsedMilliseconds)
    }

    /// How the attempt ends: delivered on 2xx, given up on errors no retry can fix and on 410 Gone (the receiver
    /// says the endpoint is gone for good), otherwise retried.
    public var outcome: DeliveryOutcome {
        if let httpStatus, (200..<300).contains(httpStatus), errorName == nil { return .delivered(status: httpStatus) }
        if httpStatus == 410 { return .permanent(.http) }
        let name = errorName ?? .unknown
        return name == .invalidHeader ? .permanent(name) : .retryable(name)
    }

    /// Why this answer disables the subscription, if it does: a 410 Gone says the endpoint is gone for good, so
    /// Ferry stops sending to it until someone enables it again.
    public var disablingReason: String? {
        httpStatus == 410 ? "the target answered 410 Gone" : nil
    }

    /// Whether the receiver took the delivery (the attempt succeeded).
    public var isDelivered: Bool {
        if case .delivered = outcome { return true }
        return false
    }
}

/// A delivery request as it was sent, as the attempt's history keeps it: method, URL and headers, with the values
/// of credential headers masked (`HeaderSyntax.displayed`), so the history never holds a copy of a secret. The body
/// is the event's payload.
public struct SentRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    /// Header names in lowercase.
    public var headers: [String: String]

    /// The request with `headers` as sent; credential values are masked here.
    public init(method: String, url: String, headers: [String: String]) {
        self.method = method
        self.url = url
        self.headers = Dictionary(
            uniqueKeysWithValues: headers.map { ($0.key, HeaderSyntax.displayed($0.value, named: $0.key)) })
    }

    /// A request as read back from the history (already masked).
    public init(stored method: String, url: String, headers: [String: String]) {
        self.method = method
        self.url = url
        self.headers = headers
    }
}

/// The outcome of a delivery attempt as a value, not a thrown error.
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered(status: Int)
    case retryable(ResponseErrorName)
    case permanent(ResponseErrorName)
}
