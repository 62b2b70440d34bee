import Foundation
import Testing

/// Checks of the served OpenAPI document that schemathesis would otherwise only find by chance.
@Suite struct OpenAPIDocumentTests {
    /// Every text field of a request body is refused with NUL (U+0000) by the server, so the document must say so:
    /// a schema-valid string with NUL would be rejected, which schemathesis reports as `ST202`. The raw event
    /// payload is stored as bytes and accepts anything.
    @Test func everyRequestBodyStringExcludesNULOrIsThePayload() throws {
        let document = try Self.document()
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        var bodySchemas: Set<String> = []
        for case let operations as [String: Any] in (document["paths"] as? [String: Any] ?? [:]).values {
            for case let operation as [String: Any] in operations.values {
                let content = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any] ?? [:]
                for case let media as [String: Any] in content.values {
                    if let reference = (media["schema"] as? [String: Any])?["$ref"] as? String {
                        bodySchemas.insert(String(reference.split(separator: "/").last ?? ""))
                    }
                }
            }
        }
        #expect(bodySchemas.contains("SubscriptionPost") && bodySchemas.contains("EventPost"))
        var unguarded: [String] = []
        for name in bodySchemas.sorted() {
            Self.collectUnguardedStrings(schemas[name], at: name, in: schemas, into: &unguarded)
        }
        #expect(unguarded == ["EventBatchPost.events[].payload", "EventPost.payload"], "payloads may carry NUL")
    }

    private static func document() throws -> [String: Any] {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/FerryAPI/Resources/openapi.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: path))
        return try #require(object as? [String: Any])
    }

    /// Appends the path of every free-text string (no `pattern`, `format` or `enum`) reachable from `schema`.
    private static func collectUnguardedStrings(
        _ schema: Any?, at path: String, in schemas: [String: Any], into found: inout [String]
    ) {
        guard let schema = schema as? [String: Any] else { return }
        if let reference = schema["$ref"] as? String {
            let name = String(reference.split(separator: "/").last ?? "")
            collectUnguardedStrings(schemas[name], at: path, in: schemas, into: &found)
            return
        }
        let types = (schema["type"] as? [String]) ?? [(schema["type"] as? String) ?? ""]
        if types.contains("string") && schema["pattern"] == nil && schema["format"] == nil && schema["enum"] == nil {
            found.append(path)
        }
        for (key, property) in (schema["properties"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            collectUnguardedStrings(property, at: "\(path).\(key)", in: schemas, into: &found)
        }
        collectUnguardedStrings(schema["additionalProperties"], at: "\(path).*", in: schemas, into: &found)
        collectUnguardedStrings(schema["propertyNames"], at: "\(path).<name>", in: schemas, into: &found)
        collectUnguardedStrings(schema["items"], at: "\(path)[]", in: schemas, into: &found)
        for combinator in ["anyOf", "oneOf", "allOf"] {
            for (index, member) in (schema[combinator] as? [Any] ?? []).enumerated() {
                collectUnguardedStrings(member, at: "\(path).\(combinator)[\(index)]", in: schemas, into: &found)
            }
        }
    }
}
