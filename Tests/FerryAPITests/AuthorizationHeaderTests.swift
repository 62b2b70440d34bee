import Testing

@testable import FerryAPI

/// The bearer is trimmed of HTTP's optional whitespace (spaces and tabs) and of nothing else.
@Suite struct AuthorizationHeaderTests {
    @Test func optionalWhitespaceAroundTheBearerIsDropped() {
        #expect(AuthorizationHeader.trimmingOptionalWhitespace("abc") == "abc")
        #expect(AuthorizationHeader.trimmingOptionalWhitespace(" \tabc def\t ") == "abc def")
        #expect(AuthorizationHeader.trimmingOptionalWhitespace("  \t ") == "")
        #expect(AuthorizationHeader.trimmingOptionalWhitespace("") == "")
        #expect(AuthorizationHeader.trimmingOptionalWhitespace("\u{00E9}t\u{00E9} ") == "\u{00E9}t\u{00E9}")
        #expect(AuthorizationHeader.trimmingOptionalWhitespace("x\n") == "x\n")
    }
}
