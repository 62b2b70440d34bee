/// Why a Biscuit operation failed: a kind to branch on, and a message for people.
///
/// Two errors are equal when their kinds are, so tests and callers can match `BiscuitError.invalidSignature`.
public struct BiscuitError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kinds of failure.
    public enum Kind: Hashable, Sendable {
        /// Datalog text that does not parse (see `DatalogParseError` for the position).
        case parse
        /// Bytes or text that are not a key of the stated algorithm.
        case invalidKey
        /// Bytes that are not a well-formed token, block or third-party message.
        case format
        /// A block version outside what this implementation supports (3 to 6).
        case unsupportedVersion
        /// A token, block or message larger than the configured limit.
        case tooLarge
        /// A signature that does not verify, or a proof that does not match.
        case invalidSignature
        /// No root key is known for the token's key id (a wrong root key fails as `.invalidSignature`).
        case unknownRootKey
        /// A sealed token cannot be attenuated or sealed again.
        case sealed
        /// A rule whose head has a variable its body does not bind.
        case invalidRule
        /// A `{parameter}` left without a value, or a value given for no parameter.
        case parameters
        /// Datalog that a block cannot carry (e.g. policies in a token block, variables in a fact).
        case invalidBlock
        /// An expression failed during authorization (type error, overflow, …).
        case execution
        /// A run limit (facts, iterations, time) was reached.
        case runLimit(RunLimit)
        /// Authorization ran and refused: failed checks, a matching deny policy, or no matching policy.
        case unauthorized
    }

    /// The kind of failure.
    public let kind: Kind
    /// What went wrong, for people.
    public let message: String
    /// For `.unauthorized`: the details.
    public let authorization: AuthorizationFailure?

    /// An error of `kind` with a message.
    public init(_ kind: Kind, _ message: String = "", authorization: AuthorizationFailure? = nil) {
        self.kind = kind
        self.message = message
        self.authorization = authorization
    }

    /// The kind and the message.
    public var description: String { message.isEmpty ? "\(kind)" : "\(kind): \(message)" }

    /// Errors of the same kind are equal, whatever their messages.
    public static func == (left: BiscuitError, right: BiscuitError) -> Bool { left.kind == right.kind }
    /// Hashes the kind.
    public func hash(into hasher: inout Hasher) { hasher.combine(kind) }

    /// A signature that does not verify.
    public static let invalidSignature = BiscuitError(.invalidSignature)
    /// Malformed bytes.
    public static let format = BiscuitError(.format)
    /// A sealed token was attenuated or sealed again.
    public static let sealed = BiscuitError(.sealed)
    /// Authorization refused.
    public static let unauthorized = BiscuitError(.unauthorized)
    /// An expression failed.
    public static let execution = BiscuitError(.execution)
    /// Datalog text that does not parse.
    public static let parse = BiscuitError(.parse)
}

/// What an authorization that refused found: every failed check and the policy that decided, if any.
public struct AuthorizationFailure: Hashable, Sendable {
    /// A check that did not succeed.
    public struct FailedCheck: Hashable, Sendable {
        /// The token block that carries it, or nil for the authorizer's own checks.
        public var block: Int?
        /// Its position among that block's checks.
        public var index: Int
        /// Its text.
        public var source: String
    }

    /// Every check that failed, authorizer's first, then by block.
    public var failedChecks: [FailedCheck]
    /// The policy that matched: `.allow(index)` (overruled by failed checks), `.deny(index)`, or nil if none.
    public var matchedPolicy: MatchedPolicy?

    /// One line: the deciding policy and the failed checks.
    public var summary: String {
        var parts: [String] = []
        switch matchedPolicy {
        case .allow(let index): parts.append("allow policy \(index) matched but checks failed")
        case .deny(let index): parts.append("deny policy \(index) matched")
        case nil: parts.append("no policy matched")
        }
        for check in failedChecks {
            parts.append(
                "failed \(check.block.map { "block \($0)" } ?? "authorizer") check \(check.index): \(check.source)")
        }
        return parts.joined(separator: "; ")
    }
}

/// A policy that matched, by its index among the authorizer's policies.
public enum MatchedPolicy: Hashable, Sendable {
    /// An `allow if` policy.
    case allow(Int)
    /// A `deny if` policy.
    case deny(Int)
}
