import FerryCore
import FerryStorage
import Foundation

/// The JSON shapes of Hook0's API models, built from domain values (explicit `null`s, snake_case keys).
enum Representation {
    static func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    static func date(_ value: Date?) -> JSONValue { value.map { .string(Timestamp.format($0)) } ?? .null }
    static func uuid(_ value: UUID?) -> JSONValue { value.map { .string($0.lowercased) } ?? .null }
    static func int(_ value: Int?) -> JSONValue { value.map { .number(Double($0)) } ?? .null }
    static func map(_ value: [String: String]) -> JSONValue { .object(value.mapValues(JSONValue.string)) }

    static func organization(_ organization: Organization, role: String) -> JSONValue {
        .object([
            "organization_id": uuid(organization.id), "name": .string(organization.name), "role": .string(role),
            "plan": .null,
        ])
    }

    /// One entry of OrganizationInfo's `users` (Hook0's OrganizationUser).
    static func member(_ member: Member) -> JSONValue {
        .object([
            "user_id": uuid(member.user.id), "email": .string(member.user.email),
            "first_name": .string(member.user.firstName), "last_name": .string(member.user.lastName),
            "role": .string(member.role.rawValue),
        ])
    }

    /// A pending invitation (Ferry's `GET /organizations/{id}/invitations`).
    static func invitation(_ invitation: PendingInvitation) -> JSONValue {
        .object([
            "invitation_id": uuid(invitation.id), "email": .string(invitation.email),
            "role": .string(invitation.role.rawValue), "created_at": .string(Timestamp.format(invitation.createdAt)),
            "expires_at": .string(Timestamp.format(invitation.expiresAt)),
        ])
    }

    static func application(_ application: FerryCore.Application) -> JSONValue {
        .object([
            "application_id": uuid(application.id), "organization_id": uuid(application.organizationID),
            "name": .string(application.name),
            "days_of_events_retention_limit": application.retentionDays.map { .number(Double($0)) } ?? .null,
        ])
    }

    static func applicationSecret(_ secret: ApplicationSecret) -> JSONValue {
        .object([
            "name": string(secret.name), "token": uuid(secret.token), "created_at": date(secret.createdAt),
            "deleted_at": date(secret.deletedAt), "application_id": uuid(secret.applicationID),
        ])
    }

    static func serviceToken(_ token: ServiceToken, bearer: String?) -> JSONValue {
        .object([
            "token_id": uuid(token.id), "name": .string(token.name), "biscuit": .string(bearer ?? token.displayHint),
            "created_at": date(token.createdAt), "organization_id": uuid(token.organizationID),
            "created_by": uuid(token.createdBy), "last_used_at": date(token.lastUsedAt),
        ])
    }

    static func eventType(_ eventType: EventType) -> JSONValue {
        var fields: [String: JSONValue] = [
            "service_name": .string(eventType.service), "resource_type_name": .string(eventType.resourceType),
            "verb_name": .string(eventType.verb), "event_type_name": .string(eventType.name),
        ]
        // Ferry's extension, only where one was set: what Hook0's clients read is unchanged.
        if let text = eventType.payloadSchema,
            let schema = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        {
            fields["payload_schema"] = schema
        }
        return .object(fields)
    }

    static func subscription(_ subscription: Subscription) -> JSONValue {
        let firstLabel = subscription.labels.sorted { $0.key < $1.key }.first
        let now = Date()
        return .object([
            "subscription_id": uuid(subscription.id), "application_id": uuid(subscription.applicationID),
            "is_enabled": .bool(subscription.isEnabled),
            "event_types": .array(subscription.eventTypes.map(JSONValue.string)),
            "description": string(subscription.description), "secret": uuid(subscription.secret),
            "standard_webhooks_secret": .string(subscription.standardWebhooksSecret),
            "metadata": map(subscription.metadata), "labels": map(subscription.labels),
            "label_key": .string(firstLabel?.key ?? ""), "label_value": .string(firstLabel?.value ?? ""),
            "target": .object([
                "type": .string("http"), "method": .string(subscription.target.method),
                "url": .string(subscription.target.url), "headers": map(subscription.target.headers),
            ]),
            "created_at": date(subscription.createdAt), "updated_at": date(subscription.updatedAt),
            "dedicated_workers": .array([]), "relayed": .bool(subscription.isRelayed),
            "disabled_reason": string(subscription.disabledReason), "disabled_at": date(subscription.disabledAt),
            "failing_since": date(subscription.failingSince),
            "retry_schedule": subscription.retry.schedule.map { .array($0.map { .number($0.rounded()) }) } ?? .null,
            "max_retries": subscription.retry.maxRetries.map { .number(Double($0)) } ?? .null,
            "circuit_state": .string(subscription.circuit.name(at: now)),
            "circuit_opened_at": date(subscription.circuit.openedAt),
            "circuit_next_probe_at": date(subscription.circuit.openedAt == nil ? nil : subscription.circuit.probeAt),
            "ed25519_signing": .bool(subscription.signing.ed25519PrivateKey != nil),
            "ordered": .bool(subscription.isOrdered),
            "standard_webhooks_public_key": string(subscription.signing.ed25519PublicKey),
            "previous_secret_expires_at": date(
                subscription.signing.previousSigns(at: now) ? subscription.signing.previousExpiresAt : nil),
            "previous_standard_webhooks_public_key": string(subscription.signing.previousEd25519PublicKey(at: now)),
        ])
    }

