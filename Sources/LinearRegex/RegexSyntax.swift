/// Parses the supported regular expression syntax (see `RegexPattern`) into a tree; throws on anything else.
///
/// Groups and quantifiers may nest at most `maxDepth` levels deep, so that no pattern a token carries can exhaust
/// the stack while it is parsed, compiled or released (Biscuit's Datalog parser bounds its own nesting the same
/// way).
struct RegexSyntax {
    indirect enum Node {
        case empty
        case scalar(Unicode.Scalar)
        case anyButNewline
        case set(ScalarSet)
        case assertion(RegexPattern.Assertion)
        case concatenation([Node])
        case alternation([Node])
        case repetition(Node, minimum: Int, maximum: Int?)
    }

    typealias Refusal = LinearRegex.Refusal

    /// A parsed piece of the pattern and how many groups and quantifiers nest inside it, itself included.
    struct Parsed {
        var node: Node
        var depth: Int
    }

    /// Largest bound of a counted repetition (`{n,m}`).
    static let maxCount = 1000
    /// Deepest nesting of groups and quantifiers accepted (Biscuit's Datalog parser's bound).
    static let maxDepth = 64

    private let scalars: [Unicode.Scalar]
    private var index = 0
    /// Groups open at the current position.
    private var openGroups = 0

    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    var atEnd: Bool { index >= scalars.count }
    private var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private mutating func consume(_ scalar: Unicode.Scalar) -> Bool {
        guard current == scalar else { return false }
        index += 1
        return true
    }

    mutating func parseAlternation() throws(Refusal) -> Parsed {
        var branches: [Node] = []
        var depth = 0
        repeat {
            let branch = try parseConcatenation()
            branches.append(branch.node)
            depth = max(depth, branch.depth)
        } while consume("|")
        return Parsed(node: branches.count == 1 ? branches[0] : .alternation(branches), depth: depth)
    }

    private mutating func parseConcatenation() throws(Refusal) -> Parsed {
        var items: [Node] = []
        var depth = 0
        while let scalar = current, scalar != "|", scalar != ")" {
            let repeated = try parseQuantifiers(try parseAtom())
            items.append(repeated.node)
            depth = max(depth, repeated.depth)
        }
        return Parsed(node: items.isEmpty ? .empty : items.count == 1 ? items[0] : .concatenation(items), depth: depth)
    }

    /// Each quantifier wraps what precedes it one level deeper (`a**…*` nests without any group).
    private mutating func parseQuantifiers(_ atom: Parsed) throws(Refusal) -> Parsed {
        var parsed = atom
        while let scalar = current {
            let bounds: (Int, Int?)
            switch scalar {
            case "*": bounds = (0, nil)
            case "+": bounds = (1, nil)
            case "?": bounds = (0, 1)
            case "{": bounds = try parseCount()
            default: return parsed
            }
            index += 1
            _ = consume("?")
            if case .assertion = parsed.node { throw .unsupported }
            guard parsed.depth < Self.maxDepth else { throw .nestedTooDeep }
            parsed = Parsed(
                node: .repetition(parsed.node, minimum: bounds.0, maximum: bounds.1), depth: parsed.depth + 1)
        }
        return parsed
    }

    /// `{n}`, `{n,}` or `{n,m}`, leaving the index on the closing brace.
    private mutating func parseCount() throws(Refusal) -> (Int, Int?) {
        index += 1
        guard let minimum = parseNumber() else { throw .unsupported }
        var maximum: Int? = minimum
        if consume(",") { maximum = current == "}" ? nil : parseNumber() }
        guard current == "}", minimum <= Self.maxCount, (maximum ?? minimum) <= Self.maxCount,
            (maximum ?? minimum) >= minimum
        else { throw .unsupported }
        return (minimum, maximum)
    }

    private mutating func parseNumber() -> Int? {
        let start = index
        while let scalar = current, ("0"..."9").contains(scalar), index - start < 6 { index += 1 }
        guard index > start else { return nil }
        return Int(String(String.UnicodeScalarView(scalars[start..<index])))
    }

