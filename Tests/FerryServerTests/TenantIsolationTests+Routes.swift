import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Testing

extension TenantIsolationTests {
    /// Who calls: the three credential kinds, no credential, and credentials that no longer work.
    enum Caller: String, CaseIterable, Sendable {
        case master, serviceTokenA, secretA1, anonymous, revokedServiceTokenA, deletedSecretA1
        /// People signed in with an access token: an editor and a viewer of organization A (and of nothing else
        /// but their own personal organization).
        case editorA, viewerA

        var isValid: Bool { ![.anonymous, .revokedServiceTokenA, .deletedSecretA1].contains(self) }
        var isPerson: Bool { self == .editorA || self == .viewerA }
    }

    /// What a cell aims at, seen from the caller's own tenant (organization A, application A1).
    enum Target: String, Sendable {
        /// A route without a tenant parameter.
        case unscoped
        /// Organization A / application A1 and their resources.
        case own
        /// Organization B / application B1 and their resources.
        case otherOrganization
        /// Application A2 (same organization A) and its resources.
        case siblingApplication
        /// An organization or application id that does not exist (with a real resource id of A1, if any).
        case unknownScope
        /// Application A1 (or organization A) with a resource id that does not exist.
        case unknownChild
        /// Application A1 (or organization A) with a resource id of B1 (or B).
        case foreignChild
        /// Application A1 with a resource id of A2.
        case siblingChild

        var isChildMismatch: Bool { self == .unknownChild || self == .foreignChild || self == .siblingChild }
    }

    /// The scope and resource id a cell's request is built from.
    struct Resolved: Sendable {
        var scope: AppFixture
        var child: String
    }

    /// One route: how to build its request, what it is scoped by, and what an allowed call answers.
    struct Route: Sendable {
        enum Scope: Sendable {
            /// Public: no credential needed.
            case unscoped
            /// `GET /organizations`: every credential but an application secret.
            case organizationList
            /// `POST /organizations`: the master key only.
            case masterOnly
            /// `/auth/logout`, `/auth/password`: a person's own session, no other credential.
            case personOnly
            /// An `organization_id` in the path, query or body.
            case organization
            /// An `application_id` in the path, query or body.
            case application
            /// `GET /subscriptions/{id}`: the application is the subscription's own.
            case subscriptionOwner
        }

        /// The resource id a route names besides its scope.
        enum Child: Sendable {
            case serviceToken, secret, eventType, subscription, event, attempt, response, invitation
        }

        enum Effect: Sendable {
            case plain
            /// The child is a list filter: an unknown or foreign one gives an empty 200 list.
            case filter
            /// The route deletes its child: every cell deletes a fresh victim made by the master key.
            case deletesChild
            /// The route spends its child (an invitation sent again cannot be sent again for a minute): every cell
            /// gets a fresh victim too.
            case spendsChild
            /// The route deletes its scope (the application): every cell deletes a fresh victim application.
            case deletesScope
        }

        var name: String
        var method: HTTPRequest.Method
        var scope: Scope
        var allowed: Int
        var child: Child?
        var effect: Effect
        var path: @Sendable (Resolved) -> String
        var body: @Sendable (Resolved) -> JSONValue?
        /// The problem `id` of a permitted call whose answer is an error (a wrong current password).
        var allowedProblem: String?

        /// Whether a viewer may call it (Hook0's viewer actions): the reads, but not of service tokens,
        /// application secrets or pending invitations.
        var viewerMay: Bool {
            method == .get && !name.contains("service_token") && !name.contains("application_secrets")
                && !name.contains("invitations")
        }

        init(
            _ name: String, _ method: HTTPRequest.Method, _ scope: Scope, _ allowed: Int, child: Child? = nil,
            effect: Effect = .plain, allowedProblem: String? = nil, path: @escaping @Sendable (Resolved) -> String,
            body: @escaping @Sendable (Resolved) -> JSONValue? = { _ in nil }
        ) {
            self.name = name
            self.method = method
            self.scope = scope
            self.allowed = allowed
            self.child = child
            self.effect = effect
            self.allowedProblem = allowedProblem
            self.path = path
            self.body = body
        }
    }

    /// One cell of the matrix.
    struct Cell: Sendable {
        var route: Route
        var caller: Caller
        var target: Target
        var expected: Int