    static func event(_ event: Event, includePayload: Bool) -> JSONValue {
        var object: [String: JSONValue] = [
            "event_id": uuid(event.id), "event_type_name": .string(event.eventType),
            "payload_content_type": .string(event.payloadContentType.rawValue), "ip": .string(event.ip ?? ""),
            "metadata": map(event.metadata), "labels": map(event.labels), "occurred_at": date(event.occurredAt),
            "received_at": date(event.receivedAt),
        ]
        if includePayload { object["payload"] = .string(Data(event.payload).base64EncodedString()) }
        return .object(object)
    }

    static func requestAttempt(_ attempt: RequestAttempt, now: Date) -> JSONValue {
        let status: JSONValue
        switch attempt.status(at: now) {
        case .failed(let at, let milliseconds):
            status = .object(["type": .string("failed"), "at": date(at), "full_processing_ms": int(milliseconds)])
        case .successful(let at, let milliseconds):
            status = .object(["type": .string("successful"), "at": date(at), "full_processing_ms": int(milliseconds)])
        case .inProgress(let since):
            status = .object(["type": .string("in_progress"), "since": date(since)])
        case .waiting(let since, let until):
            status = .object(["type": .string("waiting"), "since": date(since), "until": date(until)])
        case .pending(let since):
            status = .object(["type": .string("pending"), "since": date(since)])
        }
        return .object([
            "request_attempt_id": uuid(attempt.id), "event_id": uuid(attempt.eventID),
            "event": .object(["event_id": uuid(attempt.eventID), "event_type_name": .string(attempt.eventType)]),
            "subscription": .object([
                "subscription_id": uuid(attempt.subscriptionID), "description": string(attempt.subscriptionDescription),
            ]),
            "created_at": date(attempt.createdAt), "picked_at": date(attempt.pickedAt),
            "failed_at": date(attempt.failedAt), "succeeded_at": date(attempt.succeededAt),
            "delay_until": date(attempt.delayUntil), "response_id": uuid(attempt.responseID),
            "retry_count": int(attempt.retryCount), "http_response_status": int(attempt.httpResponseStatus),
            "status": status, "cancelled": .bool(attempt.wasCancelled),
        ])
    }

    static func response(_ response: AttemptResponse) -> JSONValue {
        let body: JSONValue
        if let bytes = response.body {
            if let text = String(validating: bytes, as: UTF8.self) {
                body = .string(text)
            } else {
                body = .string(Data(bytes).base64EncodedString())
            }
        } else {
            body = .null
        }
        return .object([
            "response_id": uuid(response.id), "response_error_name": string(response.errorName?.rawValue),
            "http_code": int(response.httpCode), "headers": response.headers.map(map) ?? .null, "body": body,
            "body_truncated": .bool(response.bodyTruncated), "elapsed_time_ms": int(response.elapsedMilliseconds),
        ])
    }

    static func eventsPerDay(_ entry: EventsPerDay, applicationName: String, today: String) -> JSONValue {
        let day = Timestamp.formatDay(entry.day)
        return .object([
            "application_id": uuid(entry.applicationID), "application_name": .string(applicationName),
            "date": .string(day), "amount": int(entry.amount), "is_provisional": .bool(day == today),
        ])
    }
}
