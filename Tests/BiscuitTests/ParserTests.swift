import Testing

@testable import Biscuit

/// The text syntax: what parses to what, where errors point, and that printing then parsing gives back the same.
@Suite struct ParserTests {
    @Test func parsesABlockWithEveryKindOfElement() throws {
        let block = try DatalogParser.parseBlock(
            """
            trusting previous, ed25519/2bb6b2b3d24ef8fdeb7d7f1b5da82e8f3d5cbcfbfb0fea7b8c9a0a5a2e5ba9a1;
            // a comment
            right("file1", "read"); /* another */ user(1234);
            right($r, "write") <- owner($u, $r), user($u) trusting authority;
            check if time($t), $t < 2027-01-01T00:00:00Z;
            check all operation($op), ["read", "write"].contains($op);
            reject if role("banned")
            """)
        #expect(block.scopes.count == 2)
        #expect(block.facts == [Fact("right", [.string("file1"), .string("read")]), Fact("user", [.integer(1234)])])
        #expect(block.rules.count == 1 && block.rules[0].scopes == [.authority])
        #expect(block.rules[0].head == Predicate("right", [.variable("r"), .string("write")]))
        #expect(block.checks.map(\.kind) == [.one, .all, .reject])
        #expect(block.checks[0].queries[0].expressions.count == 1)
    }

    @Test func parsesAnAuthorizerWithPoliciesAndAlternatives() throws {
        let authorizer = try DatalogParser.parseAuthorizer(
            """
            resource("a"); allow if resource($r), right($r, "read") or admin(true); deny if true;
            """)
        #expect(authorizer.policies.map(\.kind) == [.allow, .deny])
        #expect(authorizer.policies[0].queries.count == 2)
        #expect(throws: DatalogParseError.self) { try DatalogParser.parseBlock("allow if true;") }
    }

    @Test func parsesEveryTermType() throws {
        let terms: [(String, Term)] = [
            ("-42", .integer(-42)), ("\"a \\\"q\\\" \\\\ \\n\"", .string("a \"q\" \\ \n")),
            ("2024-02-29T12:30:00Z", .date(1_709_209_800)), ("2024-02-29T12:30:00.123+02:00", .date(1_709_202_600)),
            ("hex:00ff", .bytes([0, 255])), ("true", .bool(true)), ("null", .null), ("{,}", .set([])),
            ("{\"a\", \"b\"}", .set([.string("a"), .string("b")])),
            ("[1, [2], {}]", .array([.integer(1), .array([.integer(2)]), .map([:])])),
            ("{\"k\": 1, 2: null}", .map([.string("k"): .integer(1), .integer(2): .null])),
            ("{name}", .parameter("name")),
            ("$var", .variable("var")),
        ]
        for (text, expected) in terms {
            #expect(try DatalogParser.parseTerm(text) == expected, "\(text)")
        }
    }

