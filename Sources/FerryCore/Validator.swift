/// Reusable field rules shared by every request validation (lengths in characters or bytes, control characters).
public enum Validator {
    /// Checks a string's length in characters and that it has no control characters.
    public static func text(
        _ value: String, field: String, min: Int, max: Int, into errors: inout ValidationErrors
    ) {
        let count = value.unicodeScalars.count
        if count < min || count > max {
            errors.add(field, .length(min: min, max: max))
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            errors.add(
                field, ValidationIssue(code: "control_character", message: "must not contain control characters"))
        }
    }

    /// Checks a string's length in characters, and that it has no NUL (U+0000), which PostgreSQL cannot store
    /// in text; `allowsNUL` for fields stored as bytes (the event payload).
    public static func length(
        _ value: String, field: String, min: Int, max: Int, allowsNUL: Bool = false, into errors: inout ValidationErrors
    ) {
        let count = value.unicodeScalars.count
        if count < min || count > max {
            errors.add(field, .length(min: min, max: max))
        }
        if !allowsNUL && containsNUL(value) { errors.add(field, nulIssue) }
    }

    /// Whether `value` has a NUL (U+0000).
    public static func containsNUL(_ value: String) -> Bool {
        value.utf8.contains(0)
    }

    /// The issue of a text field holding a NUL.
    public static let nulIssue = ValidationIssue(code: "nul_character", message: "must not contain NUL (U+0000)")

    /// Checks a string's length in UTF-8 bytes.
    public static func byteLength(
        _ value: String, field: String, min: Int, max: Int, into errors: inout ValidationErrors
    ) {
        let count = value.utf8.count
        if count < min || count > max {
            errors.add(field, .length(min: min, max: max))
        }
    }

    /// Checks a string map (labels, metadata): entry count, and each key and value's length in characters
    /// (Unicode scalars). Hook0 counts bytes; counting characters accepts the same ASCII maps and a few longer
    /// non-ASCII ones, and is what the OpenAPI document's `minLength`/`maxLength` can state exactly.
    public static func stringMap(
        _ map: [String: String], field: String, minEntries: Int, maxEntries: Int, maxCharacters: Int,
        into errors: inout ValidationErrors
    ) {
        if map.count < minEntries || map.count > maxEntries {
            errors.add(field, .length(min: minEntries, max: maxEntries))
        }
        let badEntry = map.contains { key, value in
            !(1...maxCharacters).contains(key.unicodeScalars.count)
                || !(1...maxCharacters).contains(value.unicodeScalars.count)
        }
        if map.contains(where: { containsNUL($0.key) || containsNUL($0.value) }) { errors.add(field, nulIssue) }
        if badEntry {
            errors.add(
                field,
                ValidationIssue(
                    code: "key_value_length",
                    message: "keys and values must be 1 to \(maxCharacters) characters",
                    params: ["min": .number(1), "max": .number(Double(maxCharacters))]))
        }
    }
}
