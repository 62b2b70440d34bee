import FerryCore
import Foundation
import SeededRandom
import Testing

/// `JSONScanner.isCertainlyJSON`, which spares most JSON payloads Foundation's parse, against `JSONSerialization`:
/// over generated JSON texts and thousands of corruptions of them, whatever the scanner accepts Foundation accepts,
/// and the payloads producers send are accepted without Foundation; controls are judged alike with and without the
/// Unicode tables.
@Suite struct JSONScannerTests {
    private static let strings = [
        #""""#, #""plain""#, #""q\"uote""#, #""\\""#, #""\n\t\r\b\f\/""#, #""\u00e9\u0000""#, #""\ud83d\ude00""#,
        #""ünï ✓""#,
    ]
    private static let numbers = ["0", "-0", "7", "-12.5", "3.25e10", "1E-7", "0.000001", "123456789012345"]

    private static func value(_ generator: inout SeededGenerator, depth: Int = 0) -> String {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &generator) {
        case 0: return ["null", "true", "false"].randomElement(using: &generator) ?? "null"
        case 1, 2: return numbers.randomElement(using: &generator) ?? "0"
        case 3, 4: return strings.randomElement(using: &generator) ?? "\"\""
        case 5:
            let items = (0..<Int.random(in: 0..<4, using: &generator)).map { _ in value(&generator, depth: depth + 1) }
            return "[" + items.joined(separator: [",", " , ", ",\n"].randomElement(using: &generator) ?? ",") + "]"
        default:
            let members = (0..<Int.random(in: 0..<4, using: &generator)).map { index in
                "\"m\(index)\" : \(value(&generator, depth: depth + 1))"
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    private static let fragments = [
        "\"", "\\", ",", ":", "{", "}", "[", "]", " ", "\u{1}", "\u{0}", "n", "tru", "0", "01", "-", ".", "e", "E+",
        "\\u", "\\ud800", "\\x", "é", "1e400", "12345678901234567890123", "NaN", "Infinity",
    ]

    private static func corrupted(_ text: String, _ generator: inout SeededGenerator) -> [UInt8] {
        var bytes = Array(text.utf8)
        let position = Int.random(in: 0..<max(1, bytes.count), using: &generator)
        switch Int.random(in: 0..<3, using: &generator) {
        case 0 where !bytes.isEmpty: bytes.remove(at: position)
        case 1 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &generator)
        default: bytes.insert(contentsOf: Array((fragments.randomElement(using: &generator) ?? "").utf8), at: position)
        }
        return bytes
    }

    private static func foundationAccepts(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
    }

    @Test func whatTheScannerAcceptsFoundationAccepts() {
        var generator = SeededGenerator(seed: 42)
        var corruptionsAccepted = 0
        var corruptionsRefused = 0
        let texts = 3_000
        for _ in 0..<texts {
            let text = Self.value(&generator)
            let bytes = Array(text.utf8)
            #expect(JSONScanner.isCertainlyJSON(bytes), "\(text)")
            #expect(Self.foundationAccepts(bytes), "\(text)")
            for _ in 0..<4 {
                let broken = Self.corrupted(text, &generator)
                if JSONScanner.isCertainlyJSON(broken) {
                    corruptionsAccepted += 1
                    #expect(Self.foundationAccepts(broken), "\(String(decoding: broken, as: UTF8.self))")
                } else {
                    corruptionsRefused += 1
                }
            }
        }
        #expect(corruptionsAccepted > 0 && corruptionsRefused > 0)
        for unsure in ["", " ", "1e400", "123456789012345678901", String(repeating: "[", count: 40) + "]"] {
            #expect(!JSONScanner.isCertainlyJSON(Array(unsure.utf8)), "\(unsure)")
        }
    }

    @Test func controlCharactersAreJudgedAsTheUnicodeTablesJudgeThem() {
        let scalars = (0..<0x3000).compactMap(Unicode.Scalar.init)
        for scalar in scalars {
            let text = "ab" + String(Character(scalar))
            #expect(
                Validator.containsControlCharacter(text)
                    == text.unicodeScalars.contains { $0.properties.generalCategory == .control }, "U+\(scalar.value)")
        }
    }
}
