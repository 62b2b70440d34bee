/// What a request does, named as Hook0's authorizer names it in the ambient `action("resource:verb")` fact, with
/// Hook0's split between what a viewer may do, what needs an editor, and what only a signed-in person may do.
public enum APIAction: String, Sendable, CaseIterable {
    case organizationList = "organization:list"
    case organizationCreate = "organization:create"
    case organizationGet = "organization:get"
    case organizationEdit = "organization:edit"
    case organizationInvite = "organization:invite"
    case organizationRevoke = "organization:revoke"
    case organizationEditRole = "organization:edit_role"
    case organizationDelete = "organization:delete"
    case serviceTokenList = "service_token:list"
    case serviceTokenCreate = "service_token:create"
    case serviceTokenGet = "service_token:get"
    case serviceTokenEdit = "service_token:edit"
    case serviceTokenDelete = "service_token:delete"
    case applicationList = "application:list"
    case applicationCreate = "application:create"
    case applicationGet = "application:get"
    case applicationEdit = "application:edit"
    case applicationDelete = "application:delete"
    case applicationSecretList = "application_secret:list"
    case applicationSecretCreate = "application_secret:create"
    case applicationSecretEdit = "application_secret:edit"
    case applicationSecretDelete = "application_secret:delete"
    case eventTypeList = "event_type:list"
    case eventTypeCreate = "event_type:create"
    case eventTypeGet = "event_type:get"
    case eventTypeDelete = "event_type:delete"
    case subscriptionList = "subscription:list"
    case subscriptionCreate = "subscription:create"
    case subscriptionGet = "subscription:get"
    case subscriptionEdit = "subscription:edit"
    case subscriptionDelete = "subscription:delete"
    case eventList = "event:list"
    case eventGet = "event:get"
    case eventIngest = "event:ingest"
    case eventReplay = "event:replay"
    case requestAttemptList = "request_attempt:list"
    case requestAttemptGet = "request_attempt:get"
    case responseGet = "response:get"
    case eventsPerDayApplication = "events_per_day:application"
    case eventsPerDayOrganization = "events_per_day:organization"
    case authLogout = "auth:logout"
    case authChangePassword = "auth:change_password"

    /// Whether a member with the `viewer` role may do this (Hook0's read-only actions); others need `editor`.
    public var viewerMayPerform: Bool {
        switch self {
        case .organizationGet, .applicationList, .applicationGet, .eventTypeList, .eventTypeGet, .subscriptionList,
            .subscriptionGet, .eventList, .eventGet, .requestAttemptList, .requestAttemptGet, .responseGet,
            .eventsPerDayApplication, .eventsPerDayOrganization:
            true
        default:
            false
        }
    }

    /// Whether only a signed-in person (a `user_access` token) may do this, never a service token or the master key.
    public var onlyPeopleMayPerform: Bool {
        switch self {
        case .organizationCreate, .authLogout, .authChangePassword: true
        default: false
        }
    }

    /// Whether the action targets one organization (directly, or through one of its applications). The others
    /// (`organization:list`, `organization:create`, `auth:*`) are authorized without one.
    public var targetsAnOrganization: Bool {
        switch self {
        case .organizationList, .organizationCreate, .authLogout, .authChangePassword: false
        default: true
        }
    }
}
