import Testing

@testable import FerryAPI

/// The bearer is trimmed of spaces and tabs (Foundation's `.whitespaces`), and not of line breaks.
@Suite struct AuthorizationHeaderTests {
    @Test func optionalWhitespaceAroundTheBearerIsDropped() {
        #expect(AuthorizationHeader.trimmingWhitespace("abc") == "abc")
        #expect(AuthorizationHeader.trimmingWhitespace(" \tabc def\t ") == "abc def")
        #expect(AuthorizationHeader.trimmingWhitespace("  \t ") == "")
        #expect(AuthorizationHeader.trimmingWhitespace("") == "")
        #expect(AuthorizationHeader.trimmingWhitespace("\u{00E9}t\u{00E9} ") == "\u{00E9}t\u{00E9}")
        #expect(AuthorizationHeader.trimmingWhitespace("x\n") == "x\n")
    }
}
