import Foundation
import SwiftProtobuf

/// Turns a wire block back into Datalog, resolving symbol and key numbers through a table.
struct WireBlockDecoder {
    let table: SymbolTable

    /// The block's content; throws on unknown symbols, malformed terms or features newer than `version`.
    func decode(_ block: Biscuit_Wire_Block, version: UInt32) throws(BiscuitError) -> BlockContent {
        var content = BlockContent()
        content.context = block.hasContext ? block.context : nil
        content.facts = try block.facts.map { fact throws(BiscuitError) in
            let predicate = try decode(fact.predicate)
            guard predicate.terms.allSatisfy(\.isGround) else {
                throw BiscuitError(.format, "a fact holds a variable: \(predicate)")
            }
            return Fact(predicate: predicate)
        }
        content.rules = try block.rules.map { rule throws(BiscuitError) in try decode(rule, version: version) }
        content.checks = try block.checks.map { check throws(BiscuitError) in
            if check.hasKind && version < BlockVersion.datalog31 {
                throw BiscuitError(.format, "check kinds need block version 4")
            }
            // An unknown kind lands in the unknown fields; reading it as `check if` would weaken the check.
            guard check.unknownFields.data.isEmpty else { throw BiscuitError(.format, "unknown check kind") }
            let kind: CheckKind =
                switch check.kind {
                case .one: .one
                case .all: .all
                case .reject: .reject
                }
            return Check(
                kind: kind,
                queries: try check.queries.map { query throws(BiscuitError) in try decode(query, version: version) })
        }
        content.scopes = try block.scopes.map { scope throws(BiscuitError) in try decode(scope) }
        try BlockVersion.checkCompatible(content, version: version)
        return content
    }

    private func decode(_ rule: Biscuit_Wire_RuleData, version: UInt32) throws(BiscuitError) -> Rule {
        if !rule.scopes.isEmpty && version < BlockVersion.datalog31 {
            throw BiscuitError(.format, "scopes need block version 4")
        }
        return Rule(
            head: try decode(rule.head),
            body: try rule.body.map { predicate throws(BiscuitError) in try decode(predicate) },
            expressions: try rule.expressions.map { expression throws(BiscuitError) in
                Expression(ops: try decode(expression.ops))
            },
            scopes: try rule.scopes.map { scope throws(BiscuitError) in try decode(scope) })
    }

    private func decode(_ scope: Biscuit_Wire_ScopeData) throws(BiscuitError) -> Scope {
        switch scope.content {
        case .kind(.authority)?: return .authority
        case .kind(.previous)?: return .previous
        case .publicKey(let index)?: return .publicKey(try table.publicKey(index))
        case nil: throw BiscuitError(.format, "empty scope")
        }
    }

    private func decode(_ predicate: Biscuit_Wire_PredicateData) throws(BiscuitError) -> Predicate {
        Predicate(
            try table.symbol(predicate.name),
            try predicate.terms.map { term throws(BiscuitError) in try decode(term) })
    }

    private func decode(_ ops: [Biscuit_Wire_OperationData]) throws(BiscuitError) -> [Operation] {
        try ops.map { op throws(BiscuitError) in
            switch op.content {
            case .value(let term)?: return .value(try decode(term))
            case .unary(let unary)?:
                switch unary.kind {
                case .negate: return .unary(.negate)
                case .parens: return .unary(.parens)
                case .length: return .unary(.length)
                case .typeOf: return .unary(.typeOf)
                case .external:
                    guard unary.hasExternalName else { throw BiscuitError(.format, "external function without name") }
                    return .unary(.external(try table.symbol(unary.externalName)))
                }
            case .binary(let binary)?:
                let name = binary.hasExternalName ? try table.symbol(binary.externalName) : nil
                guard let op = WireOperators.op(binary.kind, externalName: name) else {
                    throw BiscuitError(.format, "external function without name")
                }
                return .binary(op)
            case .closure(let closure)?:
                return .closure(
                    parameters: try closure.parameters.map { parameter throws(BiscuitError) in
                        try table.symbol(UInt64(parameter))
                    }, ops: try decode(closure.ops))
            case nil:
                throw BiscuitError(.format, "empty operation")
            }
        }
    }

    private func decode(_ term: Biscuit_Wire_TermData) throws(BiscuitError) -> Term {
        switch term.content {
        case .variable(let index)?: return .variable(try table.symbol(UInt64(index)))
        case .integer(let value)?: return .integer(value)
        case .string(let index)?: return .string(try table.symbol(index))
        case .date(let value)?: return .date(value)
        case .bytes(let value)?: return .bytes(Array(value))
        case .bool(let value)?: return .bool(value)
        case .set(let set)?:
            let elements = try set.elements.map { element throws(BiscuitError) in try decode(element) }
            if let problem = SetRules.problem(elements) { throw BiscuitError(.format, problem) }
            return .set(Set(elements))
        case .null?: return .null
        case .array(let array)?:
            return .array(try array.elements.map { element throws(BiscuitError) in try decode(element) })
        case .map(let map)?:
            var entries: [MapKey: Term] = [:]
            for entry in map.entries {
                let key: MapKey
                switch entry.key.content {
                case .integer(let number)?: key = .integer(number)
                case .string(let index)?: key = .string(try table.symbol(index))
                case nil: throw BiscuitError(.format, "empty map key")
                }
                entries[key] = try decode(entry.value)
            }
            return .map(entries)
        case nil:
            throw BiscuitError(.format, "empty term")
        }
    }
}
