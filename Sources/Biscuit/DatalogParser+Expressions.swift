/// An expression as parsed, before it is flattened into stack operations.
indirect enum ExpressionNode {
    case value(Term)
    case unary(UnaryOperator, ExpressionNode)
    case binary(BinaryOperator, ExpressionNode, ExpressionNode)
    case closure([String], ExpressionNode)

    func operations() -> [Operation] {
        var ops: [Operation] = []
        append(to: &ops)
        return ops
    }

    private func append(to ops: inout [Operation]) {
        switch self {
        case .value(let term): ops.append(.value(term))
        case .unary(let op, let operand):
            operand.append(to: &ops)
            ops.append(.unary(op))
        case .binary(let op, let left, let right):
            left.append(to: &ops)
            right.append(to: &ops)
            ops.append(.binary(op))
        case .closure(let parameters, let body):
            ops.append(.closure(parameters: parameters, ops: body.operations()))
        }
    }
}

extension Cursor {
    /// Operators by precedence level, loosest first; comparisons do not chain.
    private static let levels: [[(String, BinaryOperator)]] = [
        [("||", .lazyOr)],
        [("&&", .lazyAnd)],
        [
            ("<=", .lessOrEqual), (">=", .greaterOrEqual), ("===", .equal), ("!==", .notEqual),
            ("==", .heterogeneousEqual), ("!=", .heterogeneousNotEqual), ("<", .lessThan), (">", .greaterThan),
        ],
        [("^", .bitwiseXor)],
        [("|", .bitwiseOr)],
        [("&", .bitwiseAnd)],
        [("+", .add), ("-", .sub)],
        [("*", .mul), ("/", .div)],
    ]
    private static let comparisonLevel = 2
    private static let additiveLevel = 6

    /// An expression, from `||` (loosest) down to method calls on terms (tightest).
    mutating func parseExpression() throws(DatalogParseError) -> ExpressionNode {
        if depth == 0 { operators = 0 }
        return try parseLevel(0)
    }

    private mutating func parseLevel(_ level: Int) throws(DatalogParseError) -> ExpressionNode {
        guard level < Self.levels.count else { return try parseUnary() }
        var left = try parseLevel(level + 1)
        while true {
            let save = index
            skipSpaceAndComments()
            guard let op = matchOperator(Self.levels[level]) else {
                index = save
                return left
            }
            try countOperator()
            let right = try parseLevel(level + 1)
            switch op {
            case .lazyAnd, .lazyOr: left = .binary(op, left, .closure([], right))
            default: left = .binary(op, left, right)
            }
            if level == Self.comparisonLevel { return left }
        }
    }

    private mutating func matchOperator(_ candidates: [(String, BinaryOperator)]) -> BinaryOperator? {
        for (symbol, op) in candidates where startsWith(symbol) {
            // `||` is not `|`, `&&` is not `&`, `<-` ends a rule head, not a comparison.
            let rest = index + symbol.utf8.count
            let next = rest < bytes.count ? bytes[rest] : nil
            if symbol == "|" && next == UInt8(ascii: "|") { continue }
            if symbol == "&" && next == UInt8(ascii: "&") { continue }
            if symbol == "<" && next == UInt8(ascii: "-") { continue }
            index = rest
            return op
        }
        return nil
    }

    /// `!x` (whose operand extends over `+`/`-`, as in the reference grammar), or a method chain.
    private mutating func parseUnary() throws(DatalogParseError) -> ExpressionNode {
        skipSpaceAndComments()
        if current == UInt8(ascii: "!") && peek(1) != UInt8(ascii: "=") {
            index += 1
            let operand = try nested { (cursor: inout Cursor) throws(DatalogParseError) in
                try cursor.parseLevel(Self.additiveLevel)
            }
            return .unary(.negate, operand)
        }
        return try parseMethods()
    }

    /// A primary (a term or a parenthesized expression) followed by `.method(…)` calls.
    private mutating func parseMethods() throws(DatalogParseError) -> ExpressionNode {
        skipSpaceAndComments()
        var node: ExpressionNode
        if consume("(") {
            node = .unary(
                .parens, try nested { (cursor: inout Cursor) throws(DatalogParseError) in try cursor.parseExpression() }
            )
            try expect(")", "')'")
        } else {
            node = .value(try parseTerm(allowVariable: true))
        }
        while current == UInt8(ascii: "."), let next = peek(1), Self.isLetter(next) {
            index += 1
            try countOperator()
            let receiver = node
            node = try nested { (cursor: inout Cursor) throws(DatalogParseError) in try cursor.parseMethod(on: receiver)
            }
        }
        return node
    }

    private mutating func parseMethod(on receiver: ExpressionNode) throws(DatalogParseError) -> ExpressionNode {
        let start = index
        let name = try parseName("a method name")
        try expect("(")
        skipSpaceAndComments()
        let external = name.hasPrefix("extern::") ? String(name.dropFirst("extern::".count)) : nil
        switch name {
        case "length", "type":
            try expect(")", "')': \(name)() takes no argument")
            return .unary(name == "length" ? .length : .typeOf, receiver)
        case "all", "any":
            guard consume("$") else { throw error("expected a closure, $parameter -> expression") }
            let parameter = try parseName("a parameter name", digitFirst: true)
            try expect("->")
            let body = try parseExpression()
            try expect(")")
            return .binary(name == "all" ? .all : .any, receiver, .closure([parameter], body))
        case "try_or":
            let fallback = try parseExpression()
            try expect(")")
            return .binary(.tryOr, .closure([], receiver), fallback)
        default:
            if let external {
                guard !external.isEmpty else { throw error("expected an external function name", at: start) }
                if consume(")") { return .unary(.external(external), receiver) }
                let argument = try parseExpression()
                try expect(")")
                return .binary(.external(external), receiver, argument)
            }
            guard let op = Self.binaryMethods[name] else { throw error("unknown method '\(name)'", at: start) }
            let argument = try parseExpression()
            try expect(")")
            return .binary(op, receiver, argument)
        }
    }

    private static let binaryMethods: [String: BinaryOperator] = [
        "contains": .contains, "starts_with": .prefix, "ends_with": .suffix, "matches": .regex,
        "intersection": .intersection, "union": .union, "get": .get,
    ]
}
