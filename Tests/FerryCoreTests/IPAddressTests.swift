import Testing

@testable import FerryCore

@Suite struct IPAddressTests {
    @Test(arguments: [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "169.254.169.254",
        "168.63.129.16", "::ffff:168.63.129.16",
        "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.51.100.7",
        "203.0.113.9", "198.18.0.1", "198.19.255.255", "192.0.0.8", "192.88.99.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "::ffff:169.254.169.254", "64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::", "2002:c0a8:101::1",
        "2001:db8::1", "2001::1", "100::1", "5f00::1", "3fff::1", "[::1]", "[fd00:ec2::254]",
    ])
    func nonGlobalAddressesAreNotRoutable(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(!address.isGloballyRoutable)
    }

    @Test(arguments: [
        "8.8.8.8", "1.1.1.1", "168.63.129.17", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2606:4700:4700::1111",
        "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "[2606:4700:4700::1111]",
    ])
    func globalAddressesAreRoutable(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.isGloballyRoutable)
    }

    @Test func parsesBytes() {
        #expect(IPAddress("8.8.4.4") == .v4([8, 8, 4, 4]))
        #expect(IPAddress("[::1]") == .v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))
        #expect(
            IPAddress("2001:db8::ff00:42:8329")
                == .v6([0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0xFF, 0, 0, 0x42, 0x83, 0x29]))
    }

    @Test(arguments: [
        "", "example.com", "999.1.1.1", "1.2.3", "1.2.3.4.5", "::g", "1:2:3:4:5:6:7:8:9", "[1.2.3.4", "10.0.0.1/8",
    ])
    func rejectsNonAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func describesAddresses() throws {
        #expect(try #require(IPAddress("10.0.0.1")).description == "10.0.0.1")
        #expect(try #require(IPAddress("2001:db8::1")).description == "2001:db8:0:0:0:0:0:1")
    }

    @Test(
        arguments: [
            ("::ffff:10.0.0.1", IPAddress.v4([10, 0, 0, 1])),
            ("::10.0.0.1", .v4([10, 0, 0, 1])),
            ("64:ff9b::7f00:1", .v4([127, 0, 0, 1])),
            ("2002:7f00:1::", .v4([127, 0, 0, 1])),
            ("2002:0808:0808::1", .v4([8, 8, 8, 8])),
        ] as [(String, IPAddress)])
    func extractsEmbeddedIPv4(text: String, embedded: IPAddress) throws {
        #expect(try #require(IPAddress(text)).embeddedIPv4 == embedded)
    }

    @Test(arguments: ["2606:4700:4700::1111", "::1", "::", "8.8.8.8", "fe80::1"])
    func noEmbeddedIPv4(text: String) throws {
        #expect(try #require(IPAddress(text)).embeddedIPv4 == nil)
    }
}

@Suite struct CIDRTests {
    @Test(
        arguments: [
            ("10.0.0.0/8", IPAddress.v4([10, 0, 0, 0]), 8),
            ("192.168.1.7", .v4([192, 168, 1, 7]), 32),
            (" 172.16.0.0/12 ", .v4([172, 16, 0, 0]), 12),
            ("0.0.0.0/0", .v4([0, 0, 0, 0]), 0),
            ("fc00::/7", .v6([0xFC, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 7),
            ("::1", .v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 128),
            ("::/128", .v6([UInt8](repeating: 0, count: 16)), 128),
        ] as [(String, IPAddress, Int)])
    func parsesBlocks(text: String, address: IPAddress, prefixLength: Int) throws {
        let block = try #require(CIDR(text))
        #expect(block.address == address)
        #expect(block.prefixLength == prefixLength)
    }

    @Test func describesBlock() throws {
        #expect(try #require(CIDR("10.0.0.0/8")).description == "10.0.0.0/8")
        #expect(try #require(CIDR("fc00::/7")).description == "fc00:0:0:0:0:0:0:0/7")
    }

    @Test(arguments: [
        "10.0.0.0/33", "10.0.0.0/-1", "::/129", "10.0.0.0/", "10.0.0.0/abc", "nonsense/8", "", "/8", "10.0.0.0/8/9",
        "10.0.0.0/ 8",
    ])
    func rejectsBadBlocks(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.255.255.255", true),
        ("10.0.0.0/8", "11.0.0.0", false),
        ("10.0.0.0/8", "9.255.255.255", false),
        ("172.16.0.0/12", "172.31.255.255", true),
        ("172.16.0.0/12", "172.32.0.0", false),
        ("10.0.0.0/9", "10.127.255.255", true),
        ("10.0.0.0/9", "10.128.0.0", false),
        ("100.64.0.0/10", "100.127.0.1", true),
        ("100.64.0.0/10", "100.128.0.1", false),
        ("192.168.1.7", "192.168.1.7", true),
        ("192.168.1.7", "192.168.1.8", false),
        ("0.0.0.0/0", "203.0.113.5", true),
        ("fc00::/7", "fd12::1", true),
        ("fc00::/7", "fe00::1", false),
        ("fe80::/10", "febf::1", true),
        ("fe80::/10", "fec0::1", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("::/0", "2606:4700::1", true),
        ("10.0.0.0/8", "::ffff:10.1.2.3", true),
        ("10.0.0.0/8", "::ffff:11.1.2.3", false),
        ("10.0.0.0/8", "fd00::a00:1", false),
        ("::/0", "10.0.0.1", false),
        ("::ffff:0:0/96", "10.0.0.1", false),
    ])
    func containsAddresses(block: String, candidate: String, contained: Bool) throws {
        let cidr = try #require(CIDR(block))
        let address = try #require(IPAddress(candidate))
        #expect(cidr.contains(address) == contained)
    }
}
