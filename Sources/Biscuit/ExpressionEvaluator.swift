import LinearRegex

/// A function an authorizer makes available to expressions as `x.extern::name()` or `x.extern::name(y)`; the
/// second argument is nil for the unary form. Throwing makes the expression fail.
public typealias ExternalFunction = @Sendable (_ left: Term, _ right: Term?) throws -> Term

/// Why an expression could not be evaluated.
enum EvaluationFailure: Error, Equatable {
    case unknownVariable(String)
    case invalidType
    case overflow
    case divideByZero
    case invalidStack
    case shadowedVariable(String)
    case undefinedExternal(String)
    case externalFailed(String)
    case regexNestedTooDeep
    /// A run limit was reached inside the expression (a closure or a match ran past the deadline).
    case limit(RunLimit)

    var message: String {
        switch self {
        case .unknownVariable(let name): "unknown variable $\(name)"
        case .invalidType: "invalid type for the operation"
        case .overflow: "integer overflow"
        case .divideByZero: "division by zero or overflow"
        case .invalidStack: "invalid expression stack"
        case .shadowedVariable(let name): "closure parameter $\(name) shadows a variable"
        case .undefinedExternal(let name): "no external function named \(name)"
        case .externalFailed(let message): "external function failed: \(message)"
        case .regexNestedTooDeep: "regular expression nested more than \(LinearRegex.maxDepth) levels deep"
        case .limit(let limit): "\(limit)"
        }
    }
}

/// Evaluates expressions against variable bindings (the stack machine of the specification), within the
/// authorization's time budget: closures and regular expression matches check it as they go, since nested
/// closures over collections and long matches can take far longer than any single Datalog step.
struct ExpressionEvaluator: Sendable {
    var externals: [String: ExternalFunction] = [:]

    private enum StackItem {
        case term(Term)
        case closure([String], [Operation])
    }

    func evaluate(_ ops: [Operation], bindings: [String: Term], budget: TimeBudget) throws(EvaluationFailure) -> Term {
        var stack: [StackItem] = []
        for op in ops {
            switch op {
            case .value(.variable(let name)):
                guard let value = bindings[name] else { throw .unknownVariable(name) }
                stack.append(.term(value))
            case .value(let term):
                stack.append(.term(term))
            case .unary(let unary):
                guard case .term(let value)? = stack.popLast() else { throw .invalidStack }
                stack.append(.term(try evaluate(unary, value)))
            case .binary(let binary):
                guard let right = stack.popLast(), let left = stack.popLast() else { throw .invalidStack }
                switch (left, right) {
                case (.term(let left), .term(let right)):
                    stack.append(.term(try evaluate(binary, left, right, budget: budget)))
                case (.term(let left), .closure(let parameters, let body)):
                    try checkShadowing(parameters, bindings)
                    stack.append(.term(try evaluate(binary, left, closure: parameters, body, bindings, budget: budget)))
                case (.closure(let parameters, let body), .term(let fallback)) where binary == .tryOr:
                    try checkShadowing(parameters, bindings)
                    do {
                        stack.append(.term(try evaluate(body, bindings: bindings, budget: budget)))
                    } catch .limit(let limit) {
                        // A limit stops the whole authorization; it is not a failure the fallback may replace.
                        throw .limit(limit)
                    } catch {
                        stack.append(.term(fallback))
                    }
                default:
                    throw .invalidStack
                }
            case .closure(let parameters, let body):
                stack.append(.closure(parameters, body))
            }
        }
        guard stack.count == 1, case .term(let result) = stack[0] else { throw .invalidStack }
        return result
    }

    private func checkShadowing(_ parameters: [String], _ bindings: [String: Term]) throws(EvaluationFailure) {
        if let shadowed = parameters.first(where: { bindings[$0] != nil }) { throw .shadowedVariable(shadowed) }
    }

