import Foundation

/// Which address a request comes from when reverse proxies stand in front of Ferry: only a peer inside
/// `trustedProxies` is believed about whom it forwards for (`Forwarded`'s `for=`, RFC 7239, or else
/// `X-Forwarded-For`), and the chain is read from the nearest hop back to the first one that is not a trusted proxy,
/// so a client cannot choose its own address by sending the header itself.
public enum ClientAddress {
    /// The client's address: `peer` itself unless it is a trusted proxy that says whom it forwards for.
    /// - Parameters:
    ///   - forwarded: the values of the `Forwarded` headers, in order.
    ///   - forwardedFor: the values of the `X-Forwarded-For` headers, in order (read only without `Forwarded`).
    public static func resolve(peer: String, forwarded: [String], forwardedFor: [String], trustedProxies: [CIDR])
        -> String
    {
        guard !trustedProxies.isEmpty, isTrusted(peer, trustedProxies) else { return peer }
        let chain = forwarded.isEmpty ? forwardedForChain(forwardedFor) : forwardedChain(forwarded)
        guard !chain.isEmpty else { return peer }
        for hop in chain.reversed() where !isTrusted(hop, trustedProxies) {
            return hop
        }
        return chain[0]
    }

    private static func isTrusted(_ address: String, _ trusted: [CIDR]) -> Bool {
        guard let parsed = IPAddress(address) else { return false }
        return trusted.contains { $0.contains(parsed) }
    }

    private static func forwardedForChain(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The `for=` of each element of `Forwarded`, quotes, IPv6 brackets and ports removed.
    private static func forwardedChain(_ values: [String]) -> [String] {
        var chain: [String] = []
        for element in values.flatMap({ $0.split(separator: ",") }) {
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else {
                    continue
                }
                var node = parts[1].trimmingCharacters(in: .whitespaces)
                if node.hasPrefix("\""), node.hasSuffix("\""), node.count >= 2 {
                    node = String(node.dropFirst().dropLast())
                }
                if node.hasPrefix("["), let close = node.firstIndex(of: "]") {
                    node = String(node[node.index(after: node.startIndex)..<close])
                } else if node.filter({ $0 == ":" }).count == 1, let colon = node.firstIndex(of: ":") {
                    node = String(node[..<colon])
                }
                if !node.isEmpty { chain.append(node) }
            }
        }
        return chain
    }
}
