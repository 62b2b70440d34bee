import SeededRandom

/// Writes random but well-formed Datalog blocks: facts, rules and checks over the predicates of
/// `RandomBlockSource.authority`, with expressions that mix arithmetic, strings, regular expressions, closures and
/// `try_or`, and now and then a hostile piece (deep regex nesting, stacked quantifiers, a catastrophic pattern over a
/// long string, closures nested over large collections, a rule whose matches multiply).
struct RandomBlockSource {
    /// The authority block the random blocks are appended to: what their predicates find.
    static let authority =
        (0..<20).map { "n(\($0));" }.joined(separator: " ")
        + #" s("abc"); s("a-b_c 1"); s("ééé"); s(""); long("\#(String(repeating: "a", count: 3000))");"#

    var random: SeededGenerator
    private var closureCount = 0

    init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    /// One block of one to four statements.
    mutating func block() -> String {
        (0..<Int.random(in: 1...4, using: &random)).map { _ in statement() }.joined(separator: "\n")
    }

    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    private mutating func pick<T>(_ choices: [T]) -> T { choices[Int.random(in: 0..<choices.count, using: &random)] }

    private mutating func statement() -> String {
        switch Int.random(in: 0..<20, using: &random) {
        case 0, 1: return "m(\(intLiteral()), \(stringLiteral()));"
        case 2, 3: return "m($x, $s) <- n($x), s($s), \(boolean(depth: 2));"
        case 4:
            // Matches multiply: 20^k combinations, far past the fact limit.
            let arity = Int.random(in: 3...4, using: &random)
            let variables = (0..<arity).map { "$v\($0)" }
            return "w\(arity)(\(variables.joined(separator: ", "))) <- "
                + variables.map { "n(\($0))" }.joined(separator: ", ") + ";"
        case 5, 6, 7: return "check all n($x), s($s), \(boolean(depth: 3));"
        case 8, 9, 10: return "reject if n($x), s($s), \(boolean(depth: 3));"
        case 11, 12, 13, 14, 15:
            return "check if n($x), s($s), \(boolean(depth: 3)) or n($x), \(boolean(depth: 1));"
        default: return "check if n($x), s($s), long($l), \(hostile());"
        }
    }

    /// Something built to exhaust the stack or the time limit.
    private mutating func hostile() -> String {
        switch Int.random(in: 0..<6, using: &random) {
        case 0:
            let depth = Int.random(in: 65...8000, using: &random)
            return #"$s.matches("\#(String(repeating: "(", count: depth))a\#(String(repeating: ")", count: depth))")"#
        case 1:
            let count = Int.random(in: 65...8000, using: &random)
            return #"!$s.matches("b\#(String(repeating: pick(["*", "+", "?", "{1,2}"]), count: count))")"#
        case 2:
            let pieces = Int.random(in: 200...2000, using: &random)
            return #"$l.matches("\#(String(repeating: pick(["(a*)*", "(a|aa)*", "(a?){2}"]), count: pieces))b")"#
        case 3:
            let size = Int.random(in: 50...200, using: &random)
            let collection = pick(["[", "{"]) + (0..<size).map(String.init).joined(separator: ", ")
            let closed = collection + (collection.hasPrefix("[") ? "]" : "}")
            let nesting = Int.random(in: 2...4, using: &random)
            var body = "$x + " + (0..<nesting).map { "$h\($0)" }.joined(separator: " + ") + " < 0"
            for level in (0..<nesting).reversed() { body = "\(closed).any($h\(level) -> \(body))" }
            return chance(50) ? body : "(\(body)).try_or(true)"
        default:
            return boolean(depth: 4)
        }
    }

    private mutating func boolean(depth: Int, integers: [String] = ["$x"]) -> String {
        let leaf = depth == 0 || chance(30)
        switch Int.random(in: 0..<(leaf ? 4 : 9), using: &random) {
        case 0:
            let comparison = pick(["<", "<=", ">", ">=", "==", "!="])
            return "\(integer(depth: depth - 1, integers)) \(comparison) \(integer(depth: depth - 1, integers))"
        case 1: return #"$s.matches("\#(pattern())")"#
        case 2: return "$s.\(pick(["starts_with", "ends_with", "contains"]))(\(stringLiteral()))"
        case 3:
            let element = integers.randomElement(using: &random) ?? "$x"
            return "{\(intLiteral()), \(intLiteral())}.contains(\(element))"
        case 4: return "!(\(boolean(depth: depth - 1, integers: integers)))"
        case 5:
            let joined = pick(["&&", "||"])
            let left = boolean(depth: depth - 1, integers: integers)
            return "\(left) \(joined) \(boolean(depth: depth - 1, integers: integers))"
        case 6: return "(\(boolean(depth: depth - 1, integers: integers))).try_or(\(pick(["true", "false"])))"
        default:
            closureCount += 1
            let parameter = "$c\(closureCount)"
            let elements = (0..<Int.random(in: 0...8, using: &random)).map { _ in intLiteral() }
            let collection = "[" + elements.joined(separator: ", ") + "]"
            let body = boolean(depth: depth - 1, integers: integers + [parameter])
            return "\(collection).\(pick(["all", "any"]))(\(parameter) -> \(body))"
        }
    }

    private mutating func integer(depth: Int, _ integers: [String]) -> String {
        guard depth > 0, chance(40) else {
            return chance(50) ? (integers.randomElement(using: &random) ?? "$x") : intLiteral()
        }
        let operation = pick(["+", "-", "*", "/", "&", "|", "^"])
        return "(\(integer(depth: depth - 1, integers)) \(operation) \(integer(depth: depth - 1, integers)))"
    }

    private mutating func intLiteral() -> String {
        guard chance(90) else { return pick(["9223372036854775807", "-9223372036854775808", "0"]) }
        return String(Int.random(in: -50...50, using: &random))
    }

    private mutating func stringLiteral() -> String {
        "\"" + String((0..<Int.random(in: 0...4, using: &random)).map { _ in pick(Array("ab-_ é1")) }) + "\""
    }

    /// A small pattern in the supported syntax (or, sometimes, outside it).
    private mutating func pattern(depth: Int = 3) -> String {
        var pieces: [String] = []
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            var piece: String
            switch Int.random(in: 0..<(depth == 0 ? 4 : 6), using: &random) {
            case 0: piece = pick(["a", "b", "c", "é", "-", " "])
            case 1: piece = pick([".", "[a-c]", "[^a]", "\\\\w", "\\\\d", "\\\\s"])
            case 2: piece = pick(["^", "$", "\\\\b"])
            case 3: piece = pick(["(?i)", "[", "(?=a)", "a{2,1}"])
            case 4: piece = "(\(pattern(depth: depth - 1)))"
            default: piece = "(?:\(pattern(depth: depth - 1))|\(pattern(depth: depth - 1)))"
            }
            if chance(30) { piece += pick(["*", "+", "?", "{2}", "{1,3}", "*?"]) }
            pieces.append(piece)
        }
        return pieces.joined()
    }
}