    private func evaluate(_ op: UnaryOperator, _ value: Term) throws(EvaluationFailure) -> Term {
        switch (op, value) {
        case (.negate, .bool(let flag)): return .bool(!flag)
        case (.parens, _): return value
        case (.length, .string(let text)): return .integer(Int64(text.utf8.count))
        case (.length, .bytes(let bytes)): return .integer(Int64(bytes.count))
        case (.length, .set(let elements)): return .integer(Int64(elements.count))
        case (.length, .array(let elements)): return .integer(Int64(elements.count))
        case (.length, .map(let entries)): return .integer(Int64(entries.count))
        case (.typeOf, .variable), (.typeOf, .parameter): throw .invalidType
        case (.typeOf, _): return .string(value.typeName)
        case (.external(let name), _): return try callExternal(name, value, nil)
        default: throw .invalidType
        }
    }

    private func callExternal(_ name: String, _ left: Term, _ right: Term?) throws(EvaluationFailure) -> Term {
        guard let function = externals[name] else { throw .undefinedExternal(name) }
        do {
            return try function(left, right)
        } catch {
            throw .externalFailed(String(describing: error))
        }
    }

    private func evaluate(
        _ op: BinaryOperator, _ left: Term, closure parameters: [String], _ body: [Operation],
        _ bindings: [String: Term], budget: TimeBudget
    ) throws(EvaluationFailure) -> Term {
        switch (op, left, parameters.count) {
        case (.lazyOr, .bool(true), 0): return .bool(true)
        case (.lazyAnd, .bool(false), 0): return .bool(false)
        case (.lazyOr, .bool(false), 0), (.lazyAnd, .bool(true), 0):
            return try evaluate(body, bindings: bindings, budget: budget)
        case (.all, _, 1), (.any, _, 1):
            let elements: [Term]
            switch left {
            // Sets and maps in their natural order, as the reference walks them (the first failing or deciding
            // element is then the same).
            case .set(let set): elements = set.sorted()
            case .array(let array): elements = array
            case .map(let map): elements = map.sorted { $0.key < $1.key }.map { .array([$0.key.term, $0.value]) }
            default: throw .invalidType
            }
            let wanted = op == .any
            var inner = bindings
            for element in elements {
                // Nested closures multiply their collections' sizes, so the deadline is checked per element (a
                // clock read costs far less than evaluating the body).
                try budget.checkDuringEvaluation()
                inner[parameters[0]] = element
                guard case .bool(let holds) = try evaluate(body, bindings: inner, budget: budget) else {
                    throw .invalidType
                }
                if holds == wanted { return .bool(wanted) }
            }
            return .bool(!wanted)
        default:
            throw .invalidType
        }
    }

    private func evaluate(_ op: BinaryOperator, _ left: Term, _ right: Term, budget: TimeBudget)
        throws(EvaluationFailure) -> Term
    {
        if case .external(let name) = op { return try callExternal(name, left, right) }
        switch (left, right) {
        case (.integer(let a), .integer(let b)): return try integerOperation(op, a, b)
        case (.string(let a), .string(let b)): return try stringOperation(op, a, b, budget: budget)
        case (.date(let a), .date(let b)):
            if let ordered = compare(op, a, b) { return .bool(ordered) }
        case (.bytes(let a), .bytes(let b)):
            if let equality = equality(op, a == b) { return .bool(equality) }
        case (.bool(let a), .bool(let b)):
            switch op {
            case .and: return .bool(a && b)
            case .or: return .bool(a || b)
            default: if let equality = equality(op, a == b) { return .bool(equality) }
            }
        case (.set(let a), .set(let b)):
            switch op {
            case .intersection: return .set(a.intersection(b))
            case .union: return .set(a.union(b))
            case .contains: return .bool(a.isSuperset(of: b))
            default: if let equality = equality(op, a == b) { return .bool(equality) }
            }
        case (.set(let a), .integer), (.set(let a), .date), (.set(let a), .bool), (.set(let a), .string),
            (.set(let a), .bytes):
            if op == .contains { return .bool(a.contains(right)) }
        case (.null, .null):
            if let equality = equality(op, true) { return .bool(equality) }
        case (.array(let a), .array(let b)):
            switch op {
            case .prefix: return .bool(a.starts(with: b))
            case .suffix: return .bool(a.count >= b.count && Array(a.suffix(b.count)) == b)
            case .contains: return .bool(a.contains(right))
            default: if let equality = equality(op, a == b) { return .bool(equality) }
            }
        case (.map(let a), .map(let b)):
            if let equality = equality(op, a == b) { return .bool(equality) }
        default: break
        }
        switch (op, left, right) {
        case (.contains, .array(let a), _): return .bool(a.contains(right))
        case (.contains, .map(let entries), .integer(let key)): return .bool(entries[.integer(key)] != nil)
        case (.contains, .map(let entries), .string(let key)): return .bool(entries[.string(key)] != nil)
        case (.contains, .map, _): return .bool(false)
        case (.get, .array(let elements), .integer(let index)):
            return index >= 0 && index < elements.count ? elements[Int(index)] : .null
        case (.get, .map(let entries), .integer(let key)): return entries[.integer(key)] ?? .null
        case (.get, .map(let entries), .string(let key)): return entries[.string(key)] ?? .null
        case (.heterogeneousEqual, _, _): return .bool(false)
        case (.heterogeneousNotEqual, _, _): return .bool(true)
        default: throw .invalidType
        }
    }

