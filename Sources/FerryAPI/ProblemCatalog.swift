import HTTPTypes

/// Every problem Ferry can answer with, by Hook0's stable id (served by `GET /api/v1/errors`).
public enum ProblemCatalog {
    static func make(_ id: String, _ status: HTTPResponse.Status, _ title: String, _ detail: String) -> Problem {
        Problem(id: id, status: status, title: title, detail: detail)
    }

    public static let organizationNameMissing = make(
        "OrganizationNameMissing", .badRequest, "Organization name cannot be empty", "Give the organization a name.")
    public static let organizationIsNotEmpty = make(
        "OrganizationIsNotEmpty", .conflict, "Organization is not empty",
        "Delete every application of this organization before deleting it.")
    public static let applicationNameMissing = make(
        "ApplicationNameMissing", .badRequest, "Application name cannot be empty", "Give the application a name.")
    public static let eventTypeAlreadyExist = make(
        "EventTypeAlreadyExist", .conflict, "This event type already exists", "An event type with this name exists.")
    public static let eventTypeDoesNotExist = make(
        "EventTypeDoesNotExist", .badRequest, "This event type does not exist",
        "Create the event type (or re-create a deleted one) in this application first.")
    public static let unauthorizedWorkers = make(
        "UnauthorizedWorkers", .badRequest, "Dedicated workers are not available",
        "This server has no dedicated workers; omit dedicated_workers or send an empty list.")
    public static let eventAlreadyIngested = make(
        "EventAlreadyIngested", .conflict, "This event has already been ingested",
        "An event with this event_id was already received; it will not be ingested twice.")
    public static let eventInvalidPayloadContentType = make(
        "EventInvalidPayloadContentType", .badRequest, "Invalid event payload content type",
        "payload_content_type must be one of text/plain, application/json, application/octet-stream+base64.")
    public static let eventInvalidBase64Payload = make(
        "EventInvalidBase64Payload", .badRequest, "Invalid event payload",
        "The payload is not valid standard base64.")
    public static let eventInvalidJsonPayload = make(
        "EventInvalidJsonPayload", .badRequest, "Invalid event payload", "The payload is not valid JSON.")
    public static let labelsAmbiguity = make(
        "LabelsAmbiguity", .badRequest, "Labels are ambiguous",
        "Provide either labels, or both label_key and label_value.")
    public static let invalidDateRange = make(
        "InvalidDateRange", .badRequest, "Invalid date range", "`from` must not be after `to`.")
    public static let authNoAuthorizationHeader = make(
        "AuthNoAuthorizationHeader", .unauthorized, "No Authorization header was found",
        "Send `Authorization: Bearer <token>`.")
    public static let authInvalidAuthorizationHeader = make(
        "AuthInvalidAuthorizationHeader", .badRequest, "Authorization header is invalid",
        "The Authorization header could not be read.")
    public static let authInvalidApplicationSecret = make(
        "AuthInvalidApplicationSecret", .forbidden, "Invalid application secret",
        "The application secret is unknown or was revoked.")
    public static let authInvalidBiscuit = make(
        "AuthInvalidBiscuit", .forbidden, "Invalid token", "The token is unknown, malformed or revoked.")
    public static let jsonPayload = make(
        "JsonPayload", .badRequest, "Could not parse JSON body", "The body is not the JSON this route expects.")
    public static let validation = make(
        "Validation", .unprocessableContent, "Provided input is malformed", "The request has invalid fields.")
    /// PostgreSQL cannot store U+0000 in text, so no backend accepts it in any field or parameter.
    public static let nulCharacter = jsonPayload.with(
        detail: "Text must not contain the NUL character (U+0000); send binary payloads as "
            + "application/octet-stream+base64.")
    /// Status 405 with an `Allow` header, under the `NotFound` id: Hook0's closed list of ids has no method error,
    /// and its SDKs type a problem by id, so this is the one they can read ("no such route for this method").
    public static let methodNotAllowed = make(
        "NotFound", .methodNotAllowed, "Method not allowed",
        "This route does not accept this method; the Allow header lists those it does.")
    public static let notFound = make("NotFound", .notFound, "Item not found", "The requested resource does not exist.")
    public static let forbidden = make(
        "Forbidden", .forbidden, "Insufficient rights", "This credential may not act on this resource.")
    public static let internalServerError = make(
        "InternalServerError", .internalServerError, "Internal server error",
        "Something went wrong on the server; it was logged.")
    public static let serviceUnavailable = Problem(
        id: "ServiceUnavailable", status: .serviceUnavailable, title: "Service unavailable",
        detail: "The database is not answering; retry shortly.", retryAfter: 5)
    public static let rateLimited = Problem(
        id: "RateLimited", status: .tooManyRequests, title: "Rate limit exceeded",
        detail: "Too many requests; retry after the delay in Retry-After.", retryAfter: 1)
    /// A body over the size limit: 400 `JsonPayload`, as Hook0 answers it (its JSON extractor refuses the body).
    public static func payloadTooLarge(maxBytes: Int?) -> Problem {
        make(
            "JsonPayload", .badRequest, "Could not parse JSON body",
            maxBytes.map { "Body is too big (maximum is \($0) bytes)" } ?? "Body is too big.")
    }
    public static let bodyTooSlow = make(
        "JsonPayload", .requestTimeout, "Request body too slow", "The request body did not arrive in time.")

    /// Every problem, in a stable order.
    public static let all: [Problem] = [
        organizationNameMissing, organizationIsNotEmpty, applicationNameMissing, eventTypeAlreadyExist,
        eventTypeDoesNotExist, unauthorizedWorkers, eventAlreadyIngested, eventInvalidPayloadContentType,
        eventInvalidBase64Payload,
        eventInvalidJsonPayload, labelsAmbiguity, invalidDateRange, authNoAuthorizationHeader,
        authInvalidAuthorizationHeader, authInvalidApplicationSecret, authInvalidBiscuit, jsonPayload, validation,
        notFound, forbidden, internalServerError, serviceUnavailable, rateLimited,
    ]
}
