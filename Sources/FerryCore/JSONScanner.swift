import Foundation

/// A cursor over JSON text that reads only what it can read exactly as RFC 8259, `JSONDecoder` and
/// `JSONSerialization` read it: where one of those might disagree (nesting deeper than `maxDepth`, a number
/// with a very long mantissa or exponent, a lone surrogate, invalid UTF-8), it refuses, and the caller asks Foundation.
public struct JSONScanner {
    /// Deepest nesting skipped here; deeper values are left to Foundation.
    public static let maxDepth = 32
    /// Longest mantissa (digits) and exponent (digits) of a number read here: every such number is a finite
    /// `Double`, so Foundation reads it too; longer ones are left to Foundation.
    static let maxMantissaDigits = 17
    static let maxExponentDigits = 2

    private let bytes: [UInt8]
    private var index = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Whether only whitespace is left.
    public var isAtEnd: Bool {
        mutating get {
            skipWhitespace()
            return index == bytes.count
        }
    }

    /// Reads an object, handing each key to `member`, which must read the value; false on any error.
    public mutating func members(_ member: (inout JSONScanner, String) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = string(), consume(UInt8(ascii: ":")), member(&self, key) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}"))
    }

    /// An object of strings, every key once.
    public mutating func stringMap() -> [String: String]? {
        var map: [String: String] = [:]
        let read = members { scanner, key in
            guard map[key] == nil, let value = scanner.string() else { return false }
            map[key] = value
            return true
        }
        return read ? map : nil
    }

    /// Skips one value of any type, validating it.
    public mutating func skipValue(depth: Int) -> Bool {
        guard depth < Self.maxDepth, let first = peek() else { return false }
        switch first {
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "{"): return members { scanner, _ in scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            index += 1
            if consume(UInt8(ascii: "]")) { return true }
            repeat {
                guard skipValue(depth: depth + 1) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        case UInt8(ascii: "t"): return consumeLiteral("true")
        case UInt8(ascii: "f"): return consumeLiteral("false")
        case UInt8(ascii: "n"): return consumeLiteral("null")
        default: return number()
        }
    }

    /// A number as RFC 8259's grammar has it: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    private mutating func number() -> Bool {
        skipWhitespace()
        if byte(at: index) == UInt8(ascii: "-") { index += 1 }
        var mantissaDigits = 1
        if byte(at: index) == UInt8(ascii: "0") {
            index += 1
        } else {
            mantissaDigits = skipDigits()
            guard mantissaDigits > 0 else { return false }
        }
        if byte(at: index) == UInt8(ascii: ".") {
            index += 1
            let fraction = skipDigits()
            guard fraction > 0 else { return false }
            mantissaDigits += fraction
        }
        guard mantissaDigits <= Self.maxMantissaDigits else { return false }
        if let exponent = byte(at: index), exponent == UInt8(ascii: "e") || exponent == UInt8(ascii: "E") {
            index += 1
            if let sign = byte(at: index), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            let digits = skipDigits()
            guard digits > 0, digits <= Self.maxExponentDigits else { return false }
        }
        return true
    }

    /// Skips decimal digits and returns how many.
    private mutating func skipDigits() -> Int {
        let start = index
        while let digit = byte(at: index), digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    /// Skips a string, validating it as `string()` does, without building it when it has no escape.
    private mutating func skipString() -> Bool {
        guard consume(UInt8(ascii: "\"")) else { return false }
        let start = index
        var isASCII = true
        while let byte = byte(at: index), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { return false }
            if byte >= 0x80 { isASCII = false }
            index += 1
        }
        guard let stop = byte(at: index) else { return false }
        if stop == UInt8(ascii: "\"") {
            let isValid = isASCII || String(validating: bytes[start..<index], as: UTF8.self) != nil
            index += 1
            return isValid
        }
        index = start - 1
        return string() != nil
    }

    /// Whether `bytes` are one JSON value (any type, whitespace around) that Foundation's `JSONSerialization`
    /// certainly reads too; false when unsure, not only when invalid.
    public static func isCertainlyJSON(_ bytes: [UInt8]) -> Bool {
        var scanner = JSONScanner(bytes)
        return scanner.skipValue(depth: 0) && scanner.isAtEnd
    }

    /// A string, its escapes decoded; nil for a malformed one, invalid UTF-8 or a lone surrogate.
    public mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while let byte = byte(at: index), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { return nil }
            index += 1
        }
        guard let stop = byte(at: index) else { return nil }
        if stop == UInt8(ascii: "\"") {
            let text = String(validating: bytes[start..<index], as: UTF8.self)
            index += 1
            return text
        }
        var decoded = Array(bytes[start..<index])
        while let byte = byte(at: index) {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escaped = self.byte(at: index) else { return nil }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escaped)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    decoded.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: return nil
                }
            default:
                guard byte >= 0x20 else { return nil }
                decoded.append(byte)
            }
        }
        return nil
    }

    /// The scalar of a `\u` escape (its `u` read), joining a surrogate pair.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let first = hexQuad() else { return nil }
        switch first {
        case 0xD800...0xDBFF:
            guard byte(at: index) == UInt8(ascii: "\\"), byte(at: index + 1) == UInt8(ascii: "u") else { return nil }
            index += 2
            guard let second = hexQuad(), (0xDC00...0xDFFF).contains(second) else { return nil }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        case 0xDC00...0xDFFF:
            return nil
        default:
            return Unicode.Scalar(first)
        }
    }

    private mutating func hexQuad() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let digit = bytes[index]
            let nibble: UInt32
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = UInt32(digit - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = UInt32(digit - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = UInt32(digit - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value << 4 | nibble
            index += 1
        }
        return value
    }

    /// Consumes `byte` after any whitespace; false (consuming only the whitespace) when another byte follows.
    public mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    /// Consumes a literal such as `null`.
    public mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        skipWhitespace()
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            bytes[index..<(index + count)].elementsEqual(expected)
        }
        if matches { index += count }
        return matches
    }

    private mutating func peek() -> UInt8? {
        skipWhitespace()
        return byte(at: index)
    }

    private func byte(at position: Int) -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = byte(at: index),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\t")
        {
            index += 1
        }
    }
}
