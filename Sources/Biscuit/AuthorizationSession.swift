/// One authorization in progress: the world loaded from the token's blocks and the authorizer, and the order in
/// which checks and policies are evaluated (authorizer checks, authority checks, policies, then other blocks'
/// checks), as in the specification.
struct AuthorizationSession {
    var world = World()
    let keyBlocks: [PublicKey: [Int]]
    private let blocks: [TokenBlock]
    private let authorizer: BlockContent
    private let authorizerTrust: TrustedOrigins

    init(blocks: [TokenBlock], authorizer: Authorizer) throws(BiscuitError) {
        self.blocks = blocks
        self.authorizer = authorizer.content
        var keyBlocks: [PublicKey: [Int]] = [:]
        for (index, block) in blocks.enumerated() {
            if let key = block.externalKey { keyBlocks[key, default: []].append(index) }
        }
        self.keyBlocks = keyBlocks
        world.evaluator.externals = authorizer.externalFunctions
        authorizerTrust = TrustedOrigins.from(
            authorizer.content.scopes, defaults: .defaults, block: Origin.authorizer, keyBlocks: keyBlocks)

        for (index, block) in blocks.enumerated() {
            let blockTrust = self.blockTrust(index)
            for fact in block.content.facts { world.add(fact, origin: Origin([index])) }
            for rule in block.content.rules {
                guard rule.headIsBound else {
                    throw BiscuitError(.invalidRule, "block \(index): \(rule)")
                }
                world.add(rule, block: index, trusted: trust(rule.scopes, defaults: blockTrust, block: index))
            }
        }
        for fact in authorizer.content.facts {
            guard fact.predicate.terms.allSatisfy(\.isGround) else {
                throw BiscuitError(.invalidBlock, "the fact \(fact) has a variable or a parameter")
            }
            world.add(fact, origin: Origin([Origin.authorizer]))
        }
        for rule in authorizer.content.rules {
            guard rule.headIsBound else { throw BiscuitError(.invalidRule, "\(rule)") }
            world.add(
                rule, block: Origin.authorizer,
                trusted: trust(rule.scopes, defaults: authorizerTrust, block: Origin.authorizer))
        }
    }

    private func blockTrust(_ index: Int) -> TrustedOrigins {
        TrustedOrigins.from(blocks[index].content.scopes, defaults: .defaults, block: index, keyBlocks: keyBlocks)
    }

    private func trust(_ scopes: [Scope], defaults: TrustedOrigins, block: Int) -> TrustedOrigins {
        TrustedOrigins.from(scopes, defaults: defaults, block: block, keyBlocks: keyBlocks)
    }

    /// Evaluates every check and the policies; returns the matching allow policy's index, or throws
    /// `.unauthorized` with the failures.
    func decide(budget: TimeBudget) throws(WorldFailure) -> Int {
        var failed: [AuthorizationFailure.FailedCheck] = []
        for (index, check) in authorizer.checks.enumerated()
        where try !passes(check, defaults: authorizerTrust, block: Origin.authorizer, budget: budget) {
            failed.append(.init(block: nil, index: index, source: check.description))
        }
        if let authority = blocks.first {
            failed += try failures(of: authority, at: 0, budget: budget)
        }
        var matched: MatchedPolicy?
        policies: for (index, policy) in authorizer.policies.enumerated() {
            for query in policy.queries {
                let trusted = trust(query.scopes, defaults: authorizerTrust, block: Origin.authorizer)
                let found = try world.hasMatch(query, trusted: trusted, budget: budget)
                try budget.check()
                if found {
                    matched = policy.kind == .allow ? .allow(index) : .deny(index)
                    break policies
                }
            }
        }
        for (index, block) in blocks.enumerated().dropFirst() {
            failed += try failures(of: block, at: index, budget: budget)
        }
        if case .allow(let index)? = matched, failed.isEmpty { return index }
        throw .refused(AuthorizationFailure(failedChecks: failed, matchedPolicy: matched))
    }

    private func failures(of block: TokenBlock, at index: Int, budget: TimeBudget) throws(WorldFailure)
        -> [AuthorizationFailure.FailedCheck]
    {
        let defaults = blockTrust(index)
        var failed: [AuthorizationFailure.FailedCheck] = []
        for (checkIndex, check) in block.content.checks.enumerated()
        where try !passes(check, defaults: defaults, block: index, budget: budget) {
            failed.append(.init(block: index, index: checkIndex, source: check.description))
        }
        return failed
    }

    private func passes(_ check: Check, defaults: TrustedOrigins, block: Int, budget: TimeBudget) throws(WorldFailure)
        -> Bool
    {
        for query in check.queries {
            let trusted = trust(query.scopes, defaults: defaults, block: block)
            let succeeded: Bool
            switch check.kind {
            case .one: succeeded = try world.hasMatch(query, trusted: trusted, budget: budget)
            case .all: succeeded = try world.allMatch(query, trusted: trusted, budget: budget)
            case .reject: succeeded = try !world.hasMatch(query, trusted: trusted, budget: budget)
            }
            try budget.check()
            if succeeded { return true }
        }
        return false
    }
}
