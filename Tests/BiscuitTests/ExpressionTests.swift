import Testing

@testable import Biscuit

/// Every operator of Datalog 3.3, evaluated from text.
@Suite struct ExpressionTests {
    /// Ample for every expression here; the tests of the budget itself are in `HostileBlockTests`.
    static var budget: TimeBudget { TimeBudget(.seconds(60)) }

    static func evaluate(_ text: String, _ bindings: [String: Term] = [:]) throws -> Term {
        let expression = try DatalogParser.parseExpression(text)
        return try ExpressionEvaluator().evaluate(expression.ops, bindings: bindings, budget: budget)
    }

    static let values: [(String, Term)] = [
        ("1 + 2 * 3", .integer(7)), ("(1 + 2) * 3", .integer(9)), ("10 - 4 - 3", .integer(3)), ("7 / 2", .integer(3)),
        ("-7 / 2", .integer(-3)), ("6 & 3", .integer(2)), ("6 | 3", .integer(7)), ("6 ^ 3", .integer(5)),
        ("1 | 2 ^ 3", .integer(0)), ("1 < 2", .bool(true)), ("2 <= 2", .bool(true)), ("3 > 4", .bool(false)),
        ("4 >= 5", .bool(false)), ("1 == 1", .bool(true)), ("1 != 1", .bool(false)), ("1 === 1", .bool(true)),
        ("1 !== 2", .bool(true)), ("1 == \"1\"", .bool(false)), ("1 != \"1\"", .bool(true)),
        ("null == null", .bool(true)), ("null === null", .bool(true)), ("null != 1", .bool(true)),
        ("!true", .bool(false)), ("!false && true", .bool(true)), ("true || 1 / 0 == 0", .bool(true)),
        ("false && 1 / 0 == 0", .bool(false)), ("\"abc\".starts_with(\"ab\")", .bool(true)),
        ("\"abc\".ends_with(\"bc\")", .bool(true)), ("\"abcd\".contains(\"bc\")", .bool(true)),
        ("\"ab\" + \"cd\"", .string("abcd")), ("\"abc\".matches(\"^a.c$\")", .bool(true)),
        ("\"abc\".matches(\"[\")", .bool(false)), ("\"é\".length()", .integer(2)), ("hex:0aff.length()", .integer(2)),
        ("hex:0aff == hex:0AFF", .bool(true)), ("{1, 2}.contains(2)", .bool(true)),
        ("{1, 2}.contains({1})", .bool(true)),
        ("{1, 2}.intersection({2, 3})", .set([.integer(2)])), ("{1}.union({2})", .set([.integer(1), .integer(2)])),
        ("{1, 2} == {2, 1}", .bool(true)), ("{,}.length()", .integer(0)), ("[1, 2].contains(2)", .bool(true)),
        ("[1, 2, 3].starts_with([1, 2])", .bool(true)), ("[1, 2, 3].ends_with([3])", .bool(true)),
        ("[1, \"a\"].get(1)", .string("a")), ("[1].get(5)", .null), ("[1].get(-1)", .null),
        ("{\"a\": 1, 2: true}.get(\"a\")", .integer(1)), ("{\"a\": 1}.get(\"b\")", .null),
        ("{\"a\": 1}.contains(\"a\")", .bool(true)), ("{\"a\": 1}.contains(1)", .bool(false)),
        ("{}.length()", .integer(0)), ("[1, 2, 3].all($x -> $x > 0)", .bool(true)),
        ("[1, 2, 3].any($x -> $x > 2)", .bool(true)), ("{1, 2}.all($x -> $x > 1)", .bool(false)),
        ("{\"a\": 1}.any($e -> $e.get(1) == 1)", .bool(true)), ("1.type()", .string("integer")),
        ("\"x\".type()", .string("string")), ("2024-01-01T00:00:00Z.type()", .string("date")),
        ("null.type()", .string("null")), ("[].type()", .string("array")), ("{}.type()", .string("map")),
        ("{,}.type()", .string("set")), ("hex:00.type()", .string("bytes")), ("true.type()", .string("bool")),
        ("(1 / 0).try_or(7)", .integer(7)), ("(1 + 1).try_or(7)", .integer(2)),
        ("2024-01-01T00:00:00Z < 2024-01-02T00:00:00+01:00", .bool(true)),
        ("2024-01-01T01:00:00+01:00 == 2024-01-01T00:00:00Z", .bool(true)),
        ("[[1], {\"k\": [2]}] == [[1], {\"k\": [2]}]", .bool(true)),
    ]

    @Test(arguments: values)
    func evaluatesToTheExpectedValue(_ text: String, _ expected: Term) throws {
        #expect(try Self.evaluate(text) == expected, "\(text)")
    }

