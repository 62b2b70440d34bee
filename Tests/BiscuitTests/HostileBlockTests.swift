import LinearRegex
import Testing

@testable import Biscuit

/// Blocks that anyone holding a token can append (no key is needed) and that try to crash or stall the
/// authorizer: each must be refused, within about the configured time limit.
@Suite struct HostileBlockTests {
    let root = PrivateKey(generating: .ed25519)
    /// The time limit the hostile runs are held to, and the most any of them may take to be refused.
    static let limit = Duration.milliseconds(50)
    static let allowedOverrun = 5

    /// Appends `block` to a token, sends it through bytes as an attacker would, and authorizes it, timed.
    func authorize(appending block: String) throws -> (
        outcome: Result<Authorization, BiscuitError>, elapsed: Duration
    ) {
        let token = try Biscuit.build(rootKey: root, source: #"user("alice"); text("aaaa");"#)
            .appending(source: block)
        let received = try Biscuit(bytes: try token.serialized(), rootKey: root.publicKey)
        let authorizer = try Authorizer("allow if true;", limits: RunLimits(maxTime: Self.limit, timeSource: .elapsed))
        let started = ContinuousClock.now
        let outcome = Result { () throws(BiscuitError) in try authorizer.authorize(received) }
        return (outcome, ContinuousClock.now - started)
    }

    func expectTimeout(_ run: (outcome: Result<Authorization, BiscuitError>, elapsed: Duration)) {
        #expect(throws: BiscuitError(.runLimit(.timeout))) { try run.outcome.get() }
        #expect(run.elapsed < Self.limit * Self.allowedOverrun, "refused after \(run.elapsed)")
    }

    @Test func aRegexNestedFiftyThousandGroupsDeepIsRefusedWithoutExhaustingTheStack() throws {
        let pattern = String(repeating: "(", count: 50_000) + "a" + String(repeating: ")", count: 50_000)
        let run = try authorize(appending: #"check if text($t), $t.matches("\#(pattern)");"#)
        #expect(throws: BiscuitError.execution) { try run.outcome.get() }
        if case .failure(let error) = run.outcome {
            #expect(error.message.contains("nested more than \(LinearRegex.maxDepth) levels deep"), "\(error)")
        }
        #expect(run.elapsed < Self.limit * Self.allowedOverrun, "refused after \(run.elapsed)")
    }

    @Test func stackedQuantifiersCountAsNesting() throws {
        let stacked = "a" + String(repeating: "*", count: 50_000)
        let run = try authorize(appending: #"check if text($t), $t.matches("\#(stacked)");"#)
        #expect(throws: BiscuitError.execution) { try run.outcome.get() }
        // A negated match must not pass either: the refused pattern is an error, not "no match".
        let justPastTheBound = "a" + String(repeating: "+", count: LinearRegex.maxDepth + 1)
        let negated = try authorize(appending: #"check if text($t), !$t.matches("\#(justPastTheBound)");"#)
        #expect(throws: BiscuitError.execution) { try negated.outcome.get() }
    }

    @Test func regexNestingIsBoundedAtTheDatalogParsersDepth() throws {
        let budget = TimeBudget(.seconds(60))
        let deepest = LinearRegex.maxDepth
        let groups = { (depth: Int) in
            String(repeating: "(", count: depth) + "a" + String(repeating: ")", count: depth)
        }
        #expect(deepest == Cursor.maxDepth)
        #expect(try RegexMatcher.matches("a", pattern: groups(deepest), budget: budget))
        #expect(try RegexMatcher.matches("a", pattern: groups(deepest - 1) + "*", budget: budget))
        #expect(throws: EvaluationFailure.regexNestedTooDeep) {
            try RegexMatcher.matches("a", pattern: groups(deepest + 1), budget: budget)
        }
        #expect(throws: EvaluationFailure.regexNestedTooDeep) {
            try RegexMatcher.matches("a", pattern: groups(deepest) + "*", budget: budget)
        }
        // Unsupported syntax still matches nothing, as in the reference.
        #expect(try !RegexMatcher.matches("a", pattern: groups(deepest) + ")", budget: budget))
    }

    @Test func nestedClosuresOverLargeCollectionsStopAtTheTimeLimit() throws {
        let values = "[" + (0..<100).map(String.init).joined(separator: ", ") + "]"
        let run = try authorize(
            appending: "check if \(values).any($x -> \(values).any($y -> \(values).any($z -> $x + $y + $z < 0)));")
        expectTimeout(run)
    }

    @Test func aTimeoutInsideTryOrIsNotReplacedByTheFallback() throws {
        // A query has no later step that would notice the deadline: were the timeout caught by `try_or`, the rule
        // would quietly produce facts from the fallback.
        let values = "{" + (0..<100).map(String.init).joined(separator: ", ") + "}"
        let authorization = try Authorizer("n(1); allow if true;").authorize()
        let rule = try DatalogParser.parseRule(
            "h($n) <- n($n), (\(values).any($x -> \(values).any($y -> \(values).any($z -> $x + $y + $z < 0)))).try_or(true)"
        )
        let started = ContinuousClock.now
        #expect(throws: BiscuitError(.runLimit(.timeout))) {
            try authorization.query(rule, limits: RunLimits(maxTime: Self.limit, timeSource: .elapsed))
        }
        #expect(ContinuousClock.now - started < Self.limit * Self.allowedOverrun)
    }

    @Test func aCatastrophicRegexOverALongStringStopsAtTheTimeLimit() throws {
        // Linear time is still program length × text length: 10,000 instructions over 5,000 scalars.
        let pattern = String(repeating: "(a*)*", count: 2000) + "b"
        let text = String(repeating: "a", count: 5000)
        let run = try authorize(appending: #"long("\#(text)"); check if long($t), $t.matches("\#(pattern)");"#)
        expectTimeout(run)
    }

    @Test func aMatchStopsAtTheDeadlineEvenWhenItIsTheOnlyStep() throws {
        let pattern = String(repeating: "(a*)*", count: 2000) + "b"
        let text = String(repeating: "a", count: 5000)
        let started = ContinuousClock.now
        #expect(throws: EvaluationFailure.limit(.timeout)) {
            try RegexMatcher.matches(text, pattern: pattern, budget: TimeBudget(Self.limit))
        }
        #expect(ContinuousClock.now - started < Self.limit * Self.allowedOverrun)
    }
}
