/// Which header values are credentials, and how pages show them.
extension HeaderSyntax {
    /// Whether a header's value is a credential a page must not show: the standard ones (`Authorization`,
    /// `Cookie`, …) and any name that says it holds a key, token, secret, password or session.
    public static func isSecret(_ name: String) -> Bool {
        let name = name.lowercased()
        if ["cookie", "set-cookie"].contains(name) { return true }
        return ["auth", "key", "token", "secret", "password", "passwd", "session"].contains {
            name.contains($0)
        }
    }

    /// The value as a page shows it: masked when `isSecret(name)`, keeping its first four characters of a long
    /// value so a person can tell two credentials apart.
    public static func displayed(_ value: String, named name: String) -> String {
        guard isSecret(name) else { return value }
        return value.count >= 16 ? String(value.prefix(4)) + "…(hidden)" : "(hidden)"
    }
}
