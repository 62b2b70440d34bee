extension BlockContent {
    /// The content with every `{name}` replaced: terms from `values`, scopes from `keys`. Throws if a placeholder
    /// has no value, or a value matches no placeholder.
    public func substituting(_ values: [String: Term] = [:], keys: [String: PublicKey] = [:]) throws(BiscuitError)
        -> BlockContent
    {
        var substitution = Substitution(values: values, keys: keys)
        var content = self
        content.facts = facts.map { Fact(predicate: substitution.apply($0.predicate)) }
        content.rules = rules.map { substitution.apply($0) }
        content.checks = checks.map { Check(kind: $0.kind, queries: $0.queries.map { substitution.apply($0) }) }
        content.policies = policies.map { Policy(kind: $0.kind, queries: $0.queries.map { substitution.apply($0) }) }
        content.scopes = scopes.map { substitution.apply($0) }
        try substitution.finish()
        return content
    }

    /// Names of the `{placeholders}` still in the content.
    public var parameterNames: Set<String> {
        var substitution = Substitution(values: [:], keys: [:])
        _ = facts.map { substitution.apply($0.predicate) }
        _ = rules.map { substitution.apply($0) }
        _ = (checks.flatMap(\.queries) + policies.flatMap(\.queries)).map { substitution.apply($0) }
        _ = scopes.map { substitution.apply($0) }
        return substitution.missing
    }
}

/// Replaces placeholders and records which were missing and which values were used.
private struct Substitution {
    let values: [String: Term]
    let keys: [String: PublicKey]
    var missing: Set<String> = []
    var used: Set<String> = []

    mutating func apply(_ rule: Rule) -> Rule {
        Rule(
            head: apply(rule.head), body: rule.body.map { apply($0) },
            expressions: rule.expressions.map { Expression(ops: apply($0.ops)) }, scopes: rule.scopes.map { apply($0) })
    }

    mutating func apply(_ predicate: Predicate) -> Predicate {
        Predicate(predicate.name, predicate.terms.map { apply($0) })
    }

    mutating func apply(_ ops: [Operation]) -> [Operation] {
        ops.map { op in
            switch op {
            case .value(let term): .value(apply(term))
            case .closure(let parameters, let body): .closure(parameters: parameters, ops: apply(body))
            default: op
            }
        }
    }

    mutating func apply(_ term: Term) -> Term {
        switch term {
        case .parameter(let name):
            guard let value = values[name] else {
                missing.insert(name)
                return term
            }
            used.insert(name)
            return value
        case .set(let elements): return .set(Set(elements.map { apply($0) }))
        case .array(let elements): return .array(elements.map { apply($0) })
        case .map(let entries): return .map(entries.mapValues { apply($0) })
        default: return term
        }
    }

    mutating func apply(_ scope: Scope) -> Scope {
        guard case .parameter(let name) = scope else { return scope }
        guard let key = keys[name] else {
            missing.insert(name)
            return scope
        }
        used.insert(name)
        return .publicKey(key)
    }

    func finish() throws(BiscuitError) {
        if !missing.isEmpty {
            throw BiscuitError(
                .parameters, "no value for " + missing.sorted().map { "{\($0)}" }.joined(separator: ", "))
        }
        let unused = Set(values.keys).union(keys.keys).subtracting(used)
        if !unused.isEmpty {
            throw BiscuitError(
                .parameters, "no placeholder for " + unused.sorted().map { "{\($0)}" }.joined(separator: ", "))
        }
    }
}
