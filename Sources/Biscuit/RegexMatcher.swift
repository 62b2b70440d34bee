/// `.matches(pattern)`: an unanchored search of a regular expression in a string, on Unicode scalars.
///
/// A pattern that does not compile matches nothing (the reference implementation does the same). Swift's regular
/// expression syntax agrees with the reference's (Rust `regex`) on the common subset: classes, anchors,
/// quantifiers, alternation and groups; look-around and back-references, which Rust refuses, compile here.
enum RegexMatcher {
    static func matches(_ text: String, pattern: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return (try? regex.matchingSemantics(.unicodeScalar).firstMatch(in: text)) != nil
    }
}