        var label: String { "\(route.name) as \(caller) on \(target)" }
    }

    /// Every route of `/api/v1`; `allowed` is the status of a permitted call.
    static var routes: [Route] {
        let all: [[Route]] = [
            publicAndOrganizationRoutes, peopleAndMemberRoutes, applicationRoutes, eventRoutes,
        ]
        return all.flatMap { $0 }
    }

    /// Public routes and routes scoped by an organization.
    static var publicAndOrganizationRoutes: [Route] {
        [
            Route("GET /instance", .get, .unscoped, 200, path: { _ in "/api/v1/instance" }),
            Route("GET /quotas", .get, .unscoped, 200, path: { _ in "/api/v1/quotas" }),
            Route("GET /health", .get, .unscoped, 200, path: { _ in "/api/v1/health" }),
            Route("GET /health/live", .get, .unscoped, 200, path: { _ in "/health/live" }),
            Route("GET /health/ready", .get, .unscoped, 200, path: { _ in "/health/ready" }),
            Route("GET /errors", .get, .unscoped, 200, path: { _ in "/api/v1/errors" }),
            Route("GET /payload_content_types", .get, .unscoped, 200, path: { _ in "/api/v1/payload_content_types" }),
            Route("GET /swagger.json", .get, .unscoped, 200, path: { _ in "/api/v1/swagger.json" }),
            Route("GET /openapi.json", .get, .unscoped, 200, path: { _ in "/api/v1/openapi.json" }),
            Route("GET /organizations", .get, .organizationList, 200, path: { _ in "/api/v1/organizations" }),
            Route(
                "POST /organizations", .post, .masterOnly, 200, path: { _ in "/api/v1/organizations" },
                body: { _ in .object(["name": "matrix org"]) }),
            Route(
                "GET /organizations/{id}", .get, .organization, 200,
                path: { "/api/v1/organizations/\($0.scope.organization.id)" }),
            Route(
                "PUT /organizations/{id}", .put, .organization, 200,
                path: { "/api/v1/organizations/\($0.scope.organization.id)" },
                body: { .object(["name": .string($0.scope.organization.name)]) }),
            Route(
                "GET /organizations/{id}/operational_events", .get, .organization, 200,
                path: { "/api/v1/organizations/\($0.scope.organization.id)/operational_events" }),
            Route(
                "PUT /organizations/{id}/operational_events", .put, .organization, 200,
                path: { "/api/v1/organizations/\($0.scope.organization.id)/operational_events" },
                body: { _ in .object(["application_id": .null]) }),
            Route(
                "DELETE /organizations/{id} (not empty)", .delete, .organization, 409,
                path: { "/api/v1/organizations/\($0.scope.organization.id)" }),
            Route(
                "GET /applications", .get, .organization, 200,
                path: { "/api/v1/applications?organization_id=\($0.scope.organization.id)" }),
            Route(
                "POST /applications", .post, .organization, 201, path: { _ in "/api/v1/applications" },
                body: { .object(["organization_id": .string($0.scope.organization.id), "name": "matrix app"]) }),
            Route(
                "GET /service_token", .get, .organization, 200,
                path: { "/api/v1/service_token?organization_id=\($0.scope.organization.id)" }),
            Route(
                "POST /service_token", .post, .organization, 201, path: { _ in "/api/v1/service_token" },
                body: { .object(["organization_id": .string($0.scope.organization.id), "name": "matrix"]) }),
            Route(
                "GET /service_token/{id}", .get, .organization, 200, child: .serviceToken,
                path: { "/api/v1/service_token/\($0.child)?organization_id=\($0.scope.organization.id)" }),
            Route(
                "PUT /service_token/{id}", .put, .organization, 200, child: .serviceToken,
                path: { "/api/v1/service_token/\($0.child)" },
                body: { .object(["organization_id": .string($0.scope.organization.id), "name": "ci"]) }),
            Route(
                "DELETE /service_token/{id}", .delete, .organization, 204, child: .serviceToken, effect: .deletesChild,
                path: { "/api/v1/service_token/\($0.child)?organization_id=\($0.scope.organization.id)" }),
            Route(
                "GET /events_per_day/organization", .get, .organization, 200,
                path: { "/api/v1/events_per_day/organization?organization_id=\($0.scope.organization.id)" }),
        ]
    }

