/// The blocks a fact comes from: the block that defined it, plus, for a generated fact, the rule's block and the
/// origins of every fact the rule matched. The authorizer counts as a block of its own.
struct Origin: Hashable, Sendable {
    /// The authorizer's block id: after every token block.
    static let authorizer = Int.max

    private(set) var blocks: Set<Int>

    init(_ blocks: Set<Int> = []) {
        self.blocks = blocks
    }

    func union(_ other: Origin) -> Origin {
        Origin(blocks.union(other.blocks))
    }

    mutating func insert(_ block: Int) {
        blocks.insert(block)
    }
}

/// The origins a rule, check or policy accepts facts from: a fact is visible when its origin is a subset.
struct TrustedOrigins: Hashable, Sendable {
    private(set) var blocks: Set<Int>

    /// The authority block and the authorizer: what a block trusts when it says nothing.
    static let defaults = TrustedOrigins(blocks: [0, Origin.authorizer])

    func accepts(_ origin: Origin) -> Bool {
        origin.blocks.isSubset(of: blocks)
    }

    /// What `scopes` grant a rule of `block`, on top of `defaults` when there are none. The current block and the
    /// authorizer are always trusted. `keyBlocks` lists, for each external public key, the blocks it signed.
    static func from(
        _ scopes: [Scope], defaults: TrustedOrigins, block: Int, keyBlocks: [PublicKey: [Int]]
    ) -> TrustedOrigins {
        guard !scopes.isEmpty else {
            return TrustedOrigins(blocks: defaults.blocks.union([block, Origin.authorizer]))
        }
        var blocks: Set<Int> = [block, Origin.authorizer]
        for scope in scopes {
            switch scope {
            case .authority: blocks.insert(0)
            case .previous: if block != Origin.authorizer { blocks.formUnion(0...block) }
            case .publicKey(let key): blocks.formUnion(keyBlocks[key] ?? [])
            case .parameter: break
            }
        }
        return TrustedOrigins(blocks: blocks)
    }
}
