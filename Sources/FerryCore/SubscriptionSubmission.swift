import Foundation

/// A subscription as a client submits it (POST and the full-replace PUT), before validation.
public struct SubscriptionSubmission: Sendable, Equatable {
    public var applicationID: UUID
    public var isEnabled: Bool
    public var eventTypes: [String]
    public var description: String?
    public var metadata: [String: String]?
    public var labels: [String: String]?
    public var labelKey: String?
    public var labelValue: String?
    public var targetMethod: String
    public var targetURL: String
    public var targetHeaders: [String: String]
    /// A Ferry extension: deliveries go to a `ferry listen` session, so the server never connects to the target.
    public var isRelayed: Bool
    /// A Ferry extension: the subscription's own retry schedule, in whole seconds.
    public var retrySchedule: [Int]?
    /// A Ferry extension: the subscription's own retry cap.
    public var maxRetries: Int?
    /// A Ferry extension: Standard Webhooks v1a (Ed25519) signatures as well; nil leaves the setting as it is.
    public var ed25519Signing: Bool?
    /// A Ferry extension: deliveries in the order of the events, one at a time; nil leaves the setting as it is.
    public var ordered: Bool?

    public init(
        applicationID: UUID, isEnabled: Bool, eventTypes: [String], description: String?,
        metadata: [String: String]?, labels: [String: String]?, labelKey: String?, labelValue: String?,
        targetMethod: String, targetURL: String, targetHeaders: [String: String], isRelayed: Bool = false,
        retrySchedule: [Int]? = nil, maxRetries: Int? = nil, ed25519Signing: Bool? = nil, ordered: Bool? = nil
    ) {
        self.applicationID = applicationID
        self.isEnabled = isEnabled
        self.eventTypes = eventTypes
        self.description = description
        self.metadata = metadata
        self.labels = labels
        self.labelKey = labelKey
        self.labelValue = labelValue
        self.targetMethod = targetMethod
        self.targetURL = targetURL
        self.targetHeaders = targetHeaders
        self.isRelayed = isRelayed
        self.retrySchedule = retrySchedule
        self.maxRetries = maxRetries
        self.ed25519Signing = ed25519Signing
        self.ordered = ordered
    }

    /// Checks that either `labels` or both legacy label fields are present (Hook0 does this before anything else).
    public func resolvedLabels() throws(DomainError) -> [String: String] {
        if let labels { return labels }
        if let labelKey, let labelValue { return [labelKey: labelValue] }
        throw .labelsAmbiguity
    }

    /// Applies every field rule and returns the normalized draft (header names lower-cased), or every problem
    /// found; `targetPolicy` refuses literal non-global targets and, in https-only mode, `http` ones (422), except
    /// for a relayed subscription, whose target only the `ferry listen` session's machine connects to.
    public func validated(targetPolicy: TargetPolicy = TargetPolicy()) throws(DomainError) -> SubscriptionDraft {
        let labels = try resolvedLabels()
        var errors = ValidationErrors()
        if eventTypes.isEmpty || eventTypes.count > 100 {
            errors.add("event_types", .size("event-types", min: 1, max: 100))
        }
        if eventTypes.contains(where: { !(1...200).contains($0.utf8.count) }) {
            errors.add(
                "event_types",
                ValidationIssue(
                    code: "event-types-name-length", message: "each event type must be 1 to 200 bytes long",
                    params: ["min": .number(1), "max": .number(200)]))
        }
        if eventTypes.contains(where: Validator.containsNUL) { errors.add("event_types", Validator.nulIssue) }
        if let description {
            Validator.length(description, field: "description", min: 1, max: 100, into: &errors)
        }
        if let metadata {
            Validator.stringMap(
                metadata, field: "metadata", rule: "metadata", minEntries: 0, maxEntries: 50, maxBytes: 50,
                into: &errors)
        }
        if self.labels != nil {
            Validator.stringMap(
                labels, field: "labels", rule: "labels", minEntries: 1, maxEntries: 10, maxBytes: 50, into: &errors)
        } else {
            if let labelKey { Validator.length(labelKey, field: "label_key", min: 1, max: 100, into: &errors) }
            if let labelValue { Validator.length(labelValue, field: "label_value", min: 1, max: 100, into: &errors) }
        }
        var targetErrors = ValidationErrors()
        if !HTTPTarget.allowedMethods.contains(targetMethod) {
            targetErrors.add(
                "method",
                ValidationIssue(
                    code: "subscription-target-http-method",
                    message: "must be one of GET, PATCH, POST, PUT, DELETE, OPTIONS, HEAD (uppercase)",
                    params: ["value": .string(targetMethod)]))
        }
        if targetURL.utf8.count > 1000 {
            targetErrors.add(
                "url",
                ValidationIssue(
                    code: "subscription-target-url-length", message: "must be at most 1000 bytes long",
                    params: ["max": .number(1000)]))
        }
        if targetHeaders.count > 10 {
            targetErrors.add("headers", .size("subscription-target-headers", min: 0, max: 10))
        }
        var normalizedHeaders: [String: String] = [:]
        for (name, value) in targetHeaders {
            if name.isEmpty || name.utf8.count > 500 || value.utf8.count > 500 {
                targetErrors.add("headers", .propertyLength("subscription-target-headers", maxBytes: 500))
                continue
            }
            if !HeaderSyntax.isToken(name) || !HeaderSyntax.isFieldValue(value) {
                targetErrors.add(
                    "headers",
                    ValidationIssue(
                        code: "header", message: "invalid header name or value", params: ["value": .string(name)]))
                continue
            }
            if HeaderSyntax.isReserved(name) {
                targetErrors.add(
                    "headers",
                    ValidationIssue(
                        code: "reserved_header",
                        message: "\(name) is set by Ferry (or by HTTP itself) and cannot be chosen per subscription",
                        params: ["value": .string(name)]))
                continue
            }
            normalizedHeaders[name.lowercased()] = value
        }
        if TargetURL.isAcceptable(targetURL), !isRelayed,
            let refusal = targetPolicy.refusal(for: targetURL, application: applicationID)
        {
            targetErrors.add(
                "url", ValidationIssue(code: "target", message: refusal, params: ["value": .string(targetURL)]))
        }
        errors.add("target", nested: targetErrors)
        let retry = validatedRetry(into: &errors)
        if !errors.isEmpty { throw .validation(errors) }
        guard TargetURL.isAcceptable(targetURL) else {
            throw .malformedBody("target.url must be an absolute http or https URL with a host")
        }
        return SubscriptionDraft(
            applicationID: applicationID, isEnabled: isEnabled, eventTypes: eventTypes, description: description,
            metadata: metadata ?? [:], labels: labels,
            target: HTTPTarget(method: targetMethod, url: targetURL, headers: normalizedHeaders), isRelayed: isRelayed,
            retry: retry,
            ed25519: ed25519Signing.map {
                $0 ? .on(newKey: StandardWebhookAsymmetricSigner.generatePrivateKey()) : .off
            }
                ?? .keep, ordered: ordered)
    }

