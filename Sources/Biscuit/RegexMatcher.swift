import LinearRegex

/// `.matches(pattern)`: an unanchored search of a regular expression in a string, in time linear in the string
/// (`LinearRegex`), so no pattern a token carries can stall an authorization.
///
/// The syntax is the part of the reference's engine (Rust `regex`) that `LinearRegex` supports; a pattern outside
/// it matches nothing, as an invalid pattern does in the reference. A pattern nested deeper than
/// `LinearRegex.maxDepth` is an error instead, and so is a match still running at the authorization's deadline:
/// linear is still program length × text length, which a large pattern over a long string makes seconds.
enum RegexMatcher {
    static func matches(_ text: String, pattern: String, budget: TimeBudget) throws(EvaluationFailure) -> Bool {
        // Compiling costs up to the pattern's length and the instruction limit: not worth starting late.
        try budget.checkDuringEvaluation()
        let compiled: LinearRegex
        do throws(LinearRegex.Refusal) {
            compiled = try LinearRegex(pattern)
        } catch {
            switch error {
            case .unsupported: return false
            case .nestedTooDeep: throw .regexNestedTooDeep
            }
        }
        return try compiled.matches(in: text) { () throws(EvaluationFailure) in try budget.checkDuringEvaluation() }
    }
}
