import FerryCore
import Testing

/// Hook0's password rules, checked in order, and the address rules accounts use.
@Suite struct PasswordPolicyTests {
    static let policy = PasswordPolicy()

    func violation(_ password: String, email: String = "admiral@navy.mil") -> PasswordViolation? {
        Self.policy.violation(of: password, email: email, firstName: "Grace", lastName: "Hopper")
    }

    @Test func eachRuleIsReportedByItsHook0Id() {
        #expect(violation("eleven-char") == .tooShort)
        #expect(violation(String(repeating: "ab3", count: 34)) == .tooLong)
        #expect(violation("admiral@navy.mil") == .similarToEmail)
        #expect(violation("Admiral-Navy-1", email: "admiral@navy.mil") == .similarToEmail)
        #expect(violation("GraceHopper-1906") == .similarToName)
        #expect(violation("hopper-hopper!") == .similarToName)
        #expect(violation("Password2024!!") == .tooCommon)
        #expect(violation("123456789012") == .tooCommon)
        #expect(violation("qwertyuiop12") == .tooCommon)
        #expect(violation("aaaabbbbaaaa") == .notDiverseEnough)
        #expect(violation("tangerine-orbit-73") == nil)
        #expect(violation("839201847561") == nil)
    }

    @Test func theMinimumLengthIsASetting() {
        let relaxed = PasswordPolicy(minimumLength: 8)
        #expect(relaxed.violation(of: "zebra-9q", email: "a@b.c", firstName: "A", lastName: "B") == nil)
        #expect(Self.policy.violation(of: "zebra-9q", email: "a@b.c", firstName: "A", lastName: "B") == .tooShort)
    }

    @Test func addressesAreComparedWithoutCaseAndCheckedForShape() {
        #expect(EmailAddress.canonical("  Grace@Example.COM ") == "grace@example.com")
        for valid in ["a@b.c", "admin@localhost", "first.last+tag@sub.example.org", "élise@exemple.fr"] {
            #expect(EmailAddress.isValid(valid), "\(valid)")
        }
        for invalid in [
            "", "plain", "@example.com", "a@", "a@@b.c", "a b@c.d", "a@b..c", "a@-b.c", "a\r\n@b.c",
            String(repeating: "a", count: 95) + "@b.com",
        ] {
            #expect(!EmailAddress.isValid(invalid), "\(invalid)")
        }
    }
}
