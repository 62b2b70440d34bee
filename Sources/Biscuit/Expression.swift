/// An expression: operations for a stack machine, in postfix order (`1 + 2 < 4` is `1, 2, +, 4, <`).
public struct Expression: Hashable, Sendable {
    /// The operations, evaluated left to right; the stack must end with exactly one value.
    public var ops: [Operation]

    /// An expression from its operations.
    public init(ops: [Operation]) {
        self.ops = ops
    }
}

/// One step of an expression.
public indirect enum Operation: Hashable, Sendable {
    /// Pushes a value (a variable pushes what it is bound to).
    case value(Term)
    /// Pops one value, pushes the result.
    case unary(UnaryOperator)
    /// Pops two values (or a value and a closure), pushes the result.
    case binary(BinaryOperator)
    /// Pushes a closure: operations evaluated later by the binary operator that consumes it, with `parameters`
    /// bound to each element (`.all`, `.any`), or none (`&&`, `||`, `.try_or`).
    case closure(parameters: [String], ops: [Operation])
}

/// Operators on one value.
public enum UnaryOperator: Hashable, Sendable {
    /// `!x`: boolean negation.
    case negate
    /// `(x)`: the value itself, kept so printing keeps the parentheses.
    case parens
    /// `x.length()`: bytes of a string (UTF-8), or elements of bytes, a set, an array or a map.
    case length
    /// `x.type()`: the name of the value's type.
    case typeOf
    /// `x.extern::name()`: a function the authorizer provides.
    case external(String)
}

/// Operators on two values. The `==`/`!=` of the text are the heterogeneous comparisons (false or true across
/// types); `===`/`!==` are the strict ones (an error across types).
public enum BinaryOperator: Hashable, Sendable {
    /// `<` on integers and dates.
    case lessThan
    /// `>` on integers and dates.
    case greaterThan
    /// `<=` on integers and dates.
    case lessOrEqual
    /// `>=` on integers and dates.
    case greaterOrEqual
    /// `===`: equality of two values of one type (an error across types).
    case equal
    /// `.contains(x)`: membership (sets, arrays, map keys), superset (two sets) or substring (strings).
    case contains
    /// `.starts_with(x)` on strings and arrays.
    case prefix
    /// `.ends_with(x)` on strings and arrays.
    case suffix
    /// `.matches(regex)` on strings.
    case regex
    /// `+`: checked integer addition, or string concatenation.
    case add
    /// `-`: checked integer subtraction.
    case sub
    /// `*`: checked integer multiplication.
    case mul
    /// `/`: checked integer division.
    case div
    /// Strict boolean and (both sides evaluated), from older blocks.
    case and
    /// Strict boolean or (both sides evaluated), from older blocks.
    case or
    /// `.intersection(x)` of two sets.
    case intersection
    /// `.union(x)` of two sets.
    case union
    /// `&` on integers.
    case bitwiseAnd
    /// `|` on integers.
    case bitwiseOr
    /// `^` on integers.
    case bitwiseXor
    /// `!==`: inequality of two values of one type (an error across types).
    case notEqual
    /// `==`: equality, false across types.
    case heterogeneousEqual
    /// `!=`: inequality, true across types.
    case heterogeneousNotEqual
    /// `&&`: the right side (a closure) is evaluated only if the left is true.
    case lazyAnd
    /// `||`: the right side (a closure) is evaluated only if the left is false.
    case lazyOr
    /// `.all($x -> …)`: the closure holds for every element of a set, array or map.
    case all
    /// `.any($x -> …)`: the closure holds for one element of a set, array or map.
    case any
    /// `.get(key)`: an element of an array (by index) or a map (by key), or null.
    case get
    /// `x.extern::name(y)`: a function the authorizer provides.
    case external(String)
    /// `x.try_or(y)`: the value of the left side (a closure), or `y` if evaluating it fails.
    case tryOr
}
