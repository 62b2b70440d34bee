/// A regular expression compiled once and searched for in strings in time linear in the string (a Pike virtual
/// machine over Unicode scalars), so no pattern that a client supplies can stall whoever matches it: the syntax is
/// the part of Rust's `regex` described in `RegexPattern`, which has no construct that needs backtracking.
/// Biscuit's `.matches()` and JSON Schema's `pattern` use it.
public struct LinearRegex: Sendable {
    /// Why a pattern was refused.
    public enum Refusal: Error, Sendable, Equatable {
        /// The pattern is outside the supported syntax (flags, look-around, back-references, named groups).
        case unsupported
        /// Groups and quantifiers nest deeper than `LinearRegex.maxDepth`.
        case nestedTooDeep
    }

    /// Deepest nesting of groups and quantifiers accepted.
    public static var maxDepth: Int { RegexSyntax.maxDepth }
    /// Instructions the machine visits between two calls of a match's `check`.
    public static var stepsPerCheck: Int { 1024 }

    let program: [RegexPattern.Instruction]

    /// Compiles `pattern`; throws if it is outside the supported syntax, nests past `maxDepth`, or compiles to
    /// more than `RegexPattern.maxInstructions`.
    public init(_ pattern: String) throws(Refusal) {
        program = try RegexPattern(pattern).program
    }

    /// Whether the pattern matches anywhere in `text` (an unanchored search).
    public func matches(in text: String) -> Bool {
        matches(in: text) { () throws(Never) in }
    }

    /// Whether the pattern matches anywhere in `text`, calling `check` every `stepsPerCheck` instructions the
    /// machine visits (work is bounded by program length × text length, which a large pattern over a long text
    /// makes seconds); whatever `check` throws ends the match.
    public func matches<Failure: Error>(in text: String, check: @escaping () throws(Failure) -> Void)
        throws(Failure) -> Bool
    {
        var machine = PikeMachine(program: program, text: Array(text.unicodeScalars), check: check)
        return try machine.run()
    }
}

/// Runs a compiled program over the text, all threads in lock step: each instruction is visited at most once per
/// position, so the work is bounded by program length × text length, and `check` is called as it goes.
struct PikeMachine<Failure: Error> {
    let program: [RegexPattern.Instruction]
    let text: [Unicode.Scalar]
    let check: () throws(Failure) -> Void
    private var visited: [Int]
    private var generation = 0
    /// Instructions visited since the last call of `check`.
    private var stepsSinceCheck = 0
    /// Instructions visited between two calls of `check` (each visit is a few nanoseconds).
    static var stepsPerCheck: Int { LinearRegex.stepsPerCheck }
    /// Threads still to follow through non-consuming instructions (kept here so its storage is reused).
    private var pending: [Int] = []

    init(
        program: [RegexPattern.Instruction], text: [Unicode.Scalar], check: @escaping () throws(Failure) -> Void
    ) {
        self.program = program
        self.text = text
        self.check = check
        visited = Array(repeating: -1, count: program.count)
    }

    mutating func run() throws(Failure) -> Bool {
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
    private mutating func add(_ pc: Int, at position: Int, to list: inout [Int]) throws(Failure) -> Bool {
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

    private mutating func countStep() throws(Failure) {
        stepsSinceCheck += 1
        guard stepsSinceCheck >= Self.stepsPerCheck else { return }
        stepsSinceCheck = 0
        try check()
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
