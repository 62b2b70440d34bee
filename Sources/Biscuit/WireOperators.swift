/// The wire numbers of binary operators (external functions carry their name separately).
enum WireOperators {
    private static let table: [(BinaryOperator, Biscuit_Wire_BinaryData.Kind)] = [
        (.lessThan, .lessThan), (.greaterThan, .greaterThan), (.lessOrEqual, .lessOrEqual),
        (.greaterOrEqual, .greaterOrEqual), (.equal, .equal), (.contains, .contains), (.prefix, .prefix),
        (.suffix, .suffix), (.regex, .regex), (.add, .add), (.sub, .sub), (.mul, .mul), (.div, .div), (.and, .and),
        (.or, .or), (.intersection, .intersection), (.union, .union), (.bitwiseAnd, .bitwiseAnd),
        (.bitwiseOr, .bitwiseOr), (.bitwiseXor, .bitwiseXor), (.notEqual, .notEqual),
        (.heterogeneousEqual, .heterogeneousEqual), (.heterogeneousNotEqual, .heterogeneousNotEqual),
        (.lazyAnd, .lazyAnd), (.lazyOr, .lazyOr), (.all, .all), (.any, .any), (.get, .get), (.tryOr, .tryOr),
    ]

    static func kind(of op: BinaryOperator) -> Biscuit_Wire_BinaryData.Kind {
        if case .external = op { return .external }
        return table.first { $0.0 == op }?.1 ?? .external
    }

    /// The operator for a wire kind; external functions need their name.
    static func op(_ kind: Biscuit_Wire_BinaryData.Kind, externalName: String?) -> BinaryOperator? {
        if kind == .external { return externalName.map { .external($0) } }
        return table.first { $0.1 == kind }?.0
    }
}
