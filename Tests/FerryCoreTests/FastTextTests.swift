import FerryCore
import Foundation
import Testing

/// The hand-written UUID parser and timestamp writer on the hot path agree with Foundation's, which they replace.
@Suite struct FastTextTests {
    @Test func theUUIDParserAcceptsExactlyWhatFoundationAccepts() {
        var generator = SystemRandomNumberGenerator()
        var inputs = (0..<500).map { _ in UUID().uuidString }
        inputs += inputs.prefix(100).map { $0.lowercased() }
        inputs += [
            "", "0", "00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "0b7f9d2e-4c1a-4e8b-9f3d-6a5c2b1e0d4f", "0b7f9d2e4c1a4e8b9f3d6a5c2b1e0d4f",
            "{0b7f9d2e-4c1a-4e8b-9f3d-6a5c2b1e0d4f}", "0b7f9d2e-4c1a-4e8b-9f3d-6a5c2b1e0d4",
            "0b7f9d2e-4c1a-4e8b-9f3d-6a5c2b1e0d4f0",
            "0b7f9d2e-4c1a-4e8b-9f3d_6a5c2b1e0d4f", "0b7f9d2g-4c1a-4e8b-9f3d-6a5c2b1e0d4f",
            " 0b7f9d2e-4c1a-4e8b-9f3d-6a5c2b1e0d4",
            "0b7f9d2e-4c1a-4e8b-9f3d-6a5c2b1e0d4é", "0b7f9d2e--c1a-4e8b-9f3d-6a5c2b1e0d4f",
        ]
        // Every single-character corruption of one UUID, at every position.
        let base = Array("0b7f9d2e-4c1a-4e8b-9f3d-6a5c2b1e0d4f")
        for position in base.indices {
            for replacement in ["-", "x", "G", "0", "A", " ", "\u{0}"] {
                var corrupted = base
                corrupted[position] = Character(replacement)
                inputs.append(String(corrupted))
            }
        }
        for _ in 0..<200 {
            let bytes = (0..<36).map { _ in UInt8.random(in: 0x2D...0x66, using: &generator) }
            inputs.append(String(decoding: bytes, as: UTF8.self))
        }
        for input in inputs {
            if Self.isHyphenatedHex(input) {
                #expect(
                    UUID(hyphenated: input) != nil && UUID(hyphenated: input) == UUID(uuidString: input), "\(input)")
            } else {
                // Foundation's scanner lets some of these through (a space or a sign where a digit belongs); the
                // API never did want them, and Hook0 refuses them.
                #expect(UUID(hyphenated: input) == nil, "\(input)")
            }
        }
    }

    /// `8-4-4-4-12` hexadecimal digits, told apart the slow way.
    private static func isHyphenatedHex(_ text: String) -> Bool {
        let characters = Array(text)
        guard characters.count == 36 else { return false }
        return characters.enumerated().allSatisfy { index, character in
            [8, 13, 18, 23].contains(index) ? character == "-" : character.isHexDigit
        }
    }

    @Test func timestampsAreWrittenInRFC3339WithMicroseconds() {
        let known: [(Double, String)] = [
            (0, "1970-01-01T00:00:00.000000Z"), (-1, "1969-12-31T23:59:59.000000Z"),
            (0.000_001, "1970-01-01T00:00:00.000001Z"), (951_782_400, "2000-02-29T00:00:00.000000Z"),
            (1_798_761_599.999_999, "2026-12-31T23:59:59.999999Z"), (-62_135_596_800, "0001-01-01T00:00:00.000000Z"),
            (253_402_300_799, "9999-12-31T23:59:59.000000Z"),
        ]
        for (seconds, text) in known {
            #expect(Timestamp.format(Date(timeIntervalSince1970: seconds)) == text)
        }
        // Against Foundation's Gregorian calendar, which is proleptic from 1583 on, over 1938–2065: within those
        // years a `Date` (a `Double` of seconds since 2001) still holds every microsecond exactly.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let second = Int64.random(in: -1_000_000_000...3_000_000_000, using: &generator)
            let micro = Int64.random(in: 0..<999_000, using: &generator)
            let date = Timestamp.date(microseconds: second * 1_000_000 + micro)
            let fields = calendar.dateComponents(
                [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(second)))
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", fields.year ?? 0, fields.month ?? 0, fields.day ?? 0,
                fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0, Int(micro))
            #expect(Timestamp.format(date) == expected)
        }
    }
}

/// The byte-wise secret-header test against the Unicode-aware one it replaced for ASCII names.
@Suite struct SecretHeaderTests {
    private static func reference(_ name: String) -> Bool {
        let name = name.lowercased()
        if ["cookie", "set-cookie"].contains(name) { return true }
        return ["auth", "key", "token", "secret", "password", "passwd", "session"].contains { name.contains($0) }
    }

    @Test func secretHeaderNamesAreFoundAsBefore() {
        var names = [
            "Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "x-token", "X-Secret-Thing", "Proxy-Authorization",
            "Password", "X-PASSWD", "Session-Id", "Content-Type", "X-Request-Id", "Accept", "cookies", "X-Cookie",
            "", "k", "KEY", "monkey", "tokenizer", "Keep-Alive", "Kelvin-\u{212A}ey", "Überauth",
        ]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aAeEiIkKnNoOsStTyYuUhHwWdDpPcC-_")
        for _ in 0..<3_000 {
            names.append(
                String(
                    (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                        alphabet.randomElement(using: &generator) ?? "a"
                    }))
        }
        for name in names {
            #expect(HeaderSyntax.isSecret(name) == Self.reference(name), "\(name)")
        }
    }
}