    @Test func errorsPointAtTheLineAndColumn() {
        let cases: [(String, Int, Int)] = [
            ("right(\"a\");\ncheck if resource($r), $r.nope(1);", 2, 27),
            ("fact($x);", 1, 1),
            ("head($x) <- body($y);", 1, 1),
            ("check if 1 +;", 1, 13),
            ("{1, \"a\"}", 1, 1),
            ("f(\"unterminated);", 1, 3),
            ("f(99999999999999999999);", 1, 3),
            ("f(2024-13-01T00:00:00Z);", 1, 3),
            ("f(1) g(2);", 1, 6),
        ]
        for (text, line, column) in cases {
            do {
                if text.hasPrefix("{") {
                    _ = try DatalogParser.parseTerm(text)
                } else {
                    _ = try DatalogParser.parseBlock(text)
                }
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.line == line && error.column == column, "\(text): \(error)")
            }
        }
    }

    static let roundTrips = [
        #"right("file1", "read");"#,
        #"user(-1, true, null, hex:0a0b, 2024-01-01T00:00:00Z, {1, 2}, [1, "a", [null]], {"k": {2: "v"}});"#,
        #"right($r, "write") <- owner($u, $r), user($u), $u != 0 trusting authority, previous;"#,
        #"check if time($t), $t < 2027-01-01T00:00:00Z or admin(true);"#,
        #"check all operation($op), ["read", "write"].contains($op);"#,
        #"reject if role($r), $r.starts_with("ban") && !$r.ends_with("ned") || $r.length() > 3;"#,
        #"check if v($x), ($x + 1) * 2 - 3 / 4 == 5 & 6 | 7 ^ 8;"#,
        #"check if v($x), [1, 2].all($e -> $e > 0) && {1}.any($s -> $s === $x);"#,
        #"check if v($x), (1 / $x).try_or(0) !== 1, $x.type() == "integer", [1, 2].length() >= 1;"#,
        #"check if v($x), $x.extern::valid(), $x.extern::between(10);"#,
        #"check if v($m), $m.get("k").get(0) == null, {1, 2}.intersection({2}).union({3}).contains(3);"#,
        #"check if s($s), $s.matches("^[a-z]+$"), $s + "x" == "abx";"#,
    ]

    @Test(arguments: roundTrips)
    func printingThenParsingGivesTheSameBlock(_ source: String) throws {
        let parsed = try DatalogParser.parseBlock(source)
        let printed = parsed.description
        let reparsed = try DatalogParser.parseBlock(printed)
        #expect(reparsed == parsed, "\(source) printed as \(printed)")
        #expect(reparsed.description == printed)
    }

    @Test func followsTheReferenceGrammarOnNamesKeywordsAndEdgeCases() throws {
        let accepted = try DatalogParser.parseAuthorizer(
            "_a(1); Check If _a($1); ALLOW IF [1].any($_x -> true) OR false; f(2016-12-31T23:59:60Z);")
        #expect(accepted.facts[0] == Fact("_a", [.integer(1)]))
        #expect(accepted.checks[0].queries[0].body == [Predicate("_a", [.variable("1")])])
        #expect(accepted.policies[0].queries.count == 2)
        #expect(accepted.facts[1] == Fact("f", [.date(1_483_228_799)]))
        for refused in [
            "allow if TRUE;", "allow if true trusting AUTHORITY;", "f(hex:);", "f({[1], [2]});",
            "r(1) <- f($x), $y == 1;", "r($y) <- f($x);",
        ] {
            #expect(throws: DatalogParseError.self, "\(refused)") { try DatalogParser.parseAuthorizer(refused) }
        }
        let closure = try DatalogParser.parseRule("r($x) <- f($x), [1].any($e -> $e == $x)")
        #expect(closure.unboundExpressionVariables.isEmpty)
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let deep = 100_000
        for text in [
            "check if " + String(repeating: "(", count: deep) + "true" + String(repeating: ")", count: deep) + ";",
            "f(" + String(repeating: "[", count: deep) + String(repeating: "]", count: deep) + ");",
            "check if " + String(repeating: "!", count: deep) + "true;",
            "check if 1" + String(repeating: " + 1", count: deep) + " > 0;",
            "check if \"a\"" + String(repeating: ".length()", count: deep) + " > 0;",
        ] {
            #expect(throws: DatalogParseError.self) { try DatalogParser.parseBlock(text) }
        }
        let fine = "check if " + String(repeating: "(", count: 60) + "true" + String(repeating: ")", count: 60) + ";"
        #expect(try DatalogParser.parseBlock(fine).checks.count == 1)
    }

    @Test func parametersAreReplacedAndMissingOrUnusedOnesRefused() throws {
        let block = try DatalogParser.parseBlock("check if time($t), $t < {expiry}; user({id});")
        #expect(block.parameterNames == ["expiry", "id"])
        let filled = try block.substituting(["expiry": .date(1_800_000_000), "id": .integer(7)])
        #expect(filled.facts == [Fact("user", [.integer(7)])])
        #expect(filled.parameterNames.isEmpty)
        #expect(throws: BiscuitError(.parameters)) { try block.substituting(["id": .integer(7)]) }
        #expect(throws: BiscuitError(.parameters)) {
            try block.substituting(["expiry": .integer(1), "id": .integer(7), "other": .null])
        }
    }
}
