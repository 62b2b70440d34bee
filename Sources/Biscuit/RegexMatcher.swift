/// `.matches(pattern)`: an unanchored search of a regular expression in a string, in time linear in the string
/// (a Pike virtual machine over Unicode scalars), so no pattern a token carries can stall an authorization.
///
/// The syntax is the part of the reference's engine (Rust `regex`) described in `RegexPattern`; a pattern outside
/// it matches nothing, as an invalid pattern does in the reference. A pattern nested deeper than
/// `RegexSyntax.maxDepth` is an error instead, and so is a match still running at the authorization's deadline:
/// linear is still program length × text length, which a large pattern over a long string makes seconds.
enum RegexMatcher {
    static func matches(_ text: String, pattern: String, budget: TimeBudget) throws(EvaluationFailure) -> Bool {
        // Compiling costs up to the pattern's length and `RegexPattern.maxInstructions`: not worth starting late.
        try budget.checkDuringEvaluation()
        let compiled: RegexPattern
        do throws(RegexSyntax.Refusal) {
            compiled = try RegexPattern(pattern)
        } catch {
            switch error {
            case .unsupported: return false
            case .nestedTooDeep: throw .regexNestedTooDeep
            }
        }
        var machine = PikeMachine(program: compiled.program, text: Array(text.unicodeScalars), budget: budget)
        return try machine.run()
    }
}

/// Runs a compiled program over the text, all threads in lock step: each instruction is visited at most once per
/// position, so the work is bounded by program length × text length, and the budget is checked as it goes.
private struct PikeMachine {
    let program: [RegexPattern.Instruction]
    let text: [Unicode.Scalar]
    let budget: TimeBudget
    private var visited: [Int]
    private var generation = 0
    /// Instructions visited since the last look at the clock.
    private var stepsSinceCheck = 0
    /// Instructions visited between two looks at the clock (each visit is a few nanoseconds).
    private static let stepsPerCheck = 1024
    /// Threads still to follow through non-consuming instructions (kept here so its storage is reused).
    private var pending: [Int] = []

    init(program: [RegexPattern.Instruction], text: [Unicode.Scalar], budget: TimeBudget) {
        self.program = program
        self.text = text
        self.budget = budget
        visited = Array(repeating: -1, count: program.count)
    }

    mutating func run() throws(EvaluationFailure) -> Bool {
        var current: [Int] = []
        var next: [Int] = []
        for position in 0...text.count {
            generation += 1
            // Carry over the threads that consumed the previous scalar, then start a new match here (unanchored).
            let carried = current
            current.removeAll(keepingCapacity: true)
            for pc in carried where try add(pc, at: position, to: &current) { return true }
            if try add(0, at: position, to: &current) { return true }
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
    ///
    /// Iterative, with its own stack: a chain of splits and jumps can be as long as the program.
    private mutating func add(_ pc: Int, at position: Int, to list: inout [Int]) throws(EvaluationFailure) -> Bool {
        pending.removeAll(keepingCapacity: true)
        pending.append(pc)
        while let pc = pending.popLast() {
            guard visited[pc] != generation else { continue }
            visited[pc] = generation
            try countStep()
            switch program[pc] {
            case .match: return true
            case .jump(let target): pending.append(target)
            case .split(let first, let second):
                // Followed first to last; which thread reaches `match` first does not change whether one does.
                pending.append(second)
                pending.append(first)
            case .assert(let assertion):
                if holds(assertion, at: position) { pending.append(pc + 1) }
            default:
                list.append(pc)
            }
        }
        return false
    }

    private mutating func countStep() throws(EvaluationFailure) {
        stepsSinceCheck += 1
        guard stepsSinceCheck >= Self.stepsPerCheck else { return }
        stepsSinceCheck = 0
        try budget.checkDuringEvaluation()
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
