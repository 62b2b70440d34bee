/// Parses the supported regular expression syntax (see `RegexPattern`) into a tree; nil on anything else.
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

    /// Largest bound of a counted repetition (`{n,m}`).
    static let maxCount = 1000

    private let scalars: [Unicode.Scalar]
    private var index = 0

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

    mutating func parseAlternation() -> Node? {
        var branches: [Node] = []
        repeat {
            guard let branch = parseConcatenation() else { return nil }
            branches.append(branch)
        } while consume("|")
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseConcatenation() -> Node? {
        var items: [Node] = []
        while let scalar = current, scalar != "|", scalar != ")" {
            guard let atom = parseAtom(), let repeated = parseQuantifiers(atom) else { return nil }
            items.append(repeated)
        }
        return items.isEmpty ? .empty : items.count == 1 ? items[0] : .concatenation(items)
    }

    private mutating func parseQuantifiers(_ atom: Node) -> Node? {
        var node = atom
        while let scalar = current {
            let bounds: (Int, Int?)
            switch scalar {
            case "*": bounds = (0, nil)
            case "+": bounds = (1, nil)
            case "?": bounds = (0, 1)
            case "{":
                guard let counted = parseCount() else { return nil }
                bounds = counted
            default: return node
            }
            index += 1
            _ = consume("?")
            if case .assertion = node { return nil }
            node = .repetition(node, minimum: bounds.0, maximum: bounds.1)
        }
        return node
    }

    /// `{n}`, `{n,}` or `{n,m}`, leaving the index on the closing brace.
    private mutating func parseCount() -> (Int, Int?)? {
        index += 1
        guard let minimum = parseNumber() else { return nil }
        var maximum: Int? = minimum
        if consume(",") { maximum = current == "}" ? nil : parseNumber() }
        guard current == "}", minimum <= Self.maxCount, (maximum ?? minimum) <= Self.maxCount,
            (maximum ?? minimum) >= minimum
        else { return nil }
        return (minimum, maximum)
    }

    private mutating func parseNumber() -> Int? {
        let start = index
        while let scalar = current, ("0"..."9").contains(scalar), index - start < 6 { index += 1 }
        guard index > start else { return nil }
        return Int(String(String.UnicodeScalarView(scalars[start..<index])))
    }

    private mutating func parseAtom() -> Node? {
        guard let scalar = current else { return nil }
        index += 1
        switch scalar {
        case ".": return .anyButNewline
        case "^": return .assertion(.start)
        case "$": return .assertion(.end)
        case "(":
            if consume("?") {
                guard consume(":") else { return nil }
            }
            guard let inner = parseAlternation(), consume(")") else { return nil }
            return inner
        case "[": return parseBracket()
        case "\\": return parseEscape()
        case "*", "+", "?", "{", ")", "]", "}": return nil
        default: return .scalar(scalar)
        }
    }

    private mutating func parseEscape() -> Node? {
        guard let scalar = current else { return nil }
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
            guard let literal = Self.escapedLiteral(scalar) else { return nil }
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
    private mutating func parseBracket() -> Node? {
        var set = ScalarSet()
        set.negated = consume("^")
        var first = true
        while let scalar = current, scalar != "]" || first {
            first = false
            index += 1
            var low = scalar
            if scalar == "\\" {
                guard let escaped = current else { return nil }
                index += 1
                if "dDwWsS".unicodeScalars.contains(escaped) {
                    set.classes.append(Self.escapeClass(escaped))
                    continue
                }
                guard let literal = Self.escapedLiteral(escaped) else { return nil }
                low = literal
            } else if scalar == "[" {
                return nil
            }
            if current == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                guard var high = current else { return nil }
                index += 1
                if high == "\\" {
                    guard let escaped = current, let literal = Self.escapedLiteral(escaped) else { return nil }
                    index += 1
                    high = literal
                }
                guard low.value <= high.value else { return nil }
                set.ranges.append(low.value...high.value)
            } else {
                set.ranges.append(low.value...low.value)
            }
        }
        guard consume("]") else { return nil }
        return .set(set)
    }
}
