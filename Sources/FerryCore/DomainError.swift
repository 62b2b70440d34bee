/// Failures a client can cause, named as Hook0's stable problem ids; FerryAPI maps each to an HTTP problem.
public enum DomainError: Error, Sendable, Equatable {
    /// One or more fields broke a rule (`Validation`).
    case validation(ValidationErrors)
    /// The resource does not exist or is not visible to the caller (`NotFound`).
    case notFound
    /// The caller may not act on this resource (`Forbidden`).
    case forbidden
    /// An event or subscription names an event type the application does not have (`EventTypeDoesNotExist`).
    case eventTypeDoesNotExist
    /// An event with this id was already ingested (`EventAlreadyIngested`).
    case eventAlreadyIngested
    /// `payload_content_type` is not one Ferry knows (`EventInvalidPayloadContentType`).
    case invalidPayloadContentType
    /// A base64 payload does not decode (`EventInvalidBase64Payload`).
    case invalidBase64Payload
    /// A JSON payload does not parse (`EventInvalidJsonPayload`).
    case invalidJSONPayload
    /// A subscription has neither `labels` nor `label_key` + `label_value` (`LabelsAmbiguity`).
    case labelsAmbiguity
    /// The organization still has applications (`OrganizationIsNotEmpty`).
    case organizationIsNotEmpty
    /// `from` is after `to` (`InvalidDateRange`).
    case invalidDateRange
    /// An account with this e-mail address exists (`UserAlreadyExist`).
    case userAlreadyExists
    /// The invited person is already a member of the organization (`InvitedUserAlreadyInOrganization`).
    case invitedUserAlreadyInOrganization
    /// The change would leave the organization without an editor (403 `Forbidden`, a Ferry addition).
    case lastEditor
    /// An organization's name is blank (`OrganizationNameMissing`).
    case organizationNameMissing
    /// An application's name is blank (`ApplicationNameMissing`).
    case applicationNameMissing
    /// A subscription asks for dedicated workers, which this server does not offer (`UnauthorizedWorkers`).
    case unauthorizedWorkers
    /// The request body is not the JSON the route expects (`JsonPayload`).
    case malformedBody(String)
}
