import FerryCore
import Testing

/// The client's address behind reverse proxies: believed only from a trusted peer, read from the nearest hop back.
@Suite struct ClientAddressTests {
    static let trusted = ["10.0.0.0/8", "2001:db8::/32"].compactMap(CIDR.init)

    @Test(arguments: [
        // An untrusted peer is the client, whatever it says.
        ("203.0.113.9", [String](), ["198.51.100.1"], "203.0.113.9"),
        // A trusted proxy forwarding for a client.
        ("10.0.0.2", [], ["198.51.100.1"], "198.51.100.1"),
        // A client that sent its own X-Forwarded-For: the proxy appended the real address after it.
        ("10.0.0.2", [], ["1.2.3.4, 198.51.100.1"], "198.51.100.1"),
        // Two trusted proxies in a row, over two headers.
        ("10.0.0.2", [], ["198.51.100.1", "10.0.0.7"], "198.51.100.1"),
        // Forwarded wins over X-Forwarded-For; quotes, brackets and ports are removed.
        ("10.0.0.2", [#"for="[2001:db8:cafe::17]:4711", for=192.0.2.60;proto=https"#], ["1.1.1.1"], "192.0.2.60"),
        ("10.0.0.2", [#"for="192.0.2.43:47011";by=10.0.0.2"#], [], "192.0.2.43"),
        // Every hop trusted: the first one.
        ("10.0.0.2", [], ["10.0.0.5, 10.0.0.6"], "10.0.0.5"),
        // A trusted proxy that names nobody.
        ("10.0.0.2", [], [], "10.0.0.2"),
    ])
    func theClientIsTheFirstUntrustedHopFromTheNearest(
        peer: String, forwarded: [String], forwardedFor: [String], client: String
    ) {
        #expect(
            ClientAddress.resolve(
                peer: peer, forwarded: forwarded, forwardedFor: forwardedFor, trustedProxies: Self.trusted) == client)
    }

    @Test func withoutTrustedProxiesThePeerIsTheClient() {
        #expect(
            ClientAddress.resolve(peer: "10.0.0.2", forwarded: [], forwardedFor: ["198.51.100.1"], trustedProxies: [])
                == "10.0.0.2")
    }
}