    static let failures: [(String, EvaluationFailure)] = [
        ("9223372036854775807 + 1", .overflow), ("-9223372036854775807 - 2", .overflow),
        ("4611686018427387904 * 2", .overflow), ("1 / 0", .divideByZero), ("-9223372036854775808 / -1", .divideByZero),
        ("1 === \"a\"", .invalidType), ("1 !== \"a\"", .invalidType), ("1 < \"a\"", .invalidType),
        ("\"a\" - \"b\"", .invalidType), ("!1", .invalidType), ("1.length()", .invalidType),
        ("{1}.contains(null)", .invalidType), ("1 && true", .invalidType),
        ("[1].all($x -> 1)", .invalidType), ("$missing == 1", .unknownVariable("missing")),
        ("[1].get(\"a\")", .invalidType), ("1.extern::f()", .undefinedExternal("f")),
    ]

    @Test(arguments: failures)
    func failsWithTheExpectedError(_ text: String, _ expected: EvaluationFailure) throws {
        #expect(throws: expected, "\(text)") { try Self.evaluate(text) }
    }

    static let regexes: [(String, String, Bool)] = [
        ("abc", "b", true), ("abc", "^b", false), ("abc", "c$", true), ("abc", "^a.c$", true), ("a\nc", "a.c", false),
        ("abab", "^(ab)+$", true), ("aba", "^(ab)+$", false), ("abc", "a|x", true), ("xyz", "a|b", false),
        ("aXb", "a[A-Z]b", true), ("a-b", "a[^a-z]b", true), ("abb", "^ab{2}$", true), ("abbb", "^ab{1,2}$", false),
        ("abbb", "^ab{2,}$", true), ("ab", "^a(?:b|c)$", true), ("é1", "^\\w\\d$", true), ("a b", "a\\sb", true),
        ("can't", "can\\b", true), ("cant", "can\\b", false), ("a.b", "a\\.b", true), ("axb", "a\\.b", false),
        ("", "^$", true), ("abc", "", true), ("aaa", "^a*?$", true), ("x", "(?i)X", false), ("x", "(?=x)", false),
        ("x", "[", false), ("x", "a{2,1}", false), ("日本", "^..$", true), ("\\", "\\\\", true),
    ]

    @Test func regularExpressionsFollowTheReferenceSyntax() throws {
        for (text, pattern, expected) in Self.regexes {
            let matches = try RegexMatcher.matches(text, pattern: pattern, budget: Self.budget)
            #expect(matches == expected, "\(text) ~ \(pattern)")
        }
    }

    @Test func aCatastrophicPatternRunsInLinearTime() throws {
        let text = String(repeating: "a", count: 5000)
        let started = ContinuousClock.now
        #expect(try !RegexMatcher.matches(text, pattern: "(a+)+b", budget: Self.budget))
        #expect(try !RegexMatcher.matches(text, pattern: "^(a|aa)*$b", budget: Self.budget))
        #expect(try RegexMatcher.matches(text + "b", pattern: "(a*)*b", budget: Self.budget))
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func closureParametersCannotShadowBoundVariables() throws {
        #expect(throws: EvaluationFailure.shadowedVariable("x")) {
            try Self.evaluate("[1].any($x -> $x == 1)", ["x": .integer(1)])
        }
        #expect(try Self.evaluate("[1, 2].any($y -> $y == $x)", ["x": .integer(2)]) == .bool(true))
    }

    @Test func stringsCompareByteForByteNotByCanonicalEquivalence() throws {
        let precomposed = Term.string("\u{E9}")
        let decomposed = Term.string("e\u{301}")
        #expect(precomposed != decomposed)
        #expect(try Self.evaluate("$a == $b", ["a": precomposed, "b": decomposed]) == .bool(false))
        #expect(try Self.evaluate("$a.starts_with(\"e\")", ["a": decomposed]) == .bool(true))
    }

    @Test func externalFunctionsAreCalledWithTheirArguments() throws {
        var evaluator = ExpressionEvaluator()
        evaluator.externals["double"] = { left, _ in
            guard case .integer(let value) = left else { throw BiscuitError(.execution) }
            return .integer(value * 2)
        }
        evaluator.externals["concat"] = { left, right in .string("\(left)|\(right.map(String.init(describing:)) ?? "")")
        }
        let unary = try DatalogParser.parseExpression("21.extern::double()")
        #expect(try evaluator.evaluate(unary.ops, bindings: [:], budget: Self.budget) == .integer(42))
        let binary = try DatalogParser.parseExpression("1.extern::concat(2)")
        #expect(try evaluator.evaluate(binary.ops, bindings: [:], budget: Self.budget) == .string("1|2"))
        let failing = try DatalogParser.parseExpression("\"x\".extern::double()")
        #expect(throws: EvaluationFailure.self) {
            try evaluator.evaluate(failing.ops, bindings: [:], budget: Self.budget)
        }
    }
}
