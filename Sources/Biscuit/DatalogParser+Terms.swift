extension Cursor {
    /// A term: a variable (if allowed), a `{parameter}`, or a value. Collections never hold variables.
    mutating func parseTerm(allowVariable: Bool = true) throws(DatalogParseError) -> Term {
        skipSpaceAndComments()
        let start = index
        guard let byte = current else { throw error("expected a term") }
        switch byte {
        case UInt8(ascii: "$"):
            guard allowVariable else { throw error("variables are not allowed here") }
            index += 1
            return .variable(try parseName("a variable name", digitFirst: true))
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "["):
            return try nested { (cursor: inout Cursor) throws(DatalogParseError) in try cursor.parseArray() }
        case UInt8(ascii: "{"):
            return try nested { (cursor: inout Cursor) throws(DatalogParseError) in try cursor.parseBraces() }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if let date = try parseDateIfPresent() { return .date(date) }
            return .integer(try parseInteger())
        default:
            if consume("hex:") {
                let hexStart = index
                while let next = current, Self.isNameByte(next) { index += 1 }
                guard index > hexStart, let bytes = Hex.decode(String(decoding: bytes[hexStart..<index], as: UTF8.self))
                else {
                    throw error("invalid hexadecimal bytes", at: hexStart)
                }
                return .bytes(bytes)
            }
            if consumeKeyword("true") { return .bool(true) }
            if consumeKeyword("false") { return .bool(false) }
            if consumeKeyword("null") { return .null }
            throw error("expected a term", at: start)
        }
    }

    /// `[term, …]` (no variables inside).
    private mutating func parseArray() throws(DatalogParseError) -> Term {
        index += 1
        var elements: [Term] = []
        skipSpaceAndComments()
        if consume("]") { return .array(elements) }
        repeat {
            elements.append(try parseTerm(allowVariable: false))
            skipSpaceAndComments()
        } while consume(",")
        try expect("]", "',' or ']'")
        return .array(elements)
    }

    /// `{name}` (a parameter), `{,}` (empty set), `{}` (empty map), `{k: v, …}` (map) or `{a, b}` (set).
    private mutating func parseBraces() throws(DatalogParseError) -> Term {
        let start = index
        index += 1
        if let first = current, Self.isLetter(first), let name = try? parseName(), current == UInt8(ascii: "}") {
            index += 1
            return .parameter(name)
        }
        index = start + 1
        skipSpaceAndComments()
        if consume("}") { return .map([:]) }
        if consume(",") {
            try expect("}", "'}' of the empty set {,}")
            return .set([])
        }
        let first = try parseTerm(allowVariable: false)
        skipSpaceAndComments()
        if consume(":") {
            var entries: [MapKey: Term] = [:]
            var key = try mapKey(first, at: start)
            while true {
                entries[key] = try parseTerm(allowVariable: false)
                skipSpaceAndComments()
                guard consume(",") else { break }
                let keyStart = index
                key = try mapKey(try parseTerm(allowVariable: false), at: keyStart)
                try expect(":")
            }
            try expect("}", "',' or '}'")
            return .map(entries)
        }
        var elements = [first]
        while consume(",") {
            elements.append(try parseTerm(allowVariable: false))
            skipSpaceAndComments()
        }
        try expect("}", "',' or '}'")
        if let problem = SetRules.problem(elements) { throw error(problem, at: start) }
        if elements.contains(where: { if case .array = $0 { true } else { false } }) {
            throw error("sets cannot contain arrays", at: start)
        }
        return .set(Set(elements))
    }

    private func mapKey(_ term: Term, at position: Int) throws(DatalogParseError) -> MapKey {
        switch term {
        case .integer(let value): return .integer(value)
        case .string(let value): return .string(value)
        case .parameter: throw error("parameters are not supported as map keys", at: position)
        default: throw error("map keys must be integers or strings", at: position)
        }
    }

    /// A string between double quotes; `\"`, `\\` and `\n` are the escapes.
    mutating func parseString() throws(DatalogParseError) -> String {
        let start = index
        index += 1
        var out: [UInt8] = []
        while let byte = current {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                switch current {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "n"): out.append(0x0A)
                default: throw error("unknown escape in string (use \\\", \\\\ or \\n)", at: index - 1)
                }
                index += 1
            default:
                out.append(byte)
            }
        }
        throw error("unterminated string", at: start)
    }

    private mutating func parseInteger() throws(DatalogParseError) -> Int64 {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        let digitsStart = index
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        guard index > digitsStart else { throw error("expected an integer", at: start) }
        guard let value = Int64(String(decoding: bytes[start..<index], as: UTF8.self)) else {
            throw error("integer out of range (64 bits)", at: start)
        }
        return value
    }

    /// An RFC 3339 date (`2025-01-31T12:00:00Z`, or with an offset and fractional seconds), as seconds since
    /// 1970; nil (nothing consumed) if the text does not start like a date.
    private mutating func parseDateIfPresent() throws(DatalogParseError) -> UInt64? {
        let start = index
        guard start + 19 <= bytes.count, bytes[start + 4] == UInt8(ascii: "-"), bytes[start + 7] == UInt8(ascii: "-"),
            bytes[start + 10] == UInt8(ascii: "T") || bytes[start + 10] == UInt8(ascii: "t")
        else { return nil }
        var end = start + 19
        if end < bytes.count, bytes[end] == UInt8(ascii: ".") {
            end += 1
            while end < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) { end += 1 }
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "+") || bytes[end] == UInt8(ascii: "-") {
            end = min(end + 6, bytes.count)
        } else {
            end = min(end + 1, bytes.count)
        }
        guard let seconds = RFC3339.parse(Array(bytes[start..<end])) else {
            throw error("invalid RFC 3339 date", at: start)
        }
        guard seconds >= 0 else { throw error("dates before 1970 are not supported", at: start) }
        index = end
        return UInt64(seconds)
    }
}

/// What a set may hold: elements of one type, none a variable or a set.
enum SetRules {
    static func problem(_ elements: [Term]) -> String? {
        var kind: Int?
        for element in elements {
            switch element {
            case .variable: return "variables are not allowed in sets"
            case .set: return "sets cannot contain other sets"
            default: break
            }
            if let kind, kind != element.typeRank { return "set elements must have the same type" }
            kind = element.typeRank
        }
        return nil
    }
}