    /// The retry extension's rules: 1 to `RetryOverride.maxSteps` steps of 1 second to a week each, and a cap
    /// from 0 to `RetryOverride.maxRetriesLimit`.
    private func validatedRetry(into errors: inout ValidationErrors) -> RetryOverride {
        var schedule: [Double]?
        if let retrySchedule {
            if retrySchedule.isEmpty || retrySchedule.count > RetryOverride.maxSteps {
                errors.add("retry_schedule", .size("retry-schedule", min: 1, max: RetryOverride.maxSteps))
            } else if retrySchedule.contains(where: { !(1...RetryOverride.maxStepSeconds).contains($0) }) {
                errors.add(
                    "retry_schedule",
                    ValidationIssue(
                        code: "retry-schedule-step",
                        message: "each step must be a whole number of seconds from 1 to 604800 (a week)",
                        params: ["min": .number(1), "max": .number(Double(RetryOverride.maxStepSeconds))]))
            } else {
                schedule = retrySchedule.map(Double.init)
            }
        }
        if let maxRetries, !(0...RetryOverride.maxRetriesLimit).contains(maxRetries) {
            errors.add(
                "max_retries",
                ValidationIssue(
                    code: "range", message: "must be from 0 to \(RetryOverride.maxRetriesLimit)",
                    params: ["min": .number(0), "max": .number(Double(RetryOverride.maxRetriesLimit))]))
        }
        return RetryOverride(schedule: schedule, maxRetries: maxRetries)
    }
}

/// Syntax rules for HTTP header names and values (RFC 9110 tokens and field values), and the names a subscription
/// may not set.
public enum HeaderSyntax {
    /// Headers that belong to the connection or to the message framing (a subscription setting them could smuggle a
    /// second request or break the exchange), and the signature headers Ferry computes for every delivery. Lowercase.
    public static let reservedNames: Set<String> = [
        "host", "content-length", "connection", "transfer-encoding", "te", "trailer", "upgrade", "keep-alive",
        "proxy-connection", "expect", "x-hook0-signature", "x-hook0-signature-previous", "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    ]

    /// Whether a subscription may not set header `name` (any case).
    public static func isReserved(_ name: String) -> Bool {
        reservedNames.contains(name.lowercased())
    }

    /// Whether `name` is a valid header field name.
    public static func isToken(_ name: String) -> Bool {
        let extra = Set("!#$%&'*+-.^_`|~".utf8)
        return !name.isEmpty
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || extra.contains(byte)
            }
    }

    /// Whether `value` can be sent as a header value (no control characters other than tab).
    public static func isFieldValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { byte in byte == 0x09 || (byte >= 0x20 && byte != 0x7F) }
    }
}

/// Syntax rules for subscription target URLs.
public enum TargetURL {
    /// Whether `text` is an absolute `http`/`https` URL with a host.
    public static func isAcceptable(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return false }
        return true
    }
}
