/// A regular expression compiled for `LinearRegex`'s machine: the syntax of Rust's `regex` engine that
/// guarantees linear-time matching. Literals, `.`, classes (`[a-z]`, `[^…]`, `\d`, `\w`, `\s` and their negations,
/// Unicode-aware), anchors (`^`, `$`, `\A`, `\z`, `\b`, `\B`), groups (`(…)`, `(?:…)`), alternation and the
/// quantifiers `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (and their lazy forms, which do not change whether a string
/// matches). Anything else (flags, look-around, back-references) makes the pattern invalid.
struct RegexPattern: Sendable {
    enum Assertion: Sendable {
        case start, end, wordBoundary, notWordBoundary
    }

    enum Instruction: Sendable {
        case scalar(Unicode.Scalar)
        case anyButNewline
        case set(ScalarSet)
        case split(Int, Int)
        case jump(Int)
        case assert(Assertion)
        case match
    }

    /// Most instructions a pattern may compile to (large counted repetitions are refused).
    static let maxInstructions = 20_000

    private(set) var program: [Instruction] = []

    /// Compiles `pattern`; throws `.unsupported` if it is not valid in the supported syntax or compiles to more
    /// than `maxInstructions`, `.nestedTooDeep` if its groups and quantifiers nest past `RegexSyntax.maxDepth`.
    init(_ pattern: String) throws(RegexSyntax.Refusal) {
        var parser = RegexSyntax(Array(pattern.unicodeScalars))
        let parsed = try parser.parseAlternation()
        guard parser.atEnd, emit(parsed.node) else { throw .unsupported }
        program.append(.match)
    }

    private mutating func emit(_ node: RegexSyntax.Node) -> Bool {
        guard program.count < Self.maxInstructions else { return false }
        switch node {
        case .empty: return true
        case .scalar(let scalar): program.append(.scalar(scalar))
        case .anyButNewline: program.append(.anyButNewline)
        case .set(let set): program.append(.set(set))
        case .assertion(let assertion): program.append(.assert(assertion))
        case .concatenation(let nodes):
            for node in nodes where !emit(node) { return false }
        case .alternation(let branches):
            var jumps: [Int] = []
            for (index, branch) in branches.enumerated() {
                if index < branches.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, 0))
                    guard emit(branch) else { return false }
                    jumps.append(program.count)
                    program.append(.jump(0))
                    program[split] = .split(split + 1, program.count)
                } else {
                    guard emit(branch) else { return false }
                }
            }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .repetition(let body, let minimum, let maximum):
            for _ in 0..<minimum where !emit(body) { return false }
            if let maximum {
                var splits: [Int] = []
                for _ in minimum..<maximum {
                    splits.append(program.count)
                    program.append(.split(program.count + 1, 0))
                    guard emit(body) else { return false }
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            } else {
                let loop = program.count
                program.append(.split(loop + 1, 0))
                guard emit(body) else { return false }
                program.append(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        }
        return program.count <= Self.maxInstructions
    }
}

/// A set of Unicode scalars: ranges and classes, possibly negated.
struct ScalarSet: Sendable {
    enum Class: Sendable {
        case digit, word, space
    }

    var ranges: [ClosedRange<UInt32>] = []
    var classes: [(Class, negated: Bool)] = []
    var negated = false

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        let inside =
            ranges.contains { $0.contains(scalar.value) }
            || classes.contains { Self.isMember(scalar, of: $0.0) != $0.negated }
        return inside != negated
    }

    static func isMember(_ scalar: Unicode.Scalar, of kind: Class) -> Bool {
        let properties = scalar.properties
        switch kind {
        case .digit: return properties.generalCategory == .decimalNumber
        case .space: return properties.isWhitespace
        case .word:
            switch properties.generalCategory {
            case .decimalNumber, .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation: return true
            default: return properties.isAlphabetic || properties.isJoinControl
            }
        }
    }
}
