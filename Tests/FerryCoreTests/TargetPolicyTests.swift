import FerryCore
import Foundation
import Testing

/// The DNS-free target checks: every spelling of an address, and which addresses and schemes are refused.
@Suite struct TargetPolicyTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("127.1", "127.0.0.1"), ("127.0.1", "127.0.0.1"),
        ("10.0x10.1", "10.16.0.1"), ("017700000001", "127.0.0.1"), ("LOCALHOST.", "127.0.0.1"),
        ("api.localhost", "127.0.0.1"), ("[::1]", "0:0:0:0:0:0:0:1"), ("0", "0.0.0.0"),
    ])
    func literalAddressesInEverySpelling(host: String, address: String) {
        #expect(TargetPolicy.literalAddress(ofHost: host)?.description == address)
    }

    @Test(arguments: ["example.com", "1.2.3.4.5", "256.1.1.1", "1..2", "+1.2.3.4", "08.1.1.1", "1.2.3.0x100"])
    func namesAndInvalidNumbersAreNotAddresses(host: String) {
        #expect(TargetPolicy.literalAddress(ofHost: host) == nil)
    }

    @Test(arguments: [
        "http://127.0.0.1/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://localhost./",
        "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/",
        "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/", "http://255.255.255.255/",
        "http://240.0.0.1/", "http://224.0.0.1/", "http://192.0.2.1/", "http://198.18.0.1/", "http://[::]/",
        "http://[::1]/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd00:ec2::254]/", "http://[ff02::1]/",
        "http://[::ffff:10.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::10.0.0.1]/", "http://[64:ff9b::a00:1]/",
        "http://[2002:a00:1::]/", "http://[2001:0:4136:e378::1]/", "http://[2001:db8::1]/",
        "https://100.100.100.200/",
    ])
    func literalNonGlobalTargetsAreRefused(url: String) {
        #expect(TargetPolicy().refusal(for: url) != nil)
    }

    @Test(arguments: [
        "https://example.com/hook", "http://93.184.216.34/", "http://[2606:2800:220:1::1]/",
        "http://[::ffff:93.184.216.34]/", "http://[64:ff9b::5db8:d822]/", "http://[2002:5db8:d822::1]/",
    ])
    func globalTargetsAndNamesPass(url: String) {
        #expect(TargetPolicy().refusal(for: url) == nil)
    }

    @Test func allowedNetworksExemptTheirAddressesOnly() throws {
        let policy = TargetPolicy(allowedNetworks: [try #require(CIDR("127.0.0.0/8"))])
        #expect(policy.refusal(for: "http://2130706433:9000/hook") == nil)
        #expect(policy.refusal(for: "http://10.0.0.1/") != nil)
    }

    @Test func perApplicationAllowListsOpenARangeForThatApplicationOnly() throws {
        let customer = try #require(UUID(uuidString: "0190a000-0000-7000-8000-000000000001"))
        let parsed = try TargetPolicy.parseNetworksByApplication(
            " \(customer.uuidString.lowercased())=10.20.0.0/16, fd00::/8 ; "
        ).get()
        #expect(parsed == [customer: [try #require(CIDR("10.20.0.0/16")), try #require(CIDR("fd00::/8"))]])
        let policy = TargetPolicy(allowedNetworksByApplication: parsed)
        #expect(policy.refusal(for: "http://10.20.1.2/hook", application: customer) == nil)
        #expect(policy.refusal(for: "http://[fd00::5]/hook", application: customer) == nil)
        #expect(policy.refusal(for: "http://10.20.1.2/hook", application: UUID()) != nil)
        #expect(policy.refusal(for: "http://10.20.1.2/hook") != nil)
        #expect(policy.refusal(for: "http://10.21.1.2/hook", application: customer) != nil)
        for bad in ["not-a-uuid=10.0.0.0/8", "\(customer)=", "\(customer)=10.0.0.0/99", "\(customer)"] {
            #expect(throws: TargetPolicy.ParseFailure.self) { try TargetPolicy.parseNetworksByApplication(bad).get() }
        }
        #expect(try TargetPolicy.parseNetworksByApplication("").get().isEmpty)
    }

    @Test func httpsOnlyRefusesPlainHTTP() {
        let policy = TargetPolicy(httpsOnly: true)
        #expect(policy.refusal(for: "http://example.com/") != nil)
        #expect(policy.refusal(for: "https://example.com/") == nil)
        #expect(TargetPolicy().refusal(for: "ftp://example.com/") != nil)
    }
}
