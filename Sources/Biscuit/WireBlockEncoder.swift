import Foundation

/// Turns a block's Datalog into its wire form, interning strings and keys in a symbol table.
struct WireBlockEncoder {
    var table: SymbolTable

    /// The wire block for `content` at `version`: the symbols and public keys it adds to `table` are listed in it.
    mutating func encode(_ content: BlockContent, version: UInt32) throws(BiscuitError) -> Biscuit_Wire_Block {
        let symbolsBefore = table.symbols.count
        let keysBefore = table.publicKeys.count
        var block = Biscuit_Wire_Block()
        block.version = version
        if let context = content.context { block.context = context }
        block.facts = try content.facts.map { fact throws(BiscuitError) in
            guard fact.predicate.terms.allSatisfy(\.isGround) else {
                throw BiscuitError(.invalidBlock, "the fact \(fact) has a variable or a parameter")
            }
            var data = Biscuit_Wire_FactData()
            data.predicate = try encode(fact.predicate)
            return data
        }
        block.rules = try content.rules.map { rule throws(BiscuitError) in
            guard rule.unboundHeadVariables.isEmpty else { throw BiscuitError(.invalidRule, "\(rule)") }
            return try encode(rule)
        }
        block.checks = try content.checks.map { check throws(BiscuitError) in
            var data = Biscuit_Wire_CheckData()
            data.queries = try check.queries.map { query throws(BiscuitError) in try encode(query) }
            switch check.kind {
            case .one: break
            case .all: data.kind = .all
            case .reject: data.kind = .reject
            }
            return data
        }
        block.scopes = try content.scopes.map { scope throws(BiscuitError) in try encode(scope) }
        block.symbols = Array(table.symbols[symbolsBefore...])
        block.publicKeys = table.publicKeys[keysBefore...].map(Self.wireKey)
        return block
    }

    static func wireKey(_ key: PublicKey) -> Biscuit_Wire_PublicKey {
        var wire = Biscuit_Wire_PublicKey()
        wire.algorithm = key.algorithm == .ed25519 ? .ed25519 : .secp256R1
        wire.key = Data(key.bytes)
        return wire
    }

    private mutating func encode(_ rule: Rule) throws(BiscuitError) -> Biscuit_Wire_RuleData {
        var data = Biscuit_Wire_RuleData()
        data.head = try encode(rule.head)
        data.body = try rule.body.map { predicate throws(BiscuitError) in try encode(predicate) }
        data.expressions = try rule.expressions.map { expression throws(BiscuitError) in
            var wire = Biscuit_Wire_ExpressionData()
            wire.ops = try encode(expression.ops)
            return wire
        }
        data.scopes = try rule.scopes.map { scope throws(BiscuitError) in try encode(scope) }
        return data
    }

    private mutating func encode(_ scope: Scope) throws(BiscuitError) -> Biscuit_Wire_ScopeData {
        var data = Biscuit_Wire_ScopeData()
        switch scope {
        case .authority: data.kind = .authority
        case .previous: data.kind = .previous
        case .publicKey(let key): data.publicKey = table.intern(key)
        case .parameter(let name): throw BiscuitError(.parameters, "no value for {\(name)}")
        }
        return data
    }

    private mutating func encode(_ predicate: Predicate) throws(BiscuitError) -> Biscuit_Wire_PredicateData {
        var data = Biscuit_Wire_PredicateData()
        data.name = table.intern(predicate.name)
        data.terms = try predicate.terms.map { term throws(BiscuitError) in try encode(term) }
        return data
    }

    private mutating func encode(_ ops: [Operation]) throws(BiscuitError) -> [Biscuit_Wire_OperationData] {
        try ops.map { op throws(BiscuitError) in
            var data = Biscuit_Wire_OperationData()
            switch op {
            case .value(let term): data.value = try encode(term)
            case .unary(let unary):
                var wire = Biscuit_Wire_UnaryData()
                switch unary {
                case .negate: wire.kind = .negate
                case .parens: wire.kind = .parens
                case .length: wire.kind = .length
                case .typeOf: wire.kind = .typeOf
                case .external(let name):
                    wire.kind = .external
                    wire.externalName = table.intern(name)
                }
                data.unary = wire
            case .binary(let binary):
                var wire = Biscuit_Wire_BinaryData()
                if case .external(let name) = binary { wire.externalName = table.intern(name) }
                wire.kind = WireOperators.kind(of: binary)
                data.binary = wire
            case .closure(let parameters, let body):
                var wire = Biscuit_Wire_ClosureData()
                wire.parameters = parameters.map { UInt32(truncatingIfNeeded: table.intern($0)) }
                wire.ops = try encode(body)
                data.closure = wire
            }
            return data
        }
    }

    private mutating func encode(_ term: Term) throws(BiscuitError) -> Biscuit_Wire_TermData {
        var data = Biscuit_Wire_TermData()
        switch term {
        case .variable(let name): data.variable = UInt32(truncatingIfNeeded: table.intern(name))
        case .integer(let value): data.integer = value
        case .string(let value): data.string = table.intern(value)
        case .date(let value): data.date = value
        case .bytes(let value): data.bytes = Data(value)
        case .bool(let value): data.bool = value
        case .set(let elements):
            if let problem = SetRules.problem(Array(elements)) { throw BiscuitError(.invalidBlock, problem) }
            var set = Biscuit_Wire_TermSet()
            set.elements = try elements.sorted().map { element throws(BiscuitError) in try encode(element) }
            data.set = set
        case .null: data.null = Biscuit_Wire_Empty()
        case .array(let elements):
            var array = Biscuit_Wire_TermArray()
            array.elements = try elements.map { element throws(BiscuitError) in try encode(element) }
            data.array = array
        case .map(let entries):
            var map = Biscuit_Wire_TermMap()
            map.entries = try entries.sorted { $0.key < $1.key }.map { key, value throws(BiscuitError) in
                var entry = Biscuit_Wire_MapEntry()
                switch key {
                case .integer(let number): entry.key.integer = number
                case .string(let text): entry.key.string = table.intern(text)
                }
                entry.value = try encode(value)
                return entry
            }
            data.map = map
        case .parameter(let name): throw BiscuitError(.parameters, "no value for {\(name)}")
        }
        return data
    }
}
