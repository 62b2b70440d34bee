import Foundation

/// An event type `service.resource_type.verb` declared by an application.
public struct EventType: Sendable, Equatable {
    public var service: String
    public var resourceType: String
    public var verb: String
    /// The JSON Schema its JSON payloads must conform to (`PayloadSchema`, a Ferry extension), as stored.
    public var payloadSchema: String?

    public init(service: String, resourceType: String, verb: String, payloadSchema: String? = nil) {
        self.service = service
        self.resourceType = resourceType
        self.verb = verb
        self.payloadSchema = payloadSchema
    }

    /// The full name, parts joined with dots.
    public var name: String { "\(service).\(resourceType).\(verb)" }

    /// Validates each part (1–50 characters, no control characters), as Hook0 does.
    public static func validated(service: String, resourceType: String, verb: String) throws(DomainError) -> EventType {
        var errors = ValidationErrors()
        Validator.text(service, field: "service", min: 1, max: 50, into: &errors)
        Validator.text(resourceType, field: "resource_type", min: 1, max: 50, into: &errors)
        Validator.text(verb, field: "verb", min: 1, max: 50, into: &errors)
        if !errors.isEmpty { throw .validation(errors) }
        return EventType(service: service, resourceType: resourceType, verb: verb)
    }
}