    /// `==`/`===` and `!=`/`!==` on two values of one type; nil for any other operator.
    private func equality(_ op: BinaryOperator, _ equal: Bool) -> Bool? {
        switch op {
        case .equal, .heterogeneousEqual: equal
        case .notEqual, .heterogeneousNotEqual: !equal
        default: nil
        }
    }

    private func compare<T: Comparable>(_ op: BinaryOperator, _ a: T, _ b: T) -> Bool? {
        switch op {
        case .lessThan: a < b
        case .greaterThan: a > b
        case .lessOrEqual: a <= b
        case .greaterOrEqual: a >= b
        default: equality(op, a == b)
        }
    }

    private func integerOperation(_ op: BinaryOperator, _ a: Int64, _ b: Int64) throws(EvaluationFailure) -> Term {
        if let result = compare(op, a, b) { return .bool(result) }
        let result: (partialValue: Int64, overflow: Bool)
        switch op {
        case .add: result = a.addingReportingOverflow(b)
        case .sub: result = a.subtractingReportingOverflow(b)
        case .mul: result = a.multipliedReportingOverflow(by: b)
        case .div:
            guard b != 0, !(a == .min && b == -1) else { throw .divideByZero }
            return .integer(a / b)
        case .bitwiseAnd: return .integer(a & b)
        case .bitwiseOr: return .integer(a | b)
        case .bitwiseXor: return .integer(a ^ b)
        default: throw .invalidType
        }
        if result.overflow { throw .overflow }
        return .integer(result.partialValue)
    }

    private func stringOperation(_ op: BinaryOperator, _ a: String, _ b: String, budget: TimeBudget)
        throws(EvaluationFailure) -> Term
    {
        switch op {
        case .prefix: return .bool(a.utf8.starts(with: b.utf8))
        case .suffix: return .bool(a.utf8.reversed().starts(with: b.utf8.reversed()))
        case .contains: return .bool(UTF8Search.contains(a, b))
        case .regex: return .bool(try RegexMatcher.matches(a, pattern: b, budget: budget))
        case .add: return .string(a + b)
        default:
            if let equality = equality(op, a.utf8.elementsEqual(b.utf8)) { return .bool(equality) }
            throw .invalidType
        }
    }
}

/// Byte-wise substring search on UTF-8 (Biscuit strings are bytes, not Swift characters).
enum UTF8Search {
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        let bytes = Array(haystack.utf8)
        let pattern = Array(needle.utf8)
        if pattern.isEmpty { return true }
        guard pattern.count <= bytes.count else { return false }
        for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
            if bytes[start..<(start + pattern.count)].elementsEqual(pattern) { return true }
        }
        return false
    }
}
