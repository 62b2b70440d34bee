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

    /// Checks a string's length in characters only.
    public static func length(
        _ value: String, field: String, min: Int, max: Int, into errors: inout ValidationErrors
    ) {
        let count = value.unicodeScalars.count
        if count < min || count > max {
            errors.add(field, .length(min: min, max: max))
        }
    }

    /// Checks a string's length in UTF-8 bytes.
    public static func byteLength(
        _ value: String, field: String, min: Int, max: Int, into errors: inout ValidationErrors
    ) {
        let count = value.utf8.count
        if count < min || count > max {
            errors.add(field, .length(min: min, max: max))
        }
    }

    /// Checks a string map (labels, metadata): entry count, and each key and value's byte length.
    public static func stringMap(
        _ map: [String: String], field: String, minEntries: Int, maxEntries: Int, maxBytes: Int,
        into errors: inout ValidationErrors
    ) {
        if map.count < minEntries || map.count > maxEntries {
            errors.add(field, .length(min: minEntries, max: maxEntries))
        }
        let badEntry = map.contains { key, value in
            key.utf8.isEmpty || key.utf8.count > maxBytes || value.utf8.isEmpty || value.utf8.count > maxBytes
        }
        if badEntry {
            errors.add(
                field,
                ValidationIssue(
                    code: "key_value_length",
                    message: "keys and values must be 1 to \(maxBytes) bytes",
                    params: ["min": .number(1), "max": .number(Double(maxBytes))]))
        }
    }
}
