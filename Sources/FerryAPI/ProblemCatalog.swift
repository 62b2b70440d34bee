import FerryCore
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
    /// A query parameter missing or malformed: Hook0's id (its extractor error), with a title that says so.
    public static func queryParameter(_ detail: String) -> Problem {
        make("JsonPayload", .badRequest, "Invalid query parameter", detail)
    }
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

    public static let userAlreadyExist = make(
        "UserAlreadyExist", .conflict, "This user already exist", "An account with this e-mail address exists.")
    public static let registrationDisabled = make(
        "RegistrationDisabled", .gone, "Registrations are disabled",
        "This server does not accept new accounts; ask its operator for one.")
    public static let invitedUserDoesNotExist = make(
        "InvitedUserDoesNotExist", .notFound, "User does not exist", "No account has this id.")
    public static let invitedUserAlreadyInOrganization = make(
        "InvitedUserAlreadyInOrganization", .conflict, "User is already a member",
        "This person is already a member of the organization.")
    public static let invalidRole = make(
        "InvalidRole", .badRequest, "Invalid role", "A role is `editor` or `viewer`.")
    /// Hook0 has no id for this refusal and its SDKs refuse unknown ids, so it is a `Forbidden` with its own detail.
    public static let lastEditor = make(
        "Forbidden", .forbidden, "The organization needs an editor",
        "This is the organization's last editor; make someone else an editor first.")
    public static let authFailedLogin = make(
        "AuthFailedLogin", .unauthorized, "Login failed", "The e-mail address or the password is wrong.")
    public static let authEmailNotVerified = make(
        "AuthEmailNotVerified", .unauthorized, "E-mail address not verified",
        "Follow the link in the verification e-mail first (or ask for a new one).")
    public static let authEmailAlreadyVerified = make(
        "AuthEmailAlreadyVerified", .conflict, "E-mail address already verified", "This address is verified.")
    public static let authFailedRefresh = make(
        "AuthFailedRefresh", .unauthorized, "Refresh failed", "This refresh token is not valid; sign in again.")
    public static let authEmailExpired = make(
        "AuthEmailExpired", .unauthorized, "Link expired or already used",
        "This link is not valid any more; ask for a new one.")
    public static let authCurrentPasswordWrong = make(
        "AuthFailedLogin", .unauthorized, "Current password is wrong",
        "Changing the password needs the current one in `current_password`.")
    public static func invitationSentRecently(retryAfter: Int) -> Problem {
        Problem(
            id: "RateLimited", status: .tooManyRequests, title: "Invitation sent recently",
            detail: "An invitation is sent at most once a minute; retry after the delay in Retry-After.",
            retryAfter: retryAfter)
    }
    public static func loginThrottled(retryAfter: Int) -> Problem {
        Problem(
            id: "RateLimited", status: .tooManyRequests, title: "Too many failed sign-ins",
            detail: "Too many failed sign-ins; retry after the delay in Retry-After.", retryAfter: retryAfter)
    }
    public static func password(_ violation: PasswordViolation, minimumLength: Int) -> Problem {
        switch violation {
        case .tooShort:
            return make(
                violation.rawValue, .badRequest, "Password is too short",
                "A password has at least \(minimumLength) characters.")
        case .tooLong:
            return make(
                violation.rawValue, .badRequest, "Password is too long",
                "A password has at most \(PasswordPolicy.maximumLength) characters.")
        case .similarToEmail:
            return make(
                violation.rawValue, .badRequest, "Password is too similar to the e-mail address",
                "Choose a password that is not built from your e-mail address.")
        case .similarToName:
            return make(
                violation.rawValue, .badRequest, "Password is too similar to your name",
                "Choose a password that is not built from your name.")
        case .tooCommon:
            return make(
                violation.rawValue, .badRequest, "Password is too common",
                "This password is among the most used ones; choose another.")
        case .notDiverseEnough:
            return make(
                violation.rawValue, .badRequest, "Password is not diverse enough",
                "A password has at least 4 different characters.")
        }
    }

    /// Every problem, in a stable order.
    public static let all: [Problem] =
        [
            organizationNameMissing, organizationIsNotEmpty, applicationNameMissing, eventTypeAlreadyExist,
            eventTypeDoesNotExist, unauthorizedWorkers, eventAlreadyIngested, eventInvalidPayloadContentType,
            eventInvalidBase64Payload,
            eventInvalidJsonPayload, labelsAmbiguity, invalidDateRange, authNoAuthorizationHeader,
            authInvalidAuthorizationHeader, authInvalidApplicationSecret, authInvalidBiscuit, jsonPayload, validation,
            notFound, forbidden, internalServerError, serviceUnavailable, rateLimited, userAlreadyExist,
            registrationDisabled, invitedUserDoesNotExist, invitedUserAlreadyInOrganization, invalidRole,
            authFailedLogin, authEmailNotVerified, authEmailAlreadyVerified, authFailedRefresh, authEmailExpired,
        ] + PasswordViolation.allCases.map { password($0, minimumLength: PasswordPolicy.defaultMinimumLength) }
}
