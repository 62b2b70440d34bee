import JSONSchema

/// An event type's JSON Schema (draft 2020-12) for the payloads of its events, a Ferry extension: an event whose
/// JSON payload does not conform is refused at ingest with 422 `Validation` naming where in the payload and which
/// keyword, and nothing of it is stored. Payloads of other content types (text, base64) are not JSON and are not
/// checked. Compiled once, so a check costs microseconds for ordinary payloads.
public struct PayloadSchema: Sendable {
    /// The schema's JSON text as stored (compact, keys sorted).
    public let text: String
    let schema: Schema

    /// Compiles the schema a request gives (`payload_schema`); an unusable one is a 422 on that field naming where
    /// in the schema the problem is.
    public static func compiled(_ document: JSONValue) throws(DomainError) -> PayloadSchema {
        let text = String(decoding: document.encoded(), as: UTF8.self)
        do {
            return try PayloadSchema(storedText: text)
        } catch {
            var errors = ValidationErrors()
            errors.add(
                "payload_schema",
                ValidationIssue(
                    code: "schema", message: "not a usable JSON Schema (draft 2020-12): \(error.description)",
                    params: ["schema_location": .string(error.location)]))
            throw .validation(errors)
        }
    }

    /// Compiles a stored schema.
    public init(storedText: String) throws(SchemaError) {
        text = storedText
        schema = try Schema(parsing: Array(storedText.utf8))
    }

    /// Refuses the payload of `event` when it is JSON and does not conform.
    public func check(_ event: Event) throws(DomainError) {
        guard event.payloadContentType == .json else { return }
        let failure: ValidationFailure?
        do {
            failure = schema.firstFailure(of: try JSONInstance(parsing: event.payload))
        } catch {
            failure = ValidationFailure(
                instanceLocation: "", keywordLocation: "", keyword: "",
                message: "the payload cannot be checked against the event type's schema: \(error.description)")
        }
        guard let failure else { return }
        var errors = ValidationErrors()
        errors.add(
            "payload",
            ValidationIssue(
                code: "schema",
                message: "does not conform to the schema of \(event.eventType): \(failure.description)",
                params: [
                    "instance_location": .string(failure.instanceLocation), "keyword": .string(failure.keyword),
                    "keyword_location": .string(failure.keywordLocation),
                ]))
        throw .validation(errors)
    }
}
