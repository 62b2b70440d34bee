/// `.matches(pattern)`: an unanchored search of a regular expression in a string, in time linear in the string
/// (a Pike virtual machine over Unicode scalars), so no pattern a token carries can stall an authorization.
///
/// The syntax is the part of the reference's engine (Rust `regex`) described in `RegexPattern`; a pattern outside
/// it matches nothing, as an invalid pattern does in the reference.
enum RegexMatcher {
    static func matches(_ text: String, pattern: String) -> Bool {
        guard let compiled = RegexPattern(pattern) else { return false }
        var machine = PikeMachine(program: compiled.program, text: Array(text.unicodeScalars))
        return machine.run()
    }
}

/// Runs a compiled program over the text, all threads in lock step: each instruction is visited at most once per
/// position, so the work is bounded by program length × text length.
private struct PikeMachine {
    let program: [RegexPattern.Instruction]
    let text: [Unicode.Scalar]
    private var visited: [Int]
    private var generation = 0

    init(program: [RegexPattern.Instruction], text: [Unicode.Scalar]) {
        self.program = program
        self.text = text
        visited = Array(repeating: -1, count: program.count)
    }

    mutating func run() -> Bool {
        var current: [Int] = []
        var next: [Int] = []
        for position in 0...text.count {
            generation += 1
            // Carry over the threads that consumed the previous scalar, then start a new match here (unanchored).
            let carried = current
            current.removeAll(keepingCapacity: true)
            for pc in carried where add(pc, at: position, to: &current) { return true }
            if add(0, at: position, to: &current) { return true }
            next.removeAll(keepingCapacity: true)
            guard position < text.count else { break }
            let scalar = text[position]
            for pc in current {
                let advances: Bool
                switch program[pc] {
                case .scalar(let expected): advances = scalar == expected
                case .anyButNewline: advances = scalar != "\n"
                case .set(let set): advances = set.contains(scalar)
                default: advances = false
                }
                if advances { next.append(pc + 1) }
            }
            swap(&current, &next)
        }
        return false
    }

    /// Adds the thread at `pc` and everything it reaches without consuming a scalar; true if one reaches `match`.
    private mutating func add(_ pc: Int, at position: Int, to list: inout [Int]) -> Bool {
        guard visited[pc] != generation else { return false }
        visited[pc] = generation
        switch program[pc] {
        case .match: return true
        case .jump(let target): return add(target, at: position, to: &list)
        case .split(let first, let second):
            return add(first, at: position, to: &list) || add(second, at: position, to: &list)
        case .assert(let assertion):
            guard holds(assertion, at: position) else { return false }
            return add(pc + 1, at: position, to: &list)
        default:
            list.append(pc)
            return false
        }
    }

    private func holds(_ assertion: RegexPattern.Assertion, at position: Int) -> Bool {
        switch assertion {
        case .start: return position == 0
        case .end: return position == text.count
        case .wordBoundary, .notWordBoundary:
            let before = position > 0 && ScalarSet.isMember(text[position - 1], of: .word)
            let after = position < text.count && ScalarSet.isMember(text[position], of: .word)
            return (before != after) == (assertion == .wordBoundary)
        }
    }
}
