/// Which header values are credentials, and how pages show them.
extension HeaderSyntax {
    /// Whether a header's value is a credential a page must not show: the standard ones (`Authorization`,
    /// `Cookie`, …) and any name that says it holds a key, token, secret, password or session.
    public static func isSecret(_ name: String) -> Bool {
        guard name.utf8.allSatisfy({ $0 < 0x80 }) else {
            let name = name.lowercased()
            if ["cookie", "set-cookie"].contains(name) { return true }
            return secretWords.contains { name.contains($0) }
        }
        // ASCII, the case of every header name: compared byte by byte, since the generic substring search costs
        // a tenth of a worker's CPU when every delivery's headers are checked.
        let bytes = name.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }
        if bytes.elementsEqual("cookie".utf8) || bytes.elementsEqual("set-cookie".utf8) { return true }
        return secretWordBytes.contains { word in
            guard word.count <= bytes.count else { return false }
            return (0...(bytes.count - word.count)).contains { start in
                bytes[start..<(start + word.count)].elementsEqual(word)
            }
        }
    }

    private static let secretWords = ["auth", "key", "token", "secret", "password", "passwd", "session"]
    private static let secretWordBytes = secretWords.map { Array($0.utf8) }

    /// The value as a page shows it: masked when `isSecret(name)`, keeping its first four characters of a long
    /// value so a person can tell two credentials apart.
    public static func displayed(_ value: String, named name: String) -> String {
        guard isSecret(name) else { return value }
        return value.count >= 16 ? String(value.prefix(4)) + "…(hidden)" : "(hidden)"
    }
}
