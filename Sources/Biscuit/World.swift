/// Why evaluating the world stopped: an expression failed or a limit was reached.
enum WorldFailure: Error, Equatable {
    case expression(EvaluationFailure)
    case limit(RunLimit)
    case refused(AuthorizationFailure)

    var biscuitError: BiscuitError {
        switch self {
        case .expression(let failure): BiscuitError(.execution, failure.message)
        case .limit(let limit): BiscuitError(.runLimit(limit), "\(limit)")
        case .refused(let failure): BiscuitError(.unauthorized, failure.summary, authorization: failure)
        }
    }
}

/// The Datalog world of one authorization: facts tagged with their origin, rules tagged with what they trust,
/// and the fixpoint that extends the facts until no rule adds any.
struct World: Sendable {
    /// Facts by predicate name, then origin.
    private(set) var facts: [String: [Origin: Set<Fact>]] = [:]
    private(set) var factCount = 0
    private(set) var rules: [(block: Int, trusted: TrustedOrigins, rule: Rule)] = []
    var evaluator = ExpressionEvaluator()
    private(set) var iterations = 0

    mutating func add(_ fact: Fact, origin: Origin) {
        if facts[fact.predicate.name, default: [:]][origin, default: []].insert(fact).inserted { factCount += 1 }
    }

    mutating func add(_ rule: Rule, block: Int, trusted: TrustedOrigins) {
        rules.append((block, trusted, rule))
    }

    /// Every fact with its origin (for inspection and queries).
    var allFacts: [(Origin, Fact)] {
        facts.values.flatMap { byOrigin in byOrigin.flatMap { origin, set in set.map { (origin, $0) } } }
    }

    /// Applies the rules until no new fact appears, within `limits` and `budget`.
    mutating func run(limits: RunLimits, budget: TimeBudget) throws(WorldFailure) {
        while true {
            var generated: [(Origin, Fact)] = []
            for (block, trusted, rule) in rules {
                try forEachMatch(of: rule, trusted: trusted, budget: budget) { bindings, origin throws(WorldFailure) in
                    var origin = origin
                    origin.insert(block)
                    let head = Self.instantiate(rule.head, bindings)
                    if head.terms.allSatisfy(\.isGround) { generated.append((origin, Fact(predicate: head))) }
                    return true
                }
            }
            let before = factCount
            for (origin, fact) in generated { add(fact, origin: origin) }
            if factCount == before { return }
            iterations += 1
            if iterations >= limits.maxIterations { throw .limit(.tooManyIterations) }
            if factCount >= limits.maxFacts { throw .limit(.tooManyFacts) }
            try budget.check()
        }
    }

    /// Whether the query has a match (`check if`, policies); an expression failure met before one is an error.
    func hasMatch(_ query: Rule, trusted: TrustedOrigins, budget: TimeBudget) throws(WorldFailure) -> Bool {
        var found = false
        try forEachMatch(of: query, trusted: trusted, budget: budget) { _, _ throws(WorldFailure) in
            found = true
            return false
        }
        return found
    }

    /// `check all`: the body has matches and every one makes the expressions true.
    func allMatch(_ query: Rule, trusted: TrustedOrigins, budget: TimeBudget) throws(WorldFailure) -> Bool {
        var found = false
        var holds = true
        try forEachBodyMatch(query.body, trusted: trusted, budget: budget) { bindings, _ throws(WorldFailure) in
            found = true
            if try !expressionsHold(query.expressions, bindings, budget: budget) {
                holds = false
                return false
            }
            return true
        }
        return found && holds
    }

    /// The facts `rule` produces from the current world (for `Authorizer.query`).
    func produce(_ rule: Rule, trusted: TrustedOrigins, budget: TimeBudget) throws(WorldFailure) -> Set<Fact> {
        var produced: Set<Fact> = []
        try forEachMatch(of: rule, trusted: trusted, budget: budget) { bindings, _ throws(WorldFailure) in
            let head = Self.instantiate(rule.head, bindings)
            if head.terms.allSatisfy(\.isGround) { produced.insert(Fact(predicate: head)) }
            return true
        }
        return produced
    }

    /// Calls `visit` for every match of the body whose expressions hold, until it returns false.
    private func forEachMatch(
        of rule: Rule, trusted: TrustedOrigins, budget: TimeBudget,
        _ visit: ([String: Term], Origin) throws(WorldFailure) -> Bool
    ) throws(WorldFailure) {
        try forEachBodyMatch(rule.body, trusted: trusted, budget: budget) { bindings, origin throws(WorldFailure) in
            guard try expressionsHold(rule.expressions, bindings, budget: budget) else { return true }
            return try visit(bindings, origin)
        }
    }

    private func expressionsHold(_ expressions: [Expression], _ bindings: [String: Term], budget: TimeBudget)
        throws(WorldFailure) -> Bool
    {
        for expression in expressions {
            let result: Term
            do {
                result = try evaluator.evaluate(expression.ops, bindings: bindings, budget: budget)
            } catch .limit(let limit) {
                throw .limit(limit)
            } catch {
                throw .expression(error)
            }
            switch result {
            case .bool(true): continue
            case .bool(false): return false
            default: throw .expression(.invalidType)
            }
        }
        return true
    }

    /// Calls `visit` with the bindings and combined origin of every combination of visible facts matching `body`.
    private func forEachBodyMatch(
        _ body: [Predicate], trusted: TrustedOrigins, budget: TimeBudget,
        _ visit: ([String: Term], Origin) throws(WorldFailure) -> Bool
    ) throws(WorldFailure) {
        var steps = 0
        func match(_ index: Int, _ bindings: [String: Term], _ origin: Origin) throws(WorldFailure) -> Bool {
            guard index < body.count else { return try visit(bindings, origin) }
            let predicate = body[index]
            for (factOrigin, candidates) in facts[predicate.name] ?? [:] where trusted.accepts(factOrigin) {
                for fact in candidates {
                    steps += 1
                    if steps & 1023 == 0 { try budget.check() }
                    guard let extended = Self.unify(predicate, fact, bindings) else { continue }
                    if try !match(index + 1, extended, origin.union(factOrigin)) { return false }
                }
            }
            return true
        }
        _ = try match(0, [:], Origin())
    }

    /// The bindings extended so that `predicate` equals `fact`, or nil if they cannot be.
    static func unify(_ predicate: Predicate, _ fact: Fact, _ bindings: [String: Term]) -> [String: Term]? {
        guard predicate.terms.count == fact.predicate.terms.count,
            predicate.name.utf8.elementsEqual(fact.predicate.name.utf8)
        else { return nil }
        var bindings = bindings
        for (pattern, value) in zip(predicate.terms, fact.predicate.terms) {
            if case .variable(let name) = pattern {
                if let bound = bindings[name] {
                    if bound != value { return nil }
                } else {
                    bindings[name] = value
                }
            } else if pattern != value {
                return nil
            }
        }
        return bindings
    }

    static func instantiate(_ head: Predicate, _ bindings: [String: Term]) -> Predicate {
        Predicate(head.name, head.terms.map { term in term.variableName.flatMap { bindings[$0] } ?? term })
    }
}
