import Foundation

/// A JSON-like value used for validation parameters and free-form details.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// One broken rule on one field, shaped like Hook0's validator output (`code`, `message`, `params`).
public struct ValidationIssue: Sendable, Equatable, Codable {
    /// Machine-readable rule name, e.g. `length`, `range`, `event_type`.
    public var code: String
    /// Human-readable explanation, or `nil` when the code says it all.
    public var message: String?
    /// The rule's parameters (`min`, `max`, `value`, …).
    public var params: [String: JSONValue]

    public init(code: String, message: String? = nil, params: [String: JSONValue] = [:]) {
        self.code = code
        self.message = message
        self.params = params
    }

    /// A length rule failure with its bounds.
    public static func length(min: Int?, max: Int?, message: String? = nil) -> ValidationIssue {
        var params: [String: JSONValue] = [:]
        if let min { params["min"] = .number(Double(min)) }
        if let max { params["max"] = .number(Double(max)) }
        return ValidationIssue(code: "length", message: message, params: params)
    }
}

/// Every validation failure of one request, keyed by field (nested fields nest, as in Hook0).
public struct ValidationErrors: Sendable, Equatable, Error {
    /// Field name → issues on that field, or nested errors for an object field.
    public private(set) var fields: [String: Field]

    /// The failures on one field.
    public enum Field: Sendable, Equatable {
        case issues([ValidationIssue])
        case nested(ValidationErrors)
    }

    public init() { fields = [:] }

    /// True when no rule failed.
    public var isEmpty: Bool { fields.isEmpty }

    /// Records a failure on a field.
    public mutating func add(_ field: String, _ issue: ValidationIssue) {
        if case .issues(var list) = fields[field] {
            list.append(issue)
            fields[field] = .issues(list)
        } else {
            fields[field] = .issues([issue])
        }
    }

    /// Records the failures of a nested object under a field.
    public mutating func add(_ field: String, nested: ValidationErrors) {
        guard !nested.isEmpty else { return }
        fields[field] = .nested(nested)
    }

    /// Throws `self` if any rule failed.
    public func throwIfAny() throws(ValidationErrors) {
        if !isEmpty { throw self }
    }

    /// The failures in words, field by field in name order: `labels: must have between 1 and 10 entries`
    /// (an issue without a message is named by its code; nested fields are dotted).
    public var summary: String {
        var parts: [String] = []
        for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
            switch field {
            case .issues(let issues):
                parts.append("\(name): " + issues.map { $0.message ?? $0.code }.joined(separator: ", "))
            case .nested(let nested):
                parts.append(
                    contentsOf: nested.summary.split(separator: ";").map {
                        "\(name)." + $0.trimmingCharacters(in: .whitespaces)
                    })
            }
        }
        return parts.joined(separator: "; ")
    }

    /// The JSON form used in the `validation` member of a problem.
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [:]
        for (name, field) in fields {
            switch field {
            case .issues(let issues):
                object[name] = .array(
                    issues.map { issue in
                        .object([
                            "code": .string(issue.code),
                            "message": issue.message.map(JSONValue.string) ?? .null,
                            "params": .object(issue.params),
                        ])
                    })
            case .nested(let nested):
                object[name] = nested.jsonValue
            }
        }
        return .object(object)
    }
}
