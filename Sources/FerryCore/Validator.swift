/// Reusable field rules shared by every request validation (lengths in characters or bytes, control characters),
/// reporting Hook0's codes (`length`, `non_control_character`, and its named map rules such as `labels-size`).
public enum Validator {
    /// The issue of a text field holding a control character (the validator crate's code, as Hook0 reports it).
    public static let controlCharacterIssue = ValidationIssue(
        code: "non_control_character", message: "must not contain control characters")

    /// Checks a string's length in characters and that it has no control characters.
    public static func text(
        _ value: String, field: String, min: Int, max: Int, into errors: inout ValidationErrors
    ) {
        let count = value.unicodeScalars.count
        if count < min || count > max {
            errors.add(field, .length(min: min, max: max))
        }
        if containsControlCharacter(value) { errors.add(field, controlCharacterIssue) }
    }

    /// Whether `value` has a character of the Unicode category `Cc`; ASCII is judged by its byte (C0 controls and
    /// DEL), without asking the Unicode tables.
    public static func containsControlCharacter(_ value: String) -> Bool {
        if value.utf8.allSatisfy({ $0 < 0x80 }) {
            return value.utf8.contains { $0 < 0x20 || $0 == 0x7F }
        }
        return value.unicodeScalars.contains { $0.properties.generalCategory == .control }
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

    /// Checks a string map (labels, metadata, headers) as Hook0's `validators.rs` does: its entry count, then each
    /// key and value's length in UTF-8 **bytes** (1 to `maxBytes`), reporting `<rule>-size` and
    /// `<rule>-property-length` (e.g. `labels-size`, `labels-property-length`).
    public static func stringMap(
        _ map: [String: String], field: String, rule: String, minEntries: Int, maxEntries: Int, maxBytes: Int,
        into errors: inout ValidationErrors
    ) {
        if map.count < minEntries || map.count > maxEntries {
            errors.add(field, .size(rule, min: minEntries, max: maxEntries))
        }
        let badEntry = map.contains { key, value in
            !(1...maxBytes).contains(key.utf8.count) || !(1...maxBytes).contains(value.utf8.count)
        }
        if map.contains(where: { containsNUL($0.key) || containsNUL($0.value) }) { errors.add(field, nulIssue) }
        if badEntry { errors.add(field, .propertyLength(rule, maxBytes: maxBytes)) }
    }
}

extension ValidationIssue {
    /// Hook0's `<rule>-size`: a map or list with too few or too many entries.
    public static func size(_ rule: String, min: Int, max: Int) -> ValidationIssue {
        ValidationIssue(
            code: "\(rule)-size", message: "must have between \(min) and \(max) entries",
            params: ["min": .number(Double(min)), "max": .number(Double(max))])
    }

    /// Hook0's `<rule>-property-length`: a key or value (or list item) outside 1 to `maxBytes` UTF-8 bytes.
    public static func propertyLength(_ rule: String, maxBytes: Int) -> ValidationIssue {
        ValidationIssue(
            code: "\(rule)-property-length", message: "each key and value must be 1 to \(maxBytes) bytes long",
            params: ["min": .number(1), "max": .number(Double(maxBytes))])
    }
}
