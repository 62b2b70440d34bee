import FerryCore
import Foundation
import SeededRandom
import Testing

@testable import FerryAPI

/// `EventBodyParser` against `JSONDecoder`, which it stands in for: over generated event bodies (fields in any
/// order, unknown members of every JSON type, escapes, non-ASCII text, nulls) and thousands of corruptions of them,
/// whatever the parser reads, `JSONDecoder` reads too, to the same value; and the bodies producers send are read
/// without `JSONDecoder`.
@Suite struct EventBodyParserTests {
    private static let texts = [
        "", "plain", "with \\\"quotes\\\"", "back\\\\slash", "tab\\tnew\\nline", "\\u00e9t\\u00e9", "snow ☃ man",
        "\\ud83d\\ude00", "slash\\/ed", "nul\\u0000byte", "{\\\"amount\\\":42}", "ünïcødé ✓", "\\b\\f\\r",
    ]

    private static func text(_ generator: inout SeededGenerator) -> String {
        texts.randomElement(using: &generator) ?? ""
    }

    private static func unknownValue(_ generator: inout SeededGenerator, depth: Int = 0) -> String {
        switch Int.random(in: 0..<(depth > 2 ? 6 : 8), using: &generator) {
        case 0: return "null"
        case 1: return Bool.random(using: &generator) ? "true" : "false"
        case 2:
            return ["0", "-1", "3.25", "1e9", "-0.5E-3", "1234567890123"].randomElement(using: &generator) ?? "0"
        case 3, 4, 5: return "\"\(text(&generator))\""
        case 6:
            let items = (0..<Int.random(in: 0..<3, using: &generator)).map { _ in
                unknownValue(&generator, depth: depth + 1)
            }
            return "[" + items.joined(separator: " , ") + "]"
        default:
            let members = (0..<Int.random(in: 0..<3, using: &generator)).map { index in
                "\"k\(index)\":\(unknownValue(&generator, depth: depth + 1))"
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    /// A body as a producer would send it, its members in a random order, sometimes with extra members.
    private static func body(_ generator: inout SeededGenerator) -> String {
        var members = [
            #""application_id":"\#(Bool.random(using: &generator) ? UUID().uuidString : UUID().uuidString.lowercased())""#,
            #""event_type":"billing.invoice.\#(text(&generator))""#,
            #""payload":"\#(text(&generator))""#,
            #""payload_content_type":"\#(["application/json", "text/plain", "x"].randomElement(using: &generator) ?? "")""#,
            #""labels":{"tenant":"\#(text(&generator))","env":"prod"}"#,
            #""occurred_at":"\#(["2026-12-07T12:00:00Z", "2026-12-07T12:00:00.123456+02:00", "2026-12-07 12:00:00"].randomElement(using: &generator) ?? "")""#,
        ]
        switch Int.random(in: 0..<3, using: &generator) {
        case 0: members.append(#""event_id":"\#(UUID().uuidString.lowercased())""#)
        case 1: members.append(#""event_id":null"#)
        default: break
        }
        switch Int.random(in: 0..<3, using: &generator) {
        case 0: members.append(#""metadata":{"source":"\#(text(&generator))"}"#)
        case 1: members.append(#""metadata":null"#)
        default: break
        }
        for index in 0..<Int.random(in: 0..<3, using: &generator) {
            members.append("\"extra\(index)\": \(unknownValue(&generator))")
        }
        members.shuffle(using: &generator)
        let spacing = [",", " , ", ",\n  "].randomElement(using: &generator) ?? ","
        return "{" + members.joined(separator: spacing) + "}"
    }

    private static let insertions = [
        "\"", "\\", ",", ":", "{", "}", "[", "]", " ", "\u{1}", "n", "0", "-", ".", "e", "\\u", "\\ud800", "é",
        #""labels":{}"#, #""payload":"x""#, "null",
    ]

    /// The body with one random corruption: a byte dropped or replaced, a fragment inserted, a member repeated.
    private static func corrupted(_ body: String, _ generator: inout SeededGenerator) -> [UInt8] {
        var bytes = Array(body.utf8)
        let position = Int.random(in: 0..<max(1, bytes.count), using: &generator)
        switch Int.random(in: 0..<4, using: &generator) {
        case 0 where !bytes.isEmpty: bytes.remove(at: position)
        case 1 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &generator)
        case 2:
            bytes.insert(contentsOf: Array((insertions.randomElement(using: &generator) ?? "").utf8), at: position)
        default:
            let repeated = [#""payload":"again","#, #""labels":{"a":"b"},"#, #""event_id":null,"#]
            bytes.insert(contentsOf: Array((repeated.randomElement(using: &generator) ?? "").utf8), at: 1)
        }
        return bytes
    }

    private static func decoded(_ bytes: [UInt8]) -> EventBody? {
        try? JSONDecoder().decode(EventBody.self, from: Data(bytes))
    }

    @Test func whatTheParserReadsJSONDecoderReadsToTheSameValue() {
        var generator = SeededGenerator(seed: 20_261_207)
        var readDirectly = 0
        var corruptionsReadDirectly = 0
        let bodies = 2_000
        for _ in 0..<bodies {
            let body = Self.body(&generator)
            let bytes = Array(body.utf8)
            let direct = EventBodyParser.event(bytes)
            let reference = Self.decoded(bytes)
            #expect(reference != nil, "a well-formed body: \(body)")
            #expect(direct == reference, "\(body)")
            if direct != nil { readDirectly += 1 }
            for _ in 0..<4 {
                let broken = Self.corrupted(body, &generator)
                if let direct = EventBodyParser.event(broken) {
                    corruptionsReadDirectly += 1
                    #expect(direct == Self.decoded(broken), "\(String(decoding: broken, as: UTF8.self))")
                }
            }
        }
        #expect(readDirectly == bodies, "every well-formed body is read without JSONDecoder")
        #expect(corruptionsReadDirectly > 0, "some corruptions leave a valid body, and are read alike")
    }

    @Test func aBatchIsReadDirectlyOnlyWhenEveryEventIs() throws {
        var generator = SeededGenerator(seed: 7)
        let events = (0..<5).map { _ in Self.body(&generator) }
        let batch = Array(#"{"events":[\#(events.joined(separator: ","))],"note":[1,{"x":null}]}"#.utf8)
        let direct = try #require(EventBodyParser.batch(batch))
        let reference = try JSONDecoder().decode(EventBatchBody.self, from: Data(batch))
        #expect(direct.events.count == 5)
        for (mine, theirs) in zip(direct.events, reference.events) {
            #expect(try mine.body.get() == theirs.body.get())
        }
        let oneMalformed = Array(#"{"events":[\#(events[0]),{"application_id":"x"}]}"#.utf8)
        #expect(EventBodyParser.batch(oneMalformed) == nil, "JSONDecoder words the malformed event's problem")
        #expect(EventBodyParser.batch(Array(#"{"events":[]}"#.utf8))?.events.isEmpty == true)
        #expect(EventBodyParser.batch(Array(#"{"events":[],"events":[]}"#.utf8)) == nil)
        #expect(EventBodyParser.batch(Array(#"{"other":1}"#.utf8)) == nil)
    }

    @Test func deepNestingAndStrayBytesAreLeftToJSONDecoder() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        let body = #"{"application_id":"\#(UUID().uuidString)","x":\#(deep)}"#
        #expect(EventBodyParser.event(Array(body.utf8)) == nil)
        let valid =
            #"{"application_id":"\#(UUID().uuidString)","event_type":"a.b.c","payload":"{}","#
            + #""payload_content_type":"application/json","labels":{"a":"b"},"occurred_at":"2026-12-07T12:00:00Z"}"#
        #expect(EventBodyParser.event(Array(valid.utf8)) != nil)
        #expect(EventBodyParser.event(Array((valid + " x").utf8)) == nil)
        #expect(EventBodyParser.event([0xEF, 0xBB, 0xBF] + Array(valid.utf8)) == nil)
    }
}