    /// A person's own session, members and invitations of an organization, and service tokens' attenuation and
    /// deny-list.
    static var peopleAndMemberRoutes: [Route] {
        // Nobody has this id: role changes and removals of it change nothing, so no cell disturbs another.
        let stranger = "00000000-0000-4000-8000-00000000beef"
        return [
            Route(
                "POST /auth/logout", .post, .personOnly, 204, path: { _ in "/api/v1/auth/logout" }),
            Route(
                "POST /auth/password (wrong current password)", .post, .personOnly, 401,
                allowedProblem: "AuthFailedLogin", path: { _ in "/api/v1/auth/password" },
                body: { _ in
                    .object(["current_password": "not-the-password-1", "new_password": "another-long-password-2"])
                }),
            Route(
                "POST /organizations/{id}/invite", .post, .organization, 200,
                path: { "/api/v1/organizations/\($0.scope.organization.id)/invite" },
                body: { _ in .object(["email": "matrix-invitee@example.com", "role": "viewer"]) }),
            Route(
                "PUT /organizations/{id}/invite", .put, .organization, 200,
                path: { "/api/v1/organizations/\($0.scope.organization.id)/invite" },
                body: { _ in .object(["user_id": .string(stranger), "role": "viewer"]) }),
            Route(
                "DELETE /organizations/{id}/invite", .delete, .organization, 200,
                path: { "/api/v1/organizations/\($0.scope.organization.id)/invite" },
                body: { _ in .object(["user_id": .string(stranger)]) }),
            Route(
                "GET /organizations/{id}/invitations", .get, .organization, 200,
                path: { "/api/v1/organizations/\($0.scope.organization.id)/invitations" }),
            Route(
                "DELETE /organizations/{id}/invitations/{id}", .delete, .organization, 204, child: .invitation,
                effect: .deletesChild,
                path: { "/api/v1/organizations/\($0.scope.organization.id)/invitations/\($0.child)" }),
            Route(
                "POST /organizations/{id}/invitations/{id}/resend", .post, .organization, 200, child: .invitation,
                effect: .spendsChild,
                path: { "/api/v1/organizations/\($0.scope.organization.id)/invitations/\($0.child)/resend" }),
            Route(
                "POST /service_token/{id}/attenuate", .post, .organization, 201, child: .serviceToken,
                path: { "/api/v1/service_token/\($0.child)/attenuate" },
                body: {
                    .object([
                        "organization_id": .string($0.scope.organization.id),
                        "biscuit": .string($0.scope.organization.bearer), "preset": "read_only",
                    ])
                }),
            Route(
                "POST /service_token/{id}/denied_blocks", .post, .organization, 204, child: .serviceToken,
                path: { "/api/v1/service_token/\($0.child)/denied_blocks" },
                body: {
                    .object([
                        "organization_id": .string($0.scope.organization.id),
                        "revocation_id": .string(String(repeating: "ab", count: 64)),
                    ])
                }),
        ]
    }

