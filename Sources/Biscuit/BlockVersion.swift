/// Block format versions: each block records the oldest version that can express its Datalog.
public enum BlockVersion {
    /// The oldest version read (format 3: Datalog 3.0).
    public static let minimum: UInt32 = 3
    /// Datalog 3.1: scopes, `check all`, bitwise operators and `!==`.
    public static let datalog31: UInt32 = 4
    /// Datalog 3.2: third-party blocks.
    public static let datalog32: UInt32 = 5
    /// Datalog 3.3: `reject if`, null, arrays, maps, closures, `==` across types, `&&`/`||` short-circuit,
    /// `.type()`, `.get()`, `.try_or()` and external functions.
    public static let datalog33: UInt32 = 6
    /// The newest version read and written.
    public static let maximum: UInt32 = 6

    /// The version to write for `content` (`thirdParty` blocks are at least 3.2).
    static func required(for content: BlockContent, thirdParty: Bool) -> UInt32 {
        let features = Features(content, arraysAndMaps: true)
        var version = features.datalog33 ? datalog33 : features.datalog31 ? datalog31 : minimum
        if thirdParty { version = max(version, datalog32) }
        return version
    }

    /// Throws if `content` uses features newer than the `version` its block declares. Arrays and maps are not
    /// counted here, as the reference implementation does not count them when it writes a block's version.
    static func checkCompatible(_ content: BlockContent, version: UInt32) throws(BiscuitError) {
        let features = Features(content, arraysAndMaps: false)
        if version < datalog31 && features.datalog31 {
            throw BiscuitError(.format, "scopes, check all, bitwise operators and !== need block version 4")
        }
        if version < datalog33 && features.datalog33 {
            throw BiscuitError(.format, "reject if, null, closures and the Datalog 3.3 operators need block version 6")
        }
    }

    private struct Features {
        var datalog31 = false
        var datalog33 = false
        let arraysAndMaps: Bool

        init(_ content: BlockContent, arraysAndMaps: Bool) {
            self.arraysAndMaps = arraysAndMaps
            if !content.scopes.isEmpty { datalog31 = true }
            for fact in content.facts { visit(fact.predicate) }
            for rule in content.rules {
                visit(rule)
                visit(rule.head)
            }
            for check in content.checks {
                switch check.kind {
                case .one: break
                case .all: datalog31 = true
                case .reject: datalog33 = true
                }
                check.queries.forEach { visit($0) }
            }
        }

        private mutating func visit(_ rule: Rule) {
            if !rule.scopes.isEmpty { datalog31 = true }
            rule.body.forEach { visit($0) }
            for expression in rule.expressions { visit(expression.ops) }
        }

        private mutating func visit(_ predicate: Predicate) {
            predicate.terms.forEach { visit($0) }
        }

        private mutating func visit(_ term: Term) {
            switch term {
            case .null: datalog33 = true
            case .set(let elements): if elements.contains(.null) { datalog33 = true }
            case .array, .map: if arraysAndMaps { datalog33 = true }
            default: break
            }
        }

        private mutating func visit(_ ops: [Operation]) {
            for op in ops {
                switch op {
                case .value(let term): visit(term)
                case .closure(_, let body):
                    datalog33 = true
                    visit(body)
                case .unary(.typeOf), .unary(.external): datalog33 = true
                case .unary: break
                case .binary(let binary):
                    switch binary {
                    case .bitwiseAnd, .bitwiseOr, .bitwiseXor, .notEqual: datalog31 = true
                    case .heterogeneousEqual, .heterogeneousNotEqual, .lazyAnd, .lazyOr, .all, .any, .external,
                        .tryOr:
                        datalog33 = true
                    case .get: if arraysAndMaps { datalog33 = true }
                    default: break
                    }
                }
            }
        }
    }
}
