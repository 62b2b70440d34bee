import Foundation

/// E-mail addresses as accounts use them: compared without regard to case (as Hook0's case-insensitive column),
/// and checked for the shape `local@domain` before anything is stored or sent.
public enum EmailAddress {
    /// The form addresses are compared and looked up by: trimmed and lowercased.
    public static func canonical(_ address: String) -> String {
        address.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Whether `address` looks like a deliverable address: one `@`, a non-empty local part, a domain of labels of
    /// letters, digits and hyphens (one label, such as `localhost`, is allowed), no spaces or control characters,
    /// at most 100 bytes (Hook0's limit).
    public static func isValid(_ address: String) -> Bool {
        guard address.utf8.count <= 100 else { return false }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last, !local.isEmpty, !domain.isEmpty
        else { return false }
        guard local.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0 != "\"" }) else {
            return false
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy {
                    $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-"
                }
        }
    }
}
