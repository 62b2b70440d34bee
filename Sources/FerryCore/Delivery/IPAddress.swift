import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address as raw bytes, with the classification the target guard needs.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4([UInt8])
    case v6([UInt8])

    /// Parses a textual address (dotted IPv4 or any IPv6 form; brackets are removed).
    public init?(_ text: String) {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            self = .v4(withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        return nil
    }

    public var description: String {
        switch self {
        case .v4(let bytes): return bytes.map(String.init).joined(separator: ".")
        case .v6(let bytes):
            var groups: [String] = []
            for index in stride(from: 0, to: 16, by: 2) {
                groups.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16))
            }
            return groups.joined(separator: ":")
        }
    }

    /// The IPv4 address an IPv6 address carries (IPv4-mapped, IPv4-compatible, NAT64, 6to4), if any.
    public var embeddedIPv4: IPAddress? {
        guard case .v6(let bytes) = self else { return nil }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return .v4(Array(bytes[12..<16]))
        }
        if bytes[0..<12].allSatisfy({ $0 == 0 }), !(bytes[12..<15].allSatisfy { $0 == 0 }) {
            return .v4(Array(bytes[12..<16]))
        }
        if Array(bytes[0..<12]) == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
            return .v4(Array(bytes[12..<16]))
        }
        if bytes[0] == 0x20, bytes[1] == 0x02 {
            return .v4(Array(bytes[2..<6]))
        }
        return nil
    }

    /// Whether the address is globally routable: not loopback, private, link-local, shared, reserved,
    /// documentation, multicast, unspecified, a cloud metadata service, or an IPv6 form wrapping such an IPv4
    /// address.
    public var isGloballyRoutable: Bool {
        if let embedded = embeddedIPv4 { return embedded.isGloballyRoutable }
        for network in Self.nonGlobalNetworks where network.contains(self) {
            return false
        }
        return true
    }

    // IANA special-purpose registries (IPv4 and IPv6), which already cover most cloud metadata services
    // (169.254.169.254, fd00:ec2::254, 100.100.100.200, 192.0.0.192), plus the ones on global unicast addresses.
    private static let nonGlobalNetworks: [CIDR] = (Self.specialPurposeNetworks + Self.cloudMetadataServices).compactMap
    {
        CIDR($0)
    }

    /// Cloud platform services on global unicast addresses that answer only from inside the provider, which no
    /// webhook target has reason to be: Azure's WireServer and platform DNS (168.63.129.16).
    public static let cloudMetadataServices = ["168.63.129.16/32"]

    private static let specialPurposeNetworks = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
        "::/8", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16",
        "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    ]
}

/// An address block such as `10.0.0.0/8` or `fc00::/7`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `address/prefix`; a bare address means a single host.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(
            separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, let address = IPAddress(String(first)) else { return nil }
        let maxLength: Int
        switch address {
        case .v4: maxLength = 32
        case .v6: maxLength = 128
        }
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maxLength).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = maxLength
        }
        self.address = address
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// Whether `candidate` lies in this block (IPv4 blocks also match IPv4-mapped IPv6 addresses).
    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let network), .v4(let bytes)), (.v6(let network), .v6(let bytes)):
            return Self.prefixMatches(network, bytes, prefixLength)
        case (.v4, .v6):
            guard let embedded = candidate.embeddedIPv4 else { return false }
            return contains(embedded)
        case (.v6, .v4):
            return false
        }
    }

    private static func prefixMatches(_ network: [UInt8], _ bytes: [UInt8], _ length: Int) -> Bool {
        var remaining = length
        var index = 0
        while remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if network[index] & mask != bytes[index] & mask { return false }
            remaining -= bits
            index += 1
        }
        return true
    }
}
