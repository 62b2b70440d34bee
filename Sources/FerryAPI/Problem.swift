import FerryCore
import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 7807 problem (`application/problem+json`) carrying one of Hook0's stable ids.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var id: String
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    public var validation: JSONValue?
    /// Seconds for a `Retry-After` header (sent with 429 and 503).
    public var retryAfter: Int?

    public init(
        id: String, status: HTTPResponse.Status, title: String, detail: String, validation: JSONValue? = nil,
        retryAfter: Int? = nil
    ) {
        self.id = id
        self.status = status
        self.title = title
        self.detail = detail
        self.validation = validation
        self.retryAfter = retryAfter
    }

    /// The `type` URI of this problem.
    public var type: String { "https://documentation.hook0.com/reference/error-codes#\(id.lowercased())" }

    /// The problem's JSON body.
    public var body: JSONValue {
        .object([
            "type": .string(type), "title": .string(title), "status": .number(Double(status.code)),
            "detail": .string(detail), "id": .string(id), "validation": validation ?? .null,
        ])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The `application/problem+json` response for this problem.
    public func response() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let data = body.encoded()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Problem {
    /// The problem for a domain error.
    public init(_ error: DomainError) {
        switch error {
        case .validation(let errors):
            self = ProblemCatalog.validation.with(
                detail: "The request has invalid fields: \(errors.summary).", validation: errors.jsonValue)
        case .notFound: self = ProblemCatalog.notFound
        case .forbidden: self = ProblemCatalog.forbidden
        case .eventTypeDoesNotExist: self = ProblemCatalog.eventTypeDoesNotExist
        case .eventAlreadyIngested: self = ProblemCatalog.eventAlreadyIngested
        case .invalidPayloadContentType: self = ProblemCatalog.eventInvalidPayloadContentType
        case .invalidBase64Payload: self = ProblemCatalog.eventInvalidBase64Payload
        case .invalidJSONPayload: self = ProblemCatalog.eventInvalidJsonPayload
        case .labelsAmbiguity: self = ProblemCatalog.labelsAmbiguity
        case .organizationIsNotEmpty: self = ProblemCatalog.organizationIsNotEmpty
        case .invalidDateRange: self = ProblemCatalog.invalidDateRange
        case .userAlreadyExists: self = ProblemCatalog.userAlreadyExist
        case .invitedUserAlreadyInOrganization: self = ProblemCatalog.invitedUserAlreadyInOrganization
        case .lastEditor: self = ProblemCatalog.lastEditor
        case .organizationNameMissing: self = ProblemCatalog.organizationNameMissing
        case .applicationNameMissing: self = ProblemCatalog.applicationNameMissing
        case .unauthorizedWorkers: self = ProblemCatalog.unauthorizedWorkers
        case .malformedBody(let reason): self = ProblemCatalog.jsonPayload.with(detail: reason)
        }
    }

    /// A copy with another detail (and validation object).
    public func with(detail: String, validation: JSONValue? = nil) -> Problem {
        var copy = self
        copy.detail = detail
        if let validation { copy.validation = validation }
        return copy
    }
}
