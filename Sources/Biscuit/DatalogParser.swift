/// Parses Biscuit Datalog text: blocks (`trusting …;` then facts, rules, checks), authorizers (the same plus
/// policies), and single elements. Errors carry the line and column where parsing stopped.
public enum DatalogParser {
    /// The content of a token block: facts, rules and checks, optionally preceded by `trusting …;`.
    public static func parseBlock(_ text: String) throws(DatalogParseError) -> BlockContent {
        var parser = Cursor(text)
        let content = try parser.parseSource(allowPolicies: false)
        return content
    }

    /// The content of an authorizer: facts, rules, checks and policies, optionally preceded by `trusting …;`.
    public static func parseAuthorizer(_ text: String) throws(DatalogParseError) -> BlockContent {
        var parser = Cursor(text)
        return try parser.parseSource(allowPolicies: true)
    }

    /// One fact, `name(term, …)`, without a trailing `;`.
    public static func parseFact(_ text: String) throws(DatalogParseError) -> Fact {
        try parseSingle(text) { (parser: inout Cursor) throws(DatalogParseError) in try parser.parseFact() }
    }

    /// One rule, `head(…) <- body`, without a trailing `;`.
    public static func parseRule(_ text: String) throws(DatalogParseError) -> Rule {
        try parseSingle(text) { (parser: inout Cursor) throws(DatalogParseError) in try parser.parseRule() }
    }

    /// One check, `check if …`, `check all …` or `reject if …`, without a trailing `;`.
    public static func parseCheck(_ text: String) throws(DatalogParseError) -> Check {
        try parseSingle(text) { (parser: inout Cursor) throws(DatalogParseError) in
            guard let check = try parser.parseCheck() else { throw parser.error("expected a check") }
            return check
        }
    }

    /// One policy, `allow if …` or `deny if …`, without a trailing `;`.
    public static func parsePolicy(_ text: String) throws(DatalogParseError) -> Policy {
        try parseSingle(text) { (parser: inout Cursor) throws(DatalogParseError) in
            guard let policy = try parser.parsePolicy() else { throw parser.error("expected a policy") }
            return policy
        }
    }

    /// One expression.
    public static func parseExpression(_ text: String) throws(DatalogParseError) -> Expression {
        try parseSingle(text) { (parser: inout Cursor) throws(DatalogParseError) in
            Expression(ops: try parser.parseExpression().operations())
        }
    }

    /// One term (no variables inside collections).
    public static func parseTerm(_ text: String) throws(DatalogParseError) -> Term {
        try parseSingle(text) { (parser: inout Cursor) throws(DatalogParseError) in try parser.parseTerm() }
    }

    private static func parseSingle<T>(
        _ text: String, _ body: (inout Cursor) throws(DatalogParseError) -> T
    ) throws(DatalogParseError) -> T {
        var parser = Cursor(text)
        parser.skipSpaceAndComments()
        let value = try body(&parser)
        parser.skipSpaceAndComments()
        guard parser.atEnd else { throw parser.error("unexpected text after the end") }
        return value
    }
}

/// The position in the UTF-8 text and the primitive steps of parsing.
struct Cursor {
    let bytes: [UInt8]
    var index = 0
    /// How deeply parentheses, closures and collections are nested at the current position.
    var depth = 0
    /// Deepest nesting accepted, so that no text can exhaust the stack.
    static let maxDepth = 64
    /// Operators and method calls in the current expression.
    var operators = 0
    /// Most operators in one expression (a longer chain would nest as deeply in the parsed tree).
    static let maxOperators = 1000

    mutating func countOperator() throws(DatalogParseError) {
        operators += 1
        guard operators <= Self.maxOperators else {
            throw error("more than \(Self.maxOperators) operators in one expression")
        }
    }

    /// Runs `body` one nesting level deeper; throws past `maxDepth`.
    mutating func nested<T>(_ body: (inout Cursor) throws(DatalogParseError) -> T) throws(DatalogParseError) -> T {
        guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
        depth += 1
        defer { depth -= 1 }
        return try body(&self)
    }

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    var atEnd: Bool { index >= bytes.count }
    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    func error(_ message: String, at position: Int? = nil) -> DatalogParseError {
        let position = min(position ?? index, bytes.count)
        var line = 1
        var lineStart = 0
        for (offset, byte) in bytes[..<position].enumerated() where byte == UInt8(ascii: "\n") {
            line += 1
            lineStart = offset + 1
        }
        let column = String(decoding: bytes[lineStart..<position], as: UTF8.self).unicodeScalars.count + 1
        return DatalogParseError(message: message, line: line, column: column, offset: position)
    }

    mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    /// Skips white space and `//` and `/* */` comments.
    mutating func skipSpaceAndComments() {
        while true {
            skipSpace()
            if startsWith("//") {
                while let byte = current, byte != 0x0A { index += 1 }
            } else if startsWith("/*") {
                index += 2
                while !atEnd && !startsWith("*/") { index += 1 }
                index = min(index + 2, bytes.count)
            } else {
                return
            }
        }
    }

    func startsWith(_ literal: String) -> Bool {
        let pattern = literal.utf8
        guard index + pattern.count <= bytes.count else { return false }
        return bytes[index..<(index + pattern.count)].elementsEqual(pattern)
    }

    /// Consumes `literal` if the text continues with it.
    mutating func consume(_ literal: String) -> Bool {
        guard startsWith(literal) else { return false }
        index += literal.utf8.count
        return true
    }

    /// Consumes a keyword that is not followed by a name character. Statement keywords (`check`, `if`, `allow`,
    /// `or`, …) ignore case, as in the reference grammar; values and scopes (`true`, `trusting`, …) do not.
    mutating func consumeKeyword(_ keyword: String, ignoringCase: Bool = false) -> Bool {
        let pattern = Array(keyword.utf8)
        guard index + pattern.count <= bytes.count else { return false }
        for (offset, byte) in pattern.enumerated() {
            let actual = bytes[index + offset]
            if (ignoringCase ? Self.lowercased(actual) : actual) != byte { return false }
        }
        if let next = peek(pattern.count), Self.isNameByte(next) { return false }
        index += pattern.count
        return true
    }

    mutating func expect(_ literal: String, _ what: String? = nil) throws(DatalogParseError) {
        skipSpaceAndComments()
        guard consume(literal) else { throw error("expected \(what ?? "'\(literal)'")") }
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ":")
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// A name: a letter or `_` (or, for variables, also a digit), then letters, digits, `_` or `:`.
    mutating func parseName(_ what: String = "a name", digitFirst: Bool = false) throws(DatalogParseError) -> String {
        guard let first = current,
            Self.isLetter(first) || first == UInt8(ascii: "_") || (digitFirst && Self.isNameByte(first))
        else { throw error("expected \(what)") }
        let start = index
        while let byte = current, Self.isNameByte(byte) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }
}
