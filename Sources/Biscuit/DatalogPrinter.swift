/// Prints Datalog as text that `DatalogParser` reads back to the same values.
extension Term: CustomStringConvertible {
    /// The term in Datalog syntax; sets and maps in a stable order.
    public var description: String {
        switch self {
        case .variable(let name): "$\(name)"
        case .integer(let value): String(value)
        case .string(let value): Self.quoted(value)
        case .date(let seconds): RFC3339.format(seconds)
        case .bytes(let bytes): "hex:\(Hex.encode(bytes))"
        case .bool(let value): value ? "true" : "false"
        case .set(let elements):
            elements.isEmpty ? "{,}" : "{" + elements.sorted().map(\.description).joined(separator: ", ") + "}"
        case .null: "null"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries):
            "{" + entries.sorted { $0.key < $1.key }.map { "\($0.key.term): \($0.value)" }.joined(separator: ", ") + "}"
        case .parameter(let name): "{\(name)}"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension Predicate: CustomStringConvertible {
    /// `name(term, …)`.
    public var description: String { "\(name)(" + terms.map(\.description).joined(separator: ", ") + ")" }
}

extension Fact: CustomStringConvertible {
    /// The fact's predicate.
    public var description: String { predicate.description }
}

extension Scope: CustomStringConvertible {
    /// `authority`, `previous`, the key in text, or `{parameter}`.
    public var description: String {
        switch self {
        case .authority: "authority"
        case .previous: "previous"
        case .publicKey(let key): key.description
        case .parameter(let name): "{\(name)}"
        }
    }
}

extension Rule: CustomStringConvertible {
    /// `head(…) <- body`.
    public var description: String { "\(head) <- \(bodyDescription)" }

    /// The body alone: predicates, expressions, then `trusting …`.
    var bodyDescription: String {
        var elements = body.map(\.description) + expressions.map(\.description)
        if elements.isEmpty { elements = ["true"] }
        var text = elements.joined(separator: ", ")
        if !scopes.isEmpty { text += " trusting " + scopes.map(\.description).joined(separator: ", ") }
        return text
    }
}

extension Check: CustomStringConvertible {
    /// `check if …`, `check all …` or `reject if …`, alternatives joined by `or`.
    public var description: String {
        let keyword =
            switch kind {
            case .one: "check if"
            case .all: "check all"
            case .reject: "reject if"
            }
        return keyword + " " + queries.map(\.bodyDescription).joined(separator: " or ")
    }
}

extension Policy: CustomStringConvertible {
    /// `allow if …` or `deny if …`.
    public var description: String {
        (kind == .allow ? "allow if " : "deny if ") + queries.map(\.bodyDescription).joined(separator: " or ")
    }
}

extension BlockContent: CustomStringConvertible {
    /// The block as source: `trusting …;` first, then one element per line, each ended by `;`.
    public var description: String {
        var lines: [String] = []
        if !scopes.isEmpty { lines.append("trusting " + scopes.map(\.description).joined(separator: ", ") + ";") }
        lines += facts.map { "\($0);" } + rules.map { "\($0);" } + checks.map { "\($0);" }
        lines += policies.map { "\($0);" }
        return lines.map { $0 + "\n" }.joined()
    }
}

extension Expression: CustomStringConvertible {
    /// The expression in infix syntax, rebuilt from its operations.
    public var description: String { Self.render(ops) ?? "<invalid expression>" }

    private static func render(_ ops: [Operation]) -> String? {
        enum Item {
            case text(String)
            case closure([String], String)
        }
        var stack: [Item] = []
        for op in ops {
            switch op {
            case .value(let term): stack.append(.text(term.description))
            case .unary(let unary):
                guard case .text(let operand)? = stack.popLast() else { return nil }
                stack.append(.text(render(unary, operand)))
            case .binary(let binary):
                guard let right = stack.popLast(), let left = stack.popLast() else { return nil }
                switch (left, right) {
                case (.text(let left), .text(let right)): stack.append(.text(render(binary, left, right)))
                case (.text(let left), .closure(let parameters, let body)):
                    let closure =
                        parameters.isEmpty ? body : parameters.map { "$\($0)" }.joined(separator: ", ") + " -> " + body
                    stack.append(.text(render(binary, left, closure)))
                case (.closure(_, let body), .text(let right)): stack.append(.text(render(binary, body, right)))
                default: return nil
                }
            case .closure(let parameters, let body):
                guard let text = render(body) else { return nil }
                stack.append(.closure(parameters, text))
            }
        }
        guard stack.count == 1, case .text(let text) = stack[0] else { return nil }
        return text
    }

    private static func render(_ op: UnaryOperator, _ operand: String) -> String {
        switch op {
        case .negate: "!\(operand)"
        case .parens: "(\(operand))"
        case .length: "\(operand).length()"
        case .typeOf: "\(operand).type()"
        case .external(let name): "\(operand).extern::\(name)()"
        }
    }

    private static func render(_ op: BinaryOperator, _ left: String, _ right: String) -> String {
        switch op {
        case .lessThan: "\(left) < \(right)"
        case .greaterThan: "\(left) > \(right)"
        case .lessOrEqual: "\(left) <= \(right)"
        case .greaterOrEqual: "\(left) >= \(right)"
        case .equal: "\(left) === \(right)"
        case .notEqual: "\(left) !== \(right)"
        case .heterogeneousEqual: "\(left) == \(right)"
        case .heterogeneousNotEqual: "\(left) != \(right)"
        case .contains: "\(left).contains(\(right))"
        case .prefix: "\(left).starts_with(\(right))"
        case .suffix: "\(left).ends_with(\(right))"
        case .regex: "\(left).matches(\(right))"
        case .add: "\(left) + \(right)"
        case .sub: "\(left) - \(right)"
        case .mul: "\(left) * \(right)"
        case .div: "\(left) / \(right)"
        case .and, .lazyAnd: "\(left) && \(right)"
        case .or, .lazyOr: "\(left) || \(right)"
        case .intersection: "\(left).intersection(\(right))"
        case .union: "\(left).union(\(right))"
        case .bitwiseAnd: "\(left) & \(right)"
        case .bitwiseOr: "\(left) | \(right)"
        case .bitwiseXor: "\(left) ^ \(right)"
        case .all: "\(left).all(\(right))"
        case .any: "\(left).any(\(right))"
        case .get: "\(left).get(\(right))"
        case .external(let name): "\(left).extern::\(name)(\(right))"
        case .tryOr: "\(left).try_or(\(right))"
        }
    }
}
