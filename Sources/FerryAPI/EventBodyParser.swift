import FerryCore
import Foundation

/// Reads the body of `POST /event` (and of `POST /event/batch`) straight from its bytes, without building
/// `JSONDecoder`'s containers, for the bodies producers send: a strict subset of what `JSONDecoder` accepts.
/// Anything else (malformed JSON, a missing field, a wrong type, a key given twice, nesting deeper than
/// `maxDepth`) gives nil, and the caller decodes with `JSONDecoder`, so every error keeps its message and a
/// body this parser reads is read exactly as `JSONDecoder` reads it (`EventBodyParserTests` checks both).
enum EventBodyParser {
    /// Deepest nesting of an unknown member's value that is skipped here rather than left to `JSONDecoder`.
    static let maxDepth = 32

    /// The event of a `POST /event` body, or nil when `JSONDecoder` must decide.
    static func event(_ bytes: [UInt8]) -> EventBody? {
        var scanner = JSONScanner(bytes)
        guard let body = scanner.eventBody(), scanner.isAtEnd else { return nil }
        return body
    }

    /// The events of a `POST /event/batch` body, or nil when `JSONDecoder` must decide (also when one event is
    /// malformed: its problem is `JSONDecoder`'s to word).
    static func batch(_ bytes: [UInt8]) -> EventBatchBody? {
        var scanner = JSONScanner(bytes)
        var events: [EventBatchBody.Item]?
        let read = scanner.members { scanner, key in
            guard key == "events" else { return scanner.skipValue(depth: 0) }
            guard events == nil, scanner.consume(UInt8(ascii: "[")) else { return false }
            var items: [EventBatchBody.Item] = []
            if !scanner.consume(UInt8(ascii: "]")) {
                repeat {
                    guard let body = scanner.eventBody() else { return false }
                    items.append(EventBatchBody.Item(body: .success(body)))
                } while scanner.consume(UInt8(ascii: ","))
                guard scanner.consume(UInt8(ascii: "]")) else { return false }
            }
            events = items
            return true
        }
        guard read, scanner.isAtEnd, let events else { return nil }
        return EventBatchBody(events: events)
    }
}

/// A cursor over JSON text that reads only what it can read exactly as RFC 8259 (and `JSONDecoder`) define it.
struct JSONScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Whether only whitespace is left.
    var isAtEnd: Bool {
        mutating get {
            skipWhitespace()
            return index == bytes.count
        }
    }

    /// One event object, with the fields `EventBody` decodes; nil for anything `JSONDecoder` must judge.
    mutating func eventBody() -> EventBody? {
        var applicationID: UUID?
        var eventID: UUID?
        var eventType: String?
        var payload: String?
        var payloadContentType: String?
        var labels: [String: String]?
        var metadata: [String: String]?
        var occurredAt: Date?
        var seen = Set<String>()
        let read = members { scanner, key in
            switch key {
            case "application_id", "event_id", "event_type", "payload", "payload_content_type", "labels",
                "metadata", "occurred_at":
                guard seen.insert(key).inserted else { return false }
            default:
                return scanner.skipValue(depth: 0)
            }
            switch key {
            case "application_id":
                applicationID = scanner.string().flatMap(UUID.init(hyphenated:))
                return applicationID != nil
            case "event_id":
                if scanner.consumeLiteral("null") { return true }
                eventID = scanner.string().flatMap(UUID.init(hyphenated:))
                return eventID != nil
            case "event_type":
                eventType = scanner.string()
                return eventType != nil
            case "payload":
                payload = scanner.string()
                return payload != nil
            case "payload_content_type":
                payloadContentType = scanner.string()
                return payloadContentType != nil
            case "labels":
                labels = scanner.stringMap()
                return labels != nil
            case "metadata":
                if scanner.consumeLiteral("null") { return true }
                metadata = scanner.stringMap()
                return metadata != nil
            default:
                occurredAt = scanner.string().flatMap(Timestamp.parse)
                return occurredAt != nil
            }
        }
        guard read, let applicationID, let eventType, let payload, let payloadContentType, let labels, let occurredAt
        else { return nil }
        return EventBody(
            applicationID: StrictUUID(applicationID), eventID: eventID.map(StrictUUID.init), eventType: eventType,
            payload: payload, payloadContentType: payloadContentType, labels: labels, metadata: metadata,
            occurredAt: RFC3339Date(occurredAt))
    }

    /// Reads an object, handing each key to `member`, which must read the value; false on any error.
    mutating func members(_ member: (inout JSONScanner, String) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = string(), consume(UInt8(ascii: ":")), member(&self, key) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}"))
    }

    /// An object of strings, every key once.
    mutating func stringMap() -> [String: String]? {
        var map: [String: String] = [:]
        let read = members { scanner, key in
            guard map[key] == nil, let value = scanner.string() else { return false }
            map[key] = value
            return true
        }
        return read ? map : nil
    }

    /// Skips one value of any type, validating it.
    mutating func skipValue(depth: Int) -> Bool {
        guard depth < EventBodyParser.maxDepth, let first = peek() else { return false }
        switch first {
        case UInt8(ascii: "\""): return string() != nil
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
        if byte(at: index) == UInt8(ascii: "0") {
            index += 1
        } else {
            guard skipDigits() else { return false }
        }
        if byte(at: index) == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() else { return false }
        }
        if let exponent = byte(at: index), exponent == UInt8(ascii: "e") || exponent == UInt8(ascii: "E") {
            index += 1
            if let sign = byte(at: index), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() else { return false }
        }
        return true
    }

    private mutating func skipDigits() -> Bool {
        let start = index
        while let digit = byte(at: index), digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") { index += 1 }
        return index > start
    }

    /// A string, its escapes decoded; nil for a malformed one, invalid UTF-8 or a lone surrogate.
    mutating func string() -> String? {
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
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    /// Consumes a literal such as `null`.
    mutating func consumeLiteral(_ literal: StaticString) -> Bool {
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
