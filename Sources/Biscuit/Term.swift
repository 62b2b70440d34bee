/// A value of Biscuit Datalog: an argument of a predicate or an operand of an expression.
///
/// Strings compare byte for byte (UTF-8), as in every other Biscuit implementation, not by Unicode canonical
/// equivalence as `Swift.String` does.
public indirect enum Term: Sendable {
    /// A variable, `$name`; only in rules, checks, policies and expressions.
    case variable(String)
    /// A signed 64-bit integer.
    case integer(Int64)
    /// A UTF-8 string.
    case string(String)
    /// A date: seconds since 1970-01-01T00:00:00Z.
    case date(UInt64)
    /// A byte array, written `hex:0a1b`.
    case bytes([UInt8])
    /// A boolean.
    case bool(Bool)
    /// A set of terms of one type, none of them a variable or a set, written `{1, 2}` (`{,}` when empty).
    case set(Set<Term>)
    /// The absence of a value, written `null`.
    case null
    /// An ordered list of terms, written `[1, "a"]`.
    case array([Term])
    /// A map from integer or string keys to terms, written `{"a": 1, 2: true}`.
    case map([MapKey: Term])
    /// A named placeholder, `{name}`, replaced by a value before the Datalog is used.
    case parameter(String)

    /// The name `.type()` returns for this term.
    public var typeName: String {
        switch self {
        case .variable: "variable"
        case .integer: "integer"
        case .string: "string"
        case .date: "date"
        case .bytes: "bytes"
        case .bool: "bool"
        case .set: "set"
        case .null: "null"
        case .array: "array"
        case .map: "map"
        case .parameter: "parameter"
        }
    }

    /// Whether the term contains no variable and no parameter (as a fact's terms must).
    public var isGround: Bool {
        switch self {
        case .variable, .parameter: false
        case .set(let elements): elements.allSatisfy(\.isGround)
        case .array(let elements): elements.allSatisfy(\.isGround)
        case .map(let entries): entries.values.allSatisfy(\.isGround)
        default: true
        }
    }

    var typeRank: Int {
        switch self {
        case .variable: 0
        case .integer: 1
        case .string: 2
        case .date: 3
        case .bytes: 4
        case .bool: 5
        case .set: 6
        case .null: 7
        case .array: 8
        case .map: 9
        case .parameter: 10
        }
    }
}

/// A key of a `Term.map`: an integer or a string.
public enum MapKey: Sendable {
    /// An integer key.
    case integer(Int64)
    /// A string key.
    case string(String)

    /// The key as a term (how closures over maps see it).
    public var term: Term {
        switch self {
        case .integer(let value): .integer(value)
        case .string(let value): .string(value)
        }
    }
}

extension MapKey: Hashable, Comparable {
    /// Same type and value; strings byte for byte.
    public static func == (left: MapKey, right: MapKey) -> Bool {
        switch (left, right) {
        case (.integer(let a), .integer(let b)): a == b
        case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
        default: false
        }
    }

    /// Hashes the type and the value (a string's bytes).
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .integer(let value):
            hasher.combine(0)
            hasher.combine(value)
        case .string(let value):
            hasher.combine(1)
            hashUTF8(value, into: &hasher)
        }
    }

    /// Integers first, then strings, each in natural (byte) order.
    public static func < (left: MapKey, right: MapKey) -> Bool {
        switch (left, right) {
        case (.integer(let a), .integer(let b)): a < b
        case (.integer, .string): true
        case (.string, .integer): false
        case (.string(let a), .string(let b)): a.utf8.lexicographicallyPrecedes(b.utf8)
        }
    }
}

extension Term: Hashable, Comparable {
    /// Same type and value; strings and names byte for byte, sets regardless of order.
    public static func == (left: Term, right: Term) -> Bool {
        switch (left, right) {
        case (.variable(let a), .variable(let b)), (.string(let a), .string(let b)),
            (.parameter(let a), .parameter(let b)):
            a.utf8.elementsEqual(b.utf8)
        case (.integer(let a), .integer(let b)): a == b
        case (.date(let a), .date(let b)): a == b
        case (.bytes(let a), .bytes(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.set(let a), .set(let b)): a == b
        case (.null, .null): true
        case (.array(let a), .array(let b)): a == b
        case (.map(let a), .map(let b)): a == b
        default: false
        }
    }

    /// Hashes the type and the value (a string's bytes).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(typeRank)
        switch self {
        case .variable(let value), .string(let value), .parameter(let value): hashUTF8(value, into: &hasher)
        case .integer(let value): hasher.combine(value)
        case .date(let value): hasher.combine(value)
        case .bytes(let value): hasher.combine(value)
        case .bool(let value): hasher.combine(value)
        case .set(let value): hasher.combine(value)
        case .null: break
        case .array(let value): hasher.combine(value)
        case .map(let value): hasher.combine(value)
        }
    }

    /// A total order (by type, then by value) used to print sets and maps the same way every time.
    public static func < (left: Term, right: Term) -> Bool {
        if left.typeRank != right.typeRank { return left.typeRank < right.typeRank }
        switch (left, right) {
        case (.variable(let a), .variable(let b)), (.string(let a), .string(let b)),
            (.parameter(let a), .parameter(let b)):
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        case (.integer(let a), .integer(let b)): return a < b
        case (.date(let a), .date(let b)): return a < b
        case (.bytes(let a), .bytes(let b)): return a.lexicographicallyPrecedes(b)
        case (.bool(let a), .bool(let b)): return !a && b
        case (.set(let a), .set(let b)): return a.sorted().lexicographicallyPrecedes(b.sorted())
        case (.array(let a), .array(let b)): return a.lexicographicallyPrecedes(b)
        case (.map(let a), .map(let b)):
            let keysA = a.keys.sorted()
            let keysB = b.keys.sorted()
            if keysA != keysB { return keysA.lexicographicallyPrecedes(keysB) }
            return keysA.map { a[$0] ?? .null }.lexicographicallyPrecedes(keysB.map { b[$0] ?? .null })
        default: return false
        }
    }
}

private func hashUTF8(_ string: String, into hasher: inout Hasher) {
    var string = string
    string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    hasher.combine(string.utf8.count)
}