    private mutating func parseAtom() throws(Refusal) -> Parsed {
        guard let scalar = current else { throw .unsupported }
        index += 1
        switch scalar {
        case ".": return Parsed(node: .anyButNewline, depth: 0)
        case "^": return Parsed(node: .assertion(.start), depth: 0)
        case "$": return Parsed(node: .assertion(.end), depth: 0)
        case "(":
            if consume("?") {
                guard consume(":") else { throw .unsupported }
            }
            return try parseGroup()
        case "[": return Parsed(node: try parseBracket(), depth: 0)
        case "\\": return Parsed(node: try parseEscape(), depth: 0)
        case "*", "+", "?", "{", ")", "]", "}": throw .unsupported
        default: return Parsed(node: .scalar(scalar), depth: 0)
        }
    }

    /// The inside of a group, after its opening parenthesis, and the closing one; refused past `maxDepth` before
    /// recursing, so that the depth of the parser's own recursion is bounded too.
    private mutating func parseGroup() throws(Refusal) -> Parsed {
        guard openGroups < Self.maxDepth else { throw .nestedTooDeep }
        openGroups += 1
        defer { openGroups -= 1 }
        let inner = try parseAlternation()
        guard consume(")") else { throw .unsupported }
        guard inner.depth < Self.maxDepth else { throw .nestedTooDeep }
        return Parsed(node: inner.node, depth: inner.depth + 1)
    }

    private mutating func parseEscape() throws(Refusal) -> Node {
        guard let scalar = current else { throw .unsupported }
        index += 1
        switch scalar {
        case "d", "D", "w", "W", "s", "S":
            var set = ScalarSet()
            set.classes = [Self.escapeClass(scalar)]
            return .set(set)
        case "b": return .assertion(.wordBoundary)
        case "B": return .assertion(.notWordBoundary)
        case "A": return .assertion(.start)
        case "z": return .assertion(.end)
        default:
            guard let literal = Self.escapedLiteral(scalar) else { throw .unsupported }
            return .scalar(literal)
        }
    }

    private static func escapeClass(_ scalar: Unicode.Scalar) -> (ScalarSet.Class, negated: Bool) {
        switch scalar {
        case "d", "D": (.digit, scalar == "D")
        case "w", "W": (.word, scalar == "W")
        default: (.space, scalar == "S")
        }
    }

    /// What an escaped character stands for outside a class: a metacharacter itself, or a control character.
    private static func escapedLiteral(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        switch scalar {
        case "n": "\n"
        case "t": "\t"
        case "r": "\r"
        case "\\", ".", "+", "*", "?", "(", ")", "[", "]", "{", "}", "|", "^", "$", "-", "/", "#", "&", "~", " ":
            scalar
        default: nil
        }
    }

    /// `[…]` after the opening bracket: ranges, escapes and classes, `^` to negate.
    private mutating func parseBracket() throws(Refusal) -> Node {
        var set = ScalarSet()
        set.negated = consume("^")
        var first = true
        while let scalar = current, scalar != "]" || first {
            first = false
            index += 1
            var low = scalar
            if scalar == "\\" {
                guard let escaped = current else { throw .unsupported }
                index += 1
                if "dDwWsS".unicodeScalars.contains(escaped) {
                    set.classes.append(Self.escapeClass(escaped))
                    continue
                }
                guard let literal = Self.escapedLiteral(escaped) else { throw .unsupported }
                low = literal
            } else if scalar == "[" {
                throw .unsupported
            }
            if current == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                guard var high = current else { throw .unsupported }
                index += 1
                if high == "\\" {
                    guard let escaped = current, let literal = Self.escapedLiteral(escaped) else {
                        throw .unsupported
                    }
                    index += 1
                    high = literal
                }
                guard low.value <= high.value else { throw .unsupported }
                set.ranges.append(low.value...high.value)
            } else {
                set.ranges.append(low.value...low.value)
            }
        }
        guard consume("]") else { throw .unsupported }
        return .set(set)
    }
}
