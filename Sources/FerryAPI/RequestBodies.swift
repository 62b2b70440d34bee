import FerryCore
import Foundation

/// `POST /organizations` and `PUT /organizations/{id}`.
struct OrganizationBody: Decodable {
    var name: String
}

/// `POST /applications` and `PUT /applications/{id}`.
struct ApplicationBody: Decodable {
    var organizationID: StrictUUID
    var name: String
    /// Ferry's extension: the application's own event retention in days (`null` returns to the default).
    var retention: RetentionChange = .keep

    enum CodingKeys: String, CodingKey {
        case organizationID = "organization_id"
        case name
        case retention = "days_of_events_retention_limit"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        organizationID = try container.decode(StrictUUID.self, forKey: .organizationID)
        name = try container.decode(String.self, forKey: .name)
        if container.contains(.retention) {
            retention =
                try container.decodeNil(forKey: .retention)
                ? .clear : .set(try container.decode(Int.self, forKey: .retention))
        }
    }
}

/// What an application write does to the application's own retention.
enum RetentionChange: Equatable {
    case keep
    case clear
    case set(Int)
}

/// `POST /application_secrets` and `PUT /application_secrets/{token}`.
struct ApplicationSecretBody: Decodable {
    var applicationID: StrictUUID
    var name: String?

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id"
        case name
    }
}

/// `POST /service_token` and `PUT /service_token/{id}`.
struct ServiceTokenBody: Decodable {
    var organizationID: StrictUUID
    var name: String

    enum CodingKeys: String, CodingKey {
        case organizationID = "organization_id"
        case name
    }
}

/// `POST /event_types`.
struct EventTypeBody: Decodable {
    var applicationID: StrictUUID
    var service: String
    var resourceType: String
    var verb: String
    /// Ferry's extension: the JSON Schema of the type's payloads (Hook0's clients do not send it).
    var payloadSchema: JSONValue?

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id"
        case service
        case resourceType = "resource_type"
        case verb
        case payloadSchema = "payload_schema"
    }
}

/// `PUT /event_types/{event_type_name}` (Ferry's extension): the type's payload schema, or null to remove it.
struct EventTypeSchemaBody: Decodable {
    var payloadSchema: JSONValue

    enum CodingKeys: String, CodingKey {
        case payloadSchema = "payload_schema"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Required, and `null` is a value here (it removes the schema), so absent and null are told apart.
        guard container.contains(.payloadSchema) else {
            throw DecodingError.keyNotFound(
                CodingKeys.payloadSchema,
                DecodingError.Context(codingPath: [], debugDescription: "payload_schema is required"))
        }
        payloadSchema = try container.decode(JSONValue.self, forKey: .payloadSchema)
    }
}

/// `POST /event`.
struct EventBody: Decodable, Equatable {
    var applicationID: StrictUUID
    var eventID: StrictUUID?
    var eventType: String
    var payload: String
    var payloadContentType: String
    var labels: [String: String]
    var metadata: [String: String]?
    var occurredAt: RFC3339Date

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id"
        case eventID = "event_id"
        case eventType = "event_type"
        case payload
        case payloadContentType = "payload_content_type"
        case labels
        case metadata
        case occurredAt = "occurred_at"
    }

    var submission: EventSubmission {
        EventSubmission(
            applicationID: applicationID.value, eventID: eventID?.value, eventType: eventType, payload: payload,
            payloadContentType: payloadContentType, labels: labels, metadata: metadata, occurredAt: occurredAt.value)
    }
}

/// `POST /event/batch`: the events, each decoded on its own so one malformed event is answered alone.
struct EventBatchBody: Decodable {
    /// One event of the batch as it decoded: its body, or the problem that makes it unreadable.
    struct Item: Decodable {
        let body: Result<EventBody, Problem>

        init(body: Result<EventBody, Problem>) {
            self.body = body
        }

        init(from decoder: any Decoder) throws {
            do {
                body = .success(try EventBody(from: decoder))
            } catch let error as DecodingError {
                body = .failure(ProblemCatalog.jsonPayload.with(detail: JSONBody.describe(error)))
            } catch let error as DomainError {
                body = .failure(Problem(error))
            }
        }
    }

