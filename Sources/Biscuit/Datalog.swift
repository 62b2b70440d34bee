/// A predicate: a name applied to terms, `right("file1", $operation)`. Names compare byte for byte.
public struct Predicate: Hashable, Sendable {
    /// The predicate's name.
    public var name: String
    /// Its arguments, in order.
    public var terms: [Term]

    /// A predicate named `name` over `terms`.
    public init(_ name: String, _ terms: [Term]) {
        self.name = name
        self.terms = terms
    }

    /// Same name (byte for byte) and same terms.
    public static func == (left: Predicate, right: Predicate) -> Bool {
        left.name.utf8.elementsEqual(right.name.utf8) && left.terms == right.terms
    }

    /// Hashes the name's bytes and the terms.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(Term.string(name))
        hasher.combine(terms)
    }
}

/// A fact: a predicate whose terms hold no variable.
public struct Fact: Hashable, Sendable {
    /// The fact's predicate.
    public var predicate: Predicate

    /// A fact named `name` over `terms`.
    public init(_ name: String, _ terms: [Term]) {
        predicate = Predicate(name, terms)
    }

    /// A fact from a predicate.
    public init(predicate: Predicate) {
        self.predicate = predicate
    }
}

/// Which blocks' facts a rule, check or policy may see, besides its own block and the authorizer.
public enum Scope: Hashable, Sendable {
    /// The authority block (block 0).
    case authority
    /// Every block before the current one (meaningless in the authorizer, where it is ignored).
    case previous
    /// Every third-party block signed by this key.
    case publicKey(PublicKey)
    /// A named placeholder, `{name}`, replaced by a public key before use.
    case parameter(String)
}

/// A rule: when the body matches (every predicate, every expression true), the head is a new fact.
public struct Rule: Hashable, Sendable {
    /// The fact produced for each match.
    public var head: Predicate
    /// The predicates to match.
    public var body: [Predicate]
    /// The expressions every match must make true.
    public var expressions: [Expression]
    /// The origins trusted by this rule (`trusting …`); empty means the block's default.
    public var scopes: [Scope]

    /// A rule from its parts.
    public init(head: Predicate, body: [Predicate], expressions: [Expression] = [], scopes: [Scope] = []) {
        self.head = head
        self.body = body
        self.expressions = expressions
        self.scopes = scopes
    }

    /// Variables of the head that no body predicate binds: a rule with any is refused.
    public var unboundHeadVariables: [String] {
        var seen: Set<String> = []
        return head.terms.compactMap(\.variableName).filter { !bodyBinds($0) && seen.insert($0).inserted }
    }

    /// Variables of the expressions (outside closures' own parameters) that no body predicate binds: the parser
    /// refuses a rule with any, as the reference does; checks and policies with them fail when evaluated.
    public var unboundExpressionVariables: [String] {
        var seen: Set<String> = []
        return expressions.flatMap { Self.freeVariables($0.ops) }.filter { !bodyBinds($0) && seen.insert($0).inserted }
    }

    /// Whether every variable of the head is bound by a body predicate (the test run on every rule of every
    /// authorization, without building sets).
    var headIsBound: Bool {
        head.terms.allSatisfy { term in term.variableName.map(bodyBinds) ?? true }
    }

    /// Whether a body predicate binds the variable `name`.
    private func bodyBinds(_ name: String) -> Bool {
        body.contains { predicate in predicate.terms.contains { $0.variableName == name } }
    }

    private static func freeVariables(_ ops: [Operation]) -> [String] {
        ops.flatMap { op -> [String] in
            switch op {
            case .value(.variable(let name)): [name]
            case .closure(let parameters, let body): freeVariables(body).filter { !parameters.contains($0) }
            default: []
            }
        }
    }
}

/// How a check treats its queries' matches.
public enum CheckKind: Hashable, Sendable {
    /// `check if`: succeeds if one query has at least one match.
    case one
    /// `check all`: succeeds if one query has matches and every match makes its expressions true.
    case all
    /// `reject if`: fails if one query has a match.
    case reject
}

/// A check: queries of which one must succeed (or, for `reject if`, none may match).
public struct Check: Hashable, Sendable {
    /// The kind of check.
    public var kind: CheckKind
    /// The alternatives, joined by `or` in text; queries are rules whose head is ignored.
    public var queries: [Rule]

    /// A check from its parts.
    public init(kind: CheckKind, queries: [Rule]) {
        self.kind = kind
        self.queries = queries
    }
}

/// Whether a policy allows or denies.
public enum PolicyKind: Hashable, Sendable {
    /// `allow if`.
    case allow
    /// `deny if`.
    case deny
}

/// An authorizer policy: the first one with a matching query decides.
public struct Policy: Hashable, Sendable {
    /// Allow or deny.
    public var kind: PolicyKind
    /// The alternatives, joined by `or` in text.
    public var queries: [Rule]

    /// A policy from its parts.
    public init(kind: PolicyKind, queries: [Rule]) {
        self.kind = kind
        self.queries = queries
    }
}

/// The Datalog content of one block: what a token block or an authorizer carries.
public struct BlockContent: Hashable, Sendable {
    /// Facts.
    public var facts: [Fact] = []
    /// Rules.
    public var rules: [Rule] = []
    /// Checks.
    public var checks: [Check] = []
    /// Policies (only an authorizer may have them).
    public var policies: [Policy] = []
    /// The origins the block's rules and checks trust by default (`trusting …;` at the top).
    public var scopes: [Scope] = []
    /// Free text carried by a token block (`context`), not used by authorization.
    public var context: String?

    /// An empty block.
    public init() {}

    /// Appends another block's elements (its scopes replace these if it has any).
    public mutating func merge(_ other: BlockContent) {
        facts += other.facts
        rules += other.rules
        checks += other.checks
        policies += other.policies
        if !other.scopes.isEmpty { scopes = other.scopes }
        if other.context != nil { context = other.context }
    }
}

extension Term {
    var variableName: String? {
        if case .variable(let name) = self { return name }
        return nil
    }
}
