import Foundation
import Testing

@testable import Biscuit

/// Authorization: check kinds, policies, scopes (what each block may see) and run limits.
@Suite struct AuthorizerTests {
    let root = PrivateKey(generating: .ed25519)

    func refusal(_ body: () throws -> Authorization) -> AuthorizationFailure? {
        do {
            _ = try body()
            return nil
        } catch let error as BiscuitError {
            return error.authorization
        } catch {
            return nil
        }
    }

    @Test func allowsWhenChecksPassAndAnAllowPolicyMatches() throws {
        let token = try Biscuit.build(
            rootKey: root, source: #"right("file1", "read"); right("file2", "read"); right("file1", "write");"#
        )
        .appending(source: #"check if resource($r), operation("read"), right($r, "read");"#)
        let authorizer = try Authorizer(
            #"resource("file1"); operation("read"); deny if resource("forbidden"); allow if true;"#)
        #expect(try authorizer.authorize(token).policyIndex == 1)

        let writing = try Authorizer(#"resource("file1"); operation("write"); allow if true;"#)
        let failure = refusal { try writing.authorize(token) }
        #expect(failure?.matchedPolicy == .allow(0))
        #expect(failure?.failedChecks.map(\.block) == [1])
        #expect(failure?.failedChecks.first?.source == #"check if resource($r), operation("read"), right($r, "read")"#)
    }

    @Test func reportsEveryFailedCheckAndTheDenyPolicy() throws {
        let token = try Biscuit.build(rootKey: root, source: "check if a(1); check if b(2);")
            .appending(source: "check if c(3);")
        let authorizer = try Authorizer("check if d(4); deny if true; allow if true;")
        let failure = refusal { try authorizer.authorize(token) }
        #expect(failure?.matchedPolicy == .deny(0))
        #expect(
            failure?.failedChecks.map { "\($0.block.map(String.init) ?? "authorizer"):\($0.index)" } == [
                "authorizer:0", "0:0", "0:1", "1:0",
            ])
        let noPolicy = refusal { try Authorizer("a(1); check if a(1);").authorize() }
        #expect(noPolicy?.matchedPolicy == nil && noPolicy?.failedChecks.isEmpty == true)
    }

    @Test func checkAllAndRejectIf() throws {
        let authorizer = try Authorizer(
            """
            operation("read"); operation("list");
            check all operation($op), ["read", "list"].contains($op);
            reject if operation("delete");
            allow if true;
            """)
        #expect(try authorizer.authorize().policyIndex == 0)
        var deleting = authorizer
        deleting.add(Fact("operation", [.string("delete")]))
        #expect(refusal { try deleting.authorize() }?.failedChecks.map(\.index) == [0, 1])
        #expect(refusal { try Authorizer("check all nothing($x), $x > 0; allow if true;").authorize() } != nil)
    }

    @Test func laterBlocksCannotGrantRightsToTheAuthorizerOrAuthority() throws {
        let token = try Biscuit.build(rootKey: root, source: #"right("file1", "read");"#)
            .appending(source: #"right("file2", "read"); check if right("file2", "read");"#)
        let file2 = try Authorizer(#"allow if right("file2", "read");"#)
        #expect(refusal { try file2.authorize(token) }?.matchedPolicy == nil)
        #expect(try Authorizer(#"allow if right("file1", "read");"#).authorize(token).policyIndex == 0)

        let escalation = try Biscuit.build(rootKey: root, source: "check if granted(true);")
            .appending(source: "granted(true);")
        #expect(refusal { try Authorizer("allow if true;").authorize(escalation) }?.failedChecks.map(\.block) == [0])
    }

    @Test func previousAndPublicKeyScopesWidenWhatABlockSees() throws {
        let third = PrivateKey(generating: .ed25519)
        let base = try Biscuit.build(rootKey: root, source: "a(0);").appending(source: "b(1);")
        let isolated = try base.appending(source: "check if b(1);")
        #expect(refusal { try Authorizer("allow if true;").authorize(isolated) }?.failedChecks.map(\.block) == [2])
        let trusting = try base.appending(source: "trusting previous; check if b(1);")
        #expect(try Authorizer("allow if true;").authorize(trusting).policyIndex == 0)

        let request = try base.thirdPartyRequest()
        let signed = try request.createBlock(signingKey: third, source: #"verified("alice");"#)
        let withThirdParty = try base.appending(signed)
        let checking = try withThirdParty.appending(
            source: #"check if verified("alice") trusting {key};"#, keys: ["key": third.publicKey])
        #expect(try Authorizer("allow if true;").authorize(checking).policyIndex == 0)
        let authorizerTrusting = try Authorizer(
            #"allow if verified("alice") trusting {key};"#, keys: ["key": third.publicKey])
        #expect(try authorizerTrusting.authorize(withThirdParty).policyIndex == 0)
        #expect(refusal { try Authorizer(#"allow if verified("alice");"#).authorize(withThirdParty) } != nil)
        let otherKey = try Authorizer(
            #"allow if verified("alice") trusting {key};"#, keys: ["key": PrivateKey(generating: .ed25519).publicKey])
        #expect(refusal { try otherKey.authorize(withThirdParty) } != nil)
    }

    @Test func rulesPropagateOriginsSoDerivedFactsKeepTheirScope() throws {
        let token = try Biscuit.build(rootKey: root, source: "owner(\"alice\", \"doc\");")
            .appending(source: #"owner("mallory", "doc"); can_read($u, $d) <- owner($u, $d);"#)
        let authorizer = try Authorizer(
            #"can_read($u, $d) <- owner($u, $d); allow if can_read("alice", "doc"); deny if true;"#)
        let result = try authorizer.authorize(token)
        #expect(result.policyIndex == 0)
        #expect(
            try result.query(DatalogParser.parseRule("x($u) <- can_read($u, \"doc\")")) == [
                Fact("x", [.string("alice")])
            ])
        #expect(result.facts.contains(Fact("can_read", [.string("mallory"), .string("doc")])))
        let unbound = Rule(
            head: Predicate("x", [.variable("nope")]), body: [Predicate("owner", [.variable("u"), .variable("d")])])
        #expect(try result.query(unbound).isEmpty)
    }

    @Test func limitsStopRunawayEvaluationWithAClearError() throws {
        let chain = (0..<30).map { "e(\($0), \($0 + 1));" }.joined(separator: " ")
        var counting = try Authorizer(
            chain + " p($x, $y) <- e($x, $y); p($x, $z) <- p($x, $y), e($y, $z); allow if true;")
        counting.limits = RunLimits(maxFacts: 100_000, maxIterations: 10, maxTime: .seconds(5))
        #expect(throws: BiscuitError(.runLimit(.tooManyIterations))) { try counting.authorize() }
        counting.limits.maxIterations = 100
        #expect(try counting.authorize().facts.count == 30 + 30 * 31 / 2)
        var wide = try Authorizer(
            "v(0); v(1); v(2); v(3); v(4); v(5); v(6); v(7); v(8); v(9); p($a, $b, $c) <- v($a), v($b), v($c); allow if true;"
        )
        wide.limits = RunLimits(maxFacts: 500, maxIterations: 100, maxTime: .seconds(5))
        #expect(throws: BiscuitError(.runLimit(.tooManyFacts))) { try wide.authorize() }
        var slow = try Authorizer(
            """
            v(0); v(1); v(2); v(3); v(4); v(5); v(6); v(7); v(8); v(9); v(10); v(11); v(12); v(13); v(14); v(15);
            check if v($a), v($b), v($c), v($d), v($e), v($f), $a + $b + $c + $d + $e + $f < 0;
            allow if true;
            """)
        slow.limits = RunLimits(maxFacts: 1000, maxIterations: 100, maxTime: .milliseconds(20))
        let started = ContinuousClock.now
        #expect(throws: BiscuitError(.runLimit(.timeout))) { try slow.authorize() }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func expressionErrorsFailTheAuthorization() throws {
        #expect(throws: BiscuitError.execution) {
            try Authorizer("v(9223372036854775807); w($x) <- v($x), $x + 1 > 0; allow if true;").authorize()
        }
        #expect(throws: BiscuitError.execution) { try Authorizer("check if 1 === \"a\"; allow if true;").authorize() }
        #expect(throws: BiscuitError(.invalidRule)) {
            var authorizer = try Authorizer("allow if true;")
            authorizer.add(Rule(head: Predicate("h", [.variable("x")]), body: []))
            return try authorizer.authorize()
        }
    }

    @Test func setTimeAddsTheCurrentDateForExpiryChecks() throws {
        let token = try Biscuit.build(rootKey: root, source: "check if time($t), $t < 2030-01-01T00:00:00Z;")
        var authorizer = try Authorizer("allow if true;")
        authorizer.setTime(Date(timeIntervalSince1970: 1_800_000_000))
        #expect(try authorizer.authorize(token).policyIndex == 0)
        var later = try Authorizer("allow if true;")
        later.setTime(Date(timeIntervalSince1970: 1_950_000_000))
        #expect(refusal { try later.authorize(token) }?.failedChecks.count == 1)
    }
}
