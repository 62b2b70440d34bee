import Foundation

/// Decides whether a token (or no token) is allowed: the verifier's facts, rules, checks and policies, run with
/// the token's blocks under limits.
///
/// ```swift
/// var authorizer = try Authorizer("""
///     resource("invoices"); operation("read");
///     allow if right("invoices", "read");
///     """)
/// authorizer.setTime(Date())
/// let result = try authorizer.authorize(token)   // throws BiscuitError(.unauthorized) with every failed check
/// ```
public struct Authorizer: Sendable {
    /// The authorizer's own Datalog, policies included.
    public var content: BlockContent
    /// Bounds on the run.
    public var limits: RunLimits
    /// Functions available to expressions as `.extern::name(…)`.
    public var externalFunctions: [String: ExternalFunction] = [:]

    /// An authorizer from Datalog text; `{placeholders}` are replaced from `parameters` and `keys`.
    public init(
        _ source: String = "", parameters: [String: Term] = [:], keys: [String: PublicKey] = [:],
        limits: RunLimits = RunLimits()
    ) throws(BiscuitError) {
        content = BlockContent()
        self.limits = limits
        try add(source, parameters: parameters, keys: keys)
    }

    /// Adds Datalog text (facts, rules, checks, policies, and an optional leading `trusting …;`).
    public mutating func add(_ source: String, parameters: [String: Term] = [:], keys: [String: PublicKey] = [:])
        throws(BiscuitError)
    {
        let parsed: BlockContent
        do {
            parsed = try DatalogParser.parseAuthorizer(source)
        } catch {
            throw BiscuitError(error)
        }
        content.merge(try parsed.substituting(parameters, keys: keys))
    }

    /// Adds a fact.
    public mutating func add(_ fact: Fact) { content.facts.append(fact) }
    /// Adds a rule.
    public mutating func add(_ rule: Rule) { content.rules.append(rule) }
    /// Adds a check.
    public mutating func add(_ check: Check) { content.checks.append(check) }
    /// Adds a policy.
    public mutating func add(_ policy: Policy) { content.policies.append(policy) }

    /// Adds the fact `time(date)` (to the second), which expiry checks compare against.
    public mutating func setTime(_ date: Date) {
        add(Fact("time", [.date(Self.timeFactSeconds(date))]))
    }

    /// The value `setTime` gives the `time` fact: whole seconds since 1970, never negative.
    public static func timeFactSeconds(_ date: Date) -> UInt64 {
        UInt64(max(0, date.timeIntervalSince1970))
    }

    /// Runs the token's blocks and this authorizer: succeeds with the index of the allow policy that matched, or
    /// throws `BiscuitError(.unauthorized)` listing every failed check and the deciding policy, or an execution or
    /// limit error.
    public func authorize(_ token: Biscuit) throws(BiscuitError) -> Authorization {
        try authorize(blocks: token.blocks)
    }

    /// Runs this authorizer alone, without a token.
    public func authorize() throws(BiscuitError) -> Authorization {
        try authorize(blocks: [])
    }

    func authorize(blocks: [TokenBlock]) throws(BiscuitError) -> Authorization {
        let started = ContinuousClock.now
        let budget = TimeBudget(limits.maxTime, source: limits.timeSource)
        var session = try AuthorizationSession(blocks: blocks, authorizer: self)
        do {
            try session.world.run(limits: limits, budget: budget)
            try budget.check()
            let decision = try session.decide(budget: budget)
            return Authorization(
                policyIndex: decision, world: session.world, keyBlocks: session.keyBlocks,
                duration: ContinuousClock.now - started)
        } catch {
            throw error.biscuitError
        }
    }
}

/// A successful authorization: which allow policy matched, and the world it ran on (for queries).
public struct Authorization: Sendable {
    /// The index of the allow policy that matched.
    public let policyIndex: Int
    let world: World
    let keyBlocks: [PublicKey: [Int]]
    /// How long the authorization took.
    public let duration: Duration

    /// Every fact in the world after the run, whatever its origin.
    public var facts: Set<Fact> { Set(world.allFacts.map(\.1)) }

    /// The facts `rule` produces from the world, seeing what the authorizer sees (authority and authorizer
    /// facts, plus what the rule's `trusting` adds).
    public func query(_ rule: Rule, limits: RunLimits = RunLimits()) throws(BiscuitError) -> Set<Fact> {
        let trusted = TrustedOrigins.from(
            rule.scopes, defaults: .defaults, block: Origin.authorizer, keyBlocks: keyBlocks)
        do {
            return try world.produce(
                rule, trusted: trusted, budget: TimeBudget(limits.maxTime, source: limits.timeSource))
        } catch {
            throw error.biscuitError
        }
    }
}
