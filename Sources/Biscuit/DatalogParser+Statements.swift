extension Cursor {
    /// A whole block or authorizer: optional `trusting …;`, then elements each ended by `;` (the last may omit it).
    mutating func parseSource(allowPolicies: Bool) throws(DatalogParseError) -> BlockContent {
        var content = BlockContent()
        skipSpaceAndComments()
        if consumeKeyword("trusting") {
            content.scopes = try parseScopeList()
            try expect(";")
        }
        while true {
            skipSpaceAndComments()
            if atEnd { return content }
            let start = index
            if let check = try parseCheck() {
                content.checks.append(check)
            } else if let policy = try parsePolicy() {
                guard allowPolicies else { throw error("policies are only allowed in an authorizer", at: start) }
                content.policies.append(policy)
            } else {
                let head = try parsePredicate(allowEmpty: true)
                skipSpaceAndComments()
                if consume("<-") {
                    content.rules.append(try finishRule(head: head, start: start))
                } else {
                    content.facts.append(try fact(from: head, start: start))
                }
            }
            skipSpaceAndComments()
            if !consume(";") && !atEnd { throw error("expected ';' at the end of the element") }
        }
    }

    mutating func parseFact() throws(DatalogParseError) -> Fact {
        let start = index
        return try fact(from: try parsePredicate(allowEmpty: false), start: start)
    }

    mutating func parseRule() throws(DatalogParseError) -> Rule {
        let start = index
        let head = try parsePredicate(allowEmpty: true)
        try expect("<-")
        return try finishRule(head: head, start: start)
    }

    private func fact(from predicate: Predicate, start: Int) throws(DatalogParseError) -> Fact {
        guard !predicate.terms.isEmpty else { throw error("a fact needs at least one term", at: start) }
        guard predicate.terms.allSatisfy({ $0.variableName == nil }) else {
            throw error("variables are not allowed in facts", at: start)
        }
        return Fact(predicate: predicate)
    }

    private mutating func finishRule(head: Predicate, start: Int) throws(DatalogParseError) -> Rule {
        let (body, expressions, scopes) = try parseBody()
        let rule = Rule(head: head, body: body, expressions: expressions, scopes: scopes)
        let unbound = rule.unboundHeadVariables + rule.unboundExpressionVariables
        guard unbound.isEmpty else {
            throw error(
                "the rule has variables that no predicate of its body binds: "
                    + unbound.map { "$\($0)" }.joined(separator: ", "), at: start)
        }
        return rule
    }

    /// `check if …`, `check all …` or `reject if …`; nil (nothing consumed) if the text is not a check.
    mutating func parseCheck() throws(DatalogParseError) -> Check? {
        let start = index
        let kind: CheckKind
        if consumeKeyword("check", ignoringCase: true) {
            skipSpace()
            if consumeKeyword("if", ignoringCase: true) {
                kind = .one
            } else if consumeKeyword("all", ignoringCase: true) {
                kind = .all
            } else {
                index = start
                return nil
            }
        } else if consumeKeyword("reject", ignoringCase: true) {
            skipSpace()
            guard consumeKeyword("if", ignoringCase: true) else {
                index = start
                return nil
            }
            kind = .reject
        } else {
            return nil
        }
        return Check(kind: kind, queries: try parseQueries())
    }

    /// `allow if …` or `deny if …`; nil (nothing consumed) if the text is not a policy.
    mutating func parsePolicy() throws(DatalogParseError) -> Policy? {
        let start = index
        let kind: PolicyKind
        if consumeKeyword("allow", ignoringCase: true) {
            kind = .allow
        } else if consumeKeyword("deny", ignoringCase: true) {
            kind = .deny
        } else {
            return nil
        }
        skipSpace()
        guard consumeKeyword("if", ignoringCase: true) else {
            index = start
            return nil
        }
        return Policy(kind: kind, queries: try parseQueries())
    }

    /// Bodies separated by `or`, each a query (a rule whose head is `query()`).
    private mutating func parseQueries() throws(DatalogParseError) -> [Rule] {
        var queries: [Rule] = []
        repeat {
            let (body, expressions, scopes) = try parseBody()
            queries.append(Rule(head: Predicate("query", []), body: body, expressions: expressions, scopes: scopes))
            skipSpaceAndComments()
        } while consumeKeyword("or", ignoringCase: true)
        return queries
    }

    /// Predicates and expressions separated by `,`, then an optional `trusting …`.
    mutating func parseBody() throws(DatalogParseError) -> ([Predicate], [Expression], [Scope]) {
        var predicates: [Predicate] = []
        var expressions: [Expression] = []
        repeat {
            skipSpaceAndComments()
            if let predicate = try parsePredicateIfPresent() {
                predicates.append(predicate)
            } else {
                expressions.append(Expression(ops: try parseExpression().operations()))
            }
            skipSpaceAndComments()
        } while consume(",")
        var scopes: [Scope] = []
        if consumeKeyword("trusting") { scopes = try parseScopeList() }
        return (predicates, expressions, scopes)
    }

    /// A predicate if the text continues with `name(`; otherwise nil and nothing consumed.
    private mutating func parsePredicateIfPresent() throws(DatalogParseError) -> Predicate? {
        let start = index
        guard let first = current, Self.isLetter(first) || first == UInt8(ascii: "_"), let name = try? parseName()
        else { return nil }
        skipSpace()
        guard current == UInt8(ascii: "("), !["true", "false", "null"].contains(name) else {
            index = start
            return nil
        }
        index = start
        return try parsePredicate(allowEmpty: false)
    }

    /// `name(term, …)`; terms may be variables.
    mutating func parsePredicate(allowEmpty: Bool) throws(DatalogParseError) -> Predicate {
        skipSpaceAndComments()
        let name = try parseName("a predicate name")
        try expect("(")
        var terms: [Term] = []
        skipSpaceAndComments()
        if consume(")") {
            guard allowEmpty else { throw error("a predicate needs at least one term") }
            return Predicate(name, terms)
        }
        repeat {
            skipSpaceAndComments()
            terms.append(try parseTerm(allowVariable: true))
            skipSpaceAndComments()
        } while consume(",")
        try expect(")", "',' or ')'")
        return Predicate(name, terms)
    }

    /// `scope, scope, …` after `trusting`.
    mutating func parseScopeList() throws(DatalogParseError) -> [Scope] {
        var scopes: [Scope] = []
        repeat {
            skipSpaceAndComments()
            scopes.append(try parseScope())
            skipSpaceAndComments()
        } while consume(",")
        return scopes
    }

    private mutating func parseScope() throws(DatalogParseError) -> Scope {
        if consumeKeyword("authority") { return .authority }
        if consumeKeyword("previous") { return .previous }
        if consume("{") {
            let name = try parseName("a parameter name")
            try expect("}")
            return .parameter(name)
        }
        let start = index
        for algorithm in Algorithm.allCases where consume("\(algorithm.name)/") {
            let hexStart = index
            while let byte = current, Self.isNameByte(byte) { index += 1 }
            let hex = String(decoding: bytes[hexStart..<index], as: UTF8.self)
            guard let keyBytes = Hex.decode(hex), let key = try? PublicKey(algorithm: algorithm, bytes: keyBytes) else {
                throw error("invalid \(algorithm.name) public key", at: start)
            }
            return .publicKey(key)
        }
        throw error("expected authority, previous, a public key or a {parameter}")
    }
}