    var events: [Item]
}

/// `POST /events/{id}/replay`.
struct ReplayBody: Decodable {
    var applicationID: StrictUUID

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id"
    }
}

/// `POST /dead_letters/recover`: which given-up attempts to send again, or only count (`dry_run`).
struct RecoverBody: Decodable {
    var applicationID: StrictUUID
    var subscriptionID: StrictUUID?
    /// RFC 3339: attempts created at or after it.
    var since: String
    /// RFC 3339: attempts created before it; now when absent.
    var until: String?
    var dryRun: Bool?
    /// Most attempts sent again by this call (default 1,000, at most 10,000).
    var limit: Int?

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id"
        case subscriptionID = "subscription_id"
        case since
        case until
        case dryRun = "dry_run"
        case limit
    }
}

/// `POST /subscriptions` and `PUT /subscriptions/{id}` (a full replace).
struct SubscriptionBody: Decodable {
    struct Target: Decodable {
        var type: String
        var method: String
        var url: String
        var headers: [String: String]
    }

    var applicationID: StrictUUID
    var isEnabled: Bool
    var eventTypes: [String]
    var description: String?
    var metadata: [String: String]?
    var labels: [String: String]?
    var labelKey: String?
    var labelValue: String?
    var target: Target
    var dedicatedWorkers: [String]?
    /// A Ferry extension: deliveries go to a `ferry listen` session (absent: false, as Hook0 clients send).
    var relayed: Bool?
    /// Ferry extensions: the subscription's own retry schedule (seconds) and cap (absent: the server's).
    var retrySchedule: [Int]?
    var maxRetries: Int?
    /// A Ferry extension: Standard Webhooks v1a (Ed25519) signatures as well (absent: left as it is).
    var ed25519Signing: Bool?
    /// A Ferry extension: deliveries in the order of the events, one at a time (absent: left as it is).
    var ordered: Bool?

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id"
        case isEnabled = "is_enabled"
        case eventTypes = "event_types"
        case description
        case metadata
        case labels
        case labelKey = "label_key"
        case labelValue = "label_value"
        case target
        case dedicatedWorkers = "dedicated_workers"
        case relayed
        case retrySchedule = "retry_schedule"
        case maxRetries = "max_retries"
        case ed25519Signing = "ed25519_signing"
        case ordered
    }

    var submission: SubscriptionSubmission {
        SubscriptionSubmission(
            applicationID: applicationID.value, isEnabled: isEnabled, eventTypes: eventTypes, description: description,
            metadata: metadata, labels: labels, labelKey: labelKey, labelValue: labelValue,
            targetMethod: target.method, targetURL: target.url, targetHeaders: target.headers,
            isRelayed: relayed ?? false, retrySchedule: retrySchedule, maxRetries: maxRetries,
            ed25519Signing: ed25519Signing, ordered: ordered)
    }
}

/// `PUT /organizations/{id}/operational_events`: the application receiving them, or null for none.
struct OperationalEventsBody: Decodable {
    var applicationID: StrictUUID?

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id"
    }
}

/// `POST /subscriptions/{id}/secret/rotate`: the subscription's application and how long the replaced secret keeps
/// signing (absent: a day).
struct SecretRotationBody: Decodable {
    var applicationID: StrictUUID
    var gracePeriodSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id"
        case gracePeriodSeconds = "grace_period_seconds"
    }
}

/// `POST /subscriptions/{id}/relay/{attempt_id}`: what a `ferry listen` session's local receiver answered to a
/// relayed delivery, or the transport error it met.
struct RelayAnswerBody: Decodable {
    var applicationID: StrictUUID
    /// The lease the delivery came with; the answer is recorded only while it holds.
    var claimToken: StrictUUID
    var status: Int?
    var headers: [String: String]?
    /// The answer's body, base64.
    var body: String?
    /// A Hook0 error name (`E_CONNECTION`, `E_TIMEOUT`, …) when no answer came.
    var error: String?
    var elapsedMilliseconds: Int

    enum CodingKeys: String, CodingKey {
        case applicationID = "application_id"
        case claimToken = "claim_token"
        case status
        case headers
        case body
        case error
        case elapsedMilliseconds = "elapsed_ms"
    }
}
