/// Datalog text that does not parse: what was expected, and where (1-based line and column, in characters).
public struct DatalogParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public let message: String
    /// 1-based line of the error.
    public let line: Int
    /// 1-based column (in Unicode scalars) of the error.
    public let column: Int
    /// Byte offset of the error in the UTF-8 text.
    public let offset: Int

    /// `line:column: message`.
    public var description: String { "\(line):\(column): \(message)" }
}

extension BiscuitError {
    init(_ parseError: DatalogParseError) {
        self.init(.parse, parseError.description)
    }
}
