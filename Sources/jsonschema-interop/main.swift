import Foundation
import JSONSchema

/// `jsonschema-interop`: drives the Swift JSON Schema library from the differential test against Python's
/// `jsonschema` (Tests/jsonschema). Reads one JSON request per line on stdin, `{"schema": …, "instances": […]}`,
/// and answers one line on stdout: `{"ok": true, "valid": [true, false, …]}` with one verdict per instance, or
/// `{"ok": false, "error": "…"}` when the schema (or the request) cannot be used.
enum InteropTool {
    static func answer(_ line: String) -> String {
        let request: JSONInstance
        do {
            request = try JSONInstance(parsing: line, maxDepth: 512)
        } catch {
            return refusal("the request: \(error)")
        }
        guard case .object(let members) = request, let document = members["schema"],
            case .array(let instances)? = members["instances"]
        else { return refusal("a request needs schema and instances") }
        let schema: Schema
        do {
            schema = try Schema(document)
        } catch {
            return refusal(error.description)
        }
        let verdicts = instances.map { schema.validates($0) ? "true" : "false" }
        return #"{"ok": true, "valid": ["# + verdicts.joined(separator: ", ") + "]}"
    }

    static func refusal(_ message: String) -> String {
        struct Refusal: Encodable {
            let ok = false
            let error: String
        }
        let encoded = (try? JSONEncoder().encode(Refusal(error: message))) ?? Data(#"{"ok": false}"#.utf8)
        return String(decoding: encoded, as: UTF8.self)
    }
}

while let line = readLine(strippingNewline: true) {
    print(InteropTool.answer(line))
    fflush(nil)
}
