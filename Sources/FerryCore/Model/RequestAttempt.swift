import Foundation

/// One try at delivering one event to one subscription; every retry is a new attempt with `retryCount + 1`.
public struct RequestAttempt: Sendable, Equatable {
    public var id: UUID
    public var applicationID: UUID
    public var eventID: UUID
    public var eventType: String
    public var subscriptionID: UUID
    public var subscriptionDescription: String?
    public var createdAt: Date
    public var pickedAt: Date?
    public var failedAt: Date?
    public var succeededAt: Date?
    public var delayUntil: Date?
    public var responseID: UUID?
    public var retryCount: Int
    public var httpResponseStatus: Int?

    public init(
        id: UUID, applicationID: UUID, eventID: UUID, eventType: String, subscriptionID: UUID,
        subscriptionDescription: String?, createdAt: Date, pickedAt: Date?, failedAt: Date?, succeededAt: Date?,
        delayUntil: Date?, responseID: UUID?, retryCount: Int, httpResponseStatus: Int?
    ) {
        self.id = id
        self.applicationID = applicationID
        self.eventID = eventID
        self.eventType = eventType
        self.subscriptionID = subscriptionID
        self.subscriptionDescription = subscriptionDescription
        self.createdAt = createdAt
        self.pickedAt = pickedAt
        self.failedAt = failedAt
        self.succeededAt = succeededAt
        self.delayUntil = delayUntil
        self.responseID = responseID
        self.retryCount = retryCount
        self.httpResponseStatus = httpResponseStatus
    }

    /// Ended without being sent: its subscription or application was disabled or deleted while it waited. Its
    /// Hook0 status is `failed` (it has a failure time and no response); Ferry says which it was.
    public var wasCancelled: Bool { failedAt != nil && responseID == nil }

    /// The attempt's state at `now`, by Hook0's first-match rules (with `in_progress` spelled as decision D9).
    public func status(at now: Date) -> AttemptStatus {
        if let failedAt {
            return .failed(
                at: failedAt,
                processingMilliseconds: Self.milliseconds(from: max(createdAt, delayUntil ?? createdAt), to: failedAt))
        }
        if let succeededAt {
            return .successful(
                at: succeededAt,
                processingMilliseconds: Self.milliseconds(
                    from: max(createdAt, delayUntil ?? createdAt), to: succeededAt))
        }
        if let pickedAt { return .inProgress(since: pickedAt) }
        if let delayUntil, delayUntil > now { return .waiting(since: createdAt, until: delayUntil) }
        return .pending(since: createdAt)
    }

    private static func milliseconds(from start: Date, to end: Date) -> Int {
        max(0, Int((end.timeIntervalSince(start) * 1000).rounded()))
    }
}

/// The lifecycle state of a request attempt as the API reports it.
public enum AttemptStatus: Sendable, Equatable {
    case failed(at: Date, processingMilliseconds: Int)
    case successful(at: Date, processingMilliseconds: Int)
    case inProgress(since: Date)
    case waiting(since: Date, until: Date)
    case pending(since: Date)
}

/// A receiver's answer (or the transport error) recorded for one attempt.
public struct AttemptResponse: Sendable, Equatable {
    public var id: UUID
    public var applicationID: UUID
    public var errorName: ResponseErrorName?
    public var httpCode: Int?
    public var headers: [String: String]?
    public var body: [UInt8]?
    public var bodyTruncated: Bool
    public var elapsedMilliseconds: Int?
    /// The request this answers, as sent (nil for responses recorded before Ferry kept requests).
    public var request: SentRequest?

    public init(
        id: UUID, applicationID: UUID, errorName: ResponseErrorName?, httpCode: Int?, headers: [String: String]?,
        body: [UInt8]?, bodyTruncated: Bool, elapsedMilliseconds: Int?, request: SentRequest? = nil
    ) {
        self.request = request
        self.id = id
        self.applicationID = applicationID
        self.errorName = errorName
        self.httpCode = httpCode
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.elapsedMilliseconds = elapsedMilliseconds
    }
}
