/// A set of block ids held as a bit mask for the ids an authorization meets in practice (the first 63 blocks and
/// the authorizer), with a set for the rest, so that the origin arithmetic run for every candidate fact allocates
/// and hashes nothing.
struct BlockSet: Hashable, Sendable {
    private static let authorizerBit: UInt64 = 1 << 63
    private var mask: UInt64 = 0
    private var others: Set<Int> = []

    init<Blocks: Sequence<Int>>(_ blocks: Blocks) {
        for block in blocks { insert(block) }
    }

    init() {}

    private static func bit(_ block: Int) -> UInt64? {
        if block == Origin.authorizer { return authorizerBit }
        return (0..<63).contains(block) ? 1 << UInt64(block) : nil
    }

    mutating func insert(_ block: Int) {
        if let bit = Self.bit(block) { mask |= bit } else { others.insert(block) }
    }

    mutating func formUnion(_ other: BlockSet) {
        mask |= other.mask
        if !other.others.isEmpty { others.formUnion(other.others) }
    }

    func union(_ other: BlockSet) -> BlockSet {
        var union = self
        union.formUnion(other)
        return union
    }

    func isSubset(of other: BlockSet) -> Bool {
        mask & ~other.mask == 0 && (others.isEmpty || others.isSubset(of: other.others))
    }
}

/// The blocks a fact comes from: the block that defined it, plus, for a generated fact, the rule's block and the
/// origins of every fact the rule matched. The authorizer counts as a block of its own.
struct Origin: Hashable, Sendable {
    /// The authorizer's block id: after every token block.
    static let authorizer = Int.max

    private(set) var blocks: BlockSet

    init(_ blocks: Set<Int> = []) {
        self.blocks = BlockSet(blocks)
    }

    private init(blocks: BlockSet) {
        self.blocks = blocks
    }

    func union(_ other: Origin) -> Origin {
        Origin(blocks: blocks.union(other.blocks))
    }

    mutating func insert(_ block: Int) {
        blocks.insert(block)
    }
}

/// The origins a rule, check or policy accepts facts from: a fact is visible when its origin is a subset.
struct TrustedOrigins: Hashable, Sendable {
    private(set) var blocks: BlockSet

    /// The authority block and the authorizer: what a block trusts when it says nothing.
    static let defaults = TrustedOrigins(blocks: BlockSet([0, Origin.authorizer]))

    func accepts(_ origin: Origin) -> Bool {
        origin.blocks.isSubset(of: blocks)
    }

    /// What `scopes` grant a rule of `block`, on top of `defaults` when there are none. The current block and the
    /// authorizer are always trusted. `keyBlocks` lists, for each external public key, the blocks it signed.
    static func from(
        _ scopes: [Scope], defaults: TrustedOrigins, block: Int, keyBlocks: [PublicKey: [Int]]
    ) -> TrustedOrigins {
        var blocks = BlockSet([block, Origin.authorizer])
        guard !scopes.isEmpty else {
            blocks.formUnion(defaults.blocks)
            return TrustedOrigins(blocks: blocks)
        }
        for scope in scopes {
            switch scope {
            case .authority: blocks.insert(0)
            case .previous: if block != Origin.authorizer { blocks.formUnion(BlockSet(0...block)) }
            case .publicKey(let key): blocks.formUnion(BlockSet(keyBlocks[key] ?? []))
            case .parameter: break
            }
        }
        return TrustedOrigins(blocks: blocks)
    }
}