    /// Routes scoped by an application: applications, secrets, event types and subscriptions.
    static var applicationRoutes: [Route] {
        [
            Route("GET /applications/{id}", .get, .application, 200, path: { "/api/v1/applications/\($0.scope.id)" }),
            Route(
                "PUT /applications/{id}", .put, .application, 200, path: { "/api/v1/applications/\($0.scope.id)" },
                body: {
                    .object(["organization_id": .string($0.scope.organization.id), "name": .string($0.scope.name)])
                }),
            Route(
                "DELETE /applications/{id}", .delete, .application, 204, effect: .deletesScope,
                path: { "/api/v1/applications/\($0.scope.id)" }),
            Route(
                "GET /application_secrets", .get, .application, 200,
                path: { "/api/v1/application_secrets?application_id=\($0.scope.id)" }),
            Route(
                "POST /application_secrets", .post, .application, 201, path: { _ in "/api/v1/application_secrets" },
                body: { .object(["application_id": .string($0.scope.id), "name": "matrix"]) }),
            Route(
                "PUT /application_secrets/{token}", .put, .application, 200, child: .secret,
                path: { "/api/v1/application_secrets/\($0.child)" },
                body: { .object(["application_id": .string($0.scope.id), "name": "renamed"]) }),
            Route(
                "DELETE /application_secrets/{token}", .delete, .application, 204, child: .secret,
                effect: .deletesChild,
                path: { "/api/v1/application_secrets/\($0.child)?application_id=\($0.scope.id)" }),
            Route(
                "GET /event_types", .get, .application, 200,
                path: { "/api/v1/event_types?application_id=\($0.scope.id)" }),
            Route(
                "POST /event_types", .post, .application, 201, path: { _ in "/api/v1/event_types" },
                body: {
                    .object([
                        "application_id": .string($0.scope.id), "service": "matrix", "resource_type": "thing",
                        "verb": "made",
                    ])
                }),
            Route(
                "GET /event_types/{name}", .get, .application, 200, child: .eventType,
                path: { "/api/v1/event_types/\($0.child)?application_id=\($0.scope.id)" }),
            Route(
                "DELETE /event_types/{name}", .delete, .application, 204, child: .eventType, effect: .deletesChild,
                path: { "/api/v1/event_types/\($0.child)?application_id=\($0.scope.id)" }),
            Route(
                "GET /subscriptions", .get, .application, 200,
                path: { "/api/v1/subscriptions?application_id=\($0.scope.id)" }),
            Route(
                "POST /subscriptions", .post, .application, 201, path: { _ in "/api/v1/subscriptions" },
                body: { Self.subscriptionBody($0.scope) }),
            Route(
                "GET /subscriptions/{id}", .get, .subscriptionOwner, 200, child: .subscription,
                path: { "/api/v1/subscriptions/\($0.child)" }),
            Route(
                "PUT /subscriptions/{id}", .put, .application, 200, child: .subscription,
                path: { "/api/v1/subscriptions/\($0.child)" }, body: { Self.subscriptionBody($0.scope) }),
            Route(
                "POST /subscriptions/{id}/secret/rotate", .post, .application, 200, child: .subscription,
                path: { "/api/v1/subscriptions/\($0.child)/secret/rotate" },
                body: { .object(["application_id": .string($0.scope.id), "grace_period_seconds": 0]) }),
            Route(
                "DELETE /subscriptions/{id}", .delete, .application, 204, child: .subscription, effect: .deletesChild,
                path: { "/api/v1/subscriptions/\($0.child)?application_id=\($0.scope.id)" }),
        ]
    }

    /// Routes scoped by an application: events, statistics, request attempts and responses.
    static var eventRoutes: [Route] {
        [
            Route(
                "POST /event", .post, .application, 201, path: { _ in "/api/v1/event" },
                body: {
                    Self.eventBody(
                        application: $0.scope.id, eventType: $0.scope.eventType, payload: #"{"matrix":1}"#,
                        label: "cell")
                }),
            Route("GET /events", .get, .application, 200, path: { "/api/v1/events?application_id=\($0.scope.id)" }),
            Route(
                "GET /events/{id}", .get, .application, 200, child: .event,
                path: { "/api/v1/events/\($0.child)?application_id=\($0.scope.id)" }),
            Route(
                "POST /events/{id}/replay", .post, .application, 204, child: .event,
                path: { "/api/v1/events/\($0.child)/replay" },
                body: { .object(["application_id": .string($0.scope.id)]) }),
            Route(
                "GET /events_per_day/application", .get, .application, 200,
                path: { "/api/v1/events_per_day/application?application_id=\($0.scope.id)" }),
            Route(
                "GET /request_attempts", .get, .application, 200,
                path: { "/api/v1/request_attempts?application_id=\($0.scope.id)" }),
            Route(
                "GET /request_attempts?subscription_id", .get, .application, 200, child: .subscription,
                effect: .filter,
                path: { "/api/v1/request_attempts?application_id=\($0.scope.id)&subscription_id=\($0.child)" }),
            Route(
                "GET /request_attempts?event_id", .get, .application, 200, child: .event, effect: .filter,
                path: { "/api/v1/request_attempts?application_id=\($0.scope.id)&event_id=\($0.child)" }),
            Route(
                "GET /request_attempts/{id}", .get, .application, 200, child: .attempt,
                path: { "/api/v1/request_attempts/\($0.child)?application_id=\($0.scope.id)" }),
            Route(
                "GET /responses/{id}", .get, .application, 200, child: .response,
                path: { "/api/v1/responses/\($0.child)?application_id=\($0.scope.id)" }),
        ]
    }

    /// Every cell: each route, for each caller, against each target that applies to it.
    static var cells: [Cell] {
        var result: [Cell] = []
        for route in routes {
            for caller in Caller.allCases {
                for target in targets(for: route, caller: caller) {
                    let expected = expectedStatus(route, caller, target)
                    result.append(Cell(route: route, caller: caller, target: target, expected: expected))
                }
            }
        }
        return result
    }

    /// The targets that apply to a route; a missing or dead credential is tried once, on the caller's own scope.
    static func targets(for route: Route, caller: Caller) -> [Target] {
        var targets: [Target]
        switch route.scope {
        case .unscoped, .organizationList, .masterOnly, .personOnly:
            return [.unscoped]
        case .organization:
            targets = [.own, .otherOrganization, .unknownScope]
            if route.child != nil { targets += [.unknownChild, .foreignChild] }
        case .application:
            targets = [.own, .otherOrganization, .siblingApplication, .unknownScope]
            if route.child != nil { targets += [.unknownChild, .foreignChild, .siblingChild] }
        case .subscriptionOwner:
            targets = [.own, .otherOrganization, .siblingApplication, .unknownChild]
        }
        return caller.isValid ? targets : [.own]
    }

    /// The access rules (Sources/FerryAPI/Authenticator.swift, AccessControl.swift, FerryIdentity.RequestAuthorizer): no
    /// credential → 401; a revoked one → 403 `AuthInvalidBiscuit` / `AuthInvalidApplicationSecret`; a valid
    /// credential on a scope it does not cover, or on an unknown scope → 403 `Forbidden`; an unknown or foreign
    /// resource id under a covered scope → 404 `NotFound`; application secrets act only inside their application
    /// (with full rights there, as Hook0), never organization-wide.
    static func expectedStatus(_ route: Route, _ caller: Caller, _ target: Target) -> Int {
        if route.scope == .unscoped { return route.allowed }
        if !caller.isValid { return caller == .anonymous ? 401 : 403 }
        let mayAct: Bool
        switch route.scope {
        case .unscoped:
            return route.allowed
        case .organizationList:
            return caller == .secretA1 ? 403 : route.allowed
        case .masterOnly:
            return caller == .master || caller.isPerson ? route.allowed : 403
        case .personOnly:
            return caller.isPerson ? route.allowed : 403
        case .subscriptionOwner:
            // Unknown and foreign subscriptions answer 404 alike (SubscriptionController.visibleSubscription).
            let visible: Bool
            switch caller {
            case .master: visible = true
            case .serviceTokenA, .editorA: visible = target != .otherOrganization
            case .viewerA: visible = target != .otherOrganization && route.viewerMay
            case .secretA1: visible = target == .own
            case .anonymous, .revokedServiceTokenA, .deletedSecretA1: visible = false
            }
            return visible && target != .unknownChild ? route.allowed : 404
        case .organization:
            switch caller {
            case .master: mayAct = true
            case .serviceTokenA, .editorA: mayAct = target != .otherOrganization
            case .viewerA: mayAct = target != .otherOrganization && route.viewerMay
            case .secretA1, .anonymous, .revokedServiceTokenA, .deletedSecretA1: mayAct = false
            }
        case .application:
            switch caller {
            case .master: mayAct = true
            case .serviceTokenA, .editorA: mayAct = target != .otherOrganization
            case .viewerA: mayAct = target != .otherOrganization && route.viewerMay
            case .secretA1: mayAct = target != .otherOrganization && target != .siblingApplication
            case .anonymous, .revokedServiceTokenA, .deletedSecretA1: mayAct = false
            }
        }
        guard mayAct, target != .unknownScope else { return 403 }
        if target.isChildMismatch && route.effect != .filter { return 404 }
        return route.allowed
    }

    /// The problem `id` an error status of a cell carries.
    static func problemID(for status: Int, caller: Caller) -> String? {
        switch (status, caller) {
        case (401, _): return "AuthNoAuthorizationHeader"
        case (403, .revokedServiceTokenA): return "AuthInvalidBiscuit"
        case (403, .deletedSecretA1): return "AuthInvalidApplicationSecret"
        case (403, _): return "Forbidden"
        case (404, _): return "NotFound"
        case (409, _): return "OrganizationIsNotEmpty"
        default: return nil
        }
    }
}
