import Foundation

/// Which delivery targets Ferry may contact: the checks that need no DNS (scheme, hosts written as addresses),
/// shared by subscription validation (refused up front with a 422) and the delivery-time guard, which also
/// checks every address a host name resolves to.
public struct TargetPolicy: Sendable, Equatable {
    /// Address blocks exempt from the guard for every application (for receivers on a private network).
    public var allowedNetworks: [CIDR]
    /// Address blocks exempt from the guard for one application only, so opening a private range for one customer
    /// does not open it for all.
    public var allowedNetworksByApplication: [UUID: [CIDR]]
    /// Refuse `http://` targets.
    public var httpsOnly: Bool

    public init(
        allowedNetworks: [CIDR] = [], allowedNetworksByApplication: [UUID: [CIDR]] = [:], httpsOnly: Bool = false
    ) {
        self.allowedNetworks = allowedNetworks
        self.allowedNetworksByApplication = allowedNetworksByApplication
        self.httpsOnly = httpsOnly
    }

    /// Whether an address may be contacted for `application`'s deliveries: globally routable, or inside a network
    /// allowed for everyone or for that application.
    public func permits(_ address: IPAddress, application: UUID? = nil) -> Bool {
        if address.isGloballyRoutable || allowedNetworks.contains(where: { $0.contains(address) }) { return true }
        guard let application, let own = allowedNetworksByApplication[application] else { return false }
        return own.contains { $0.contains(address) }
    }

    /// Why `url` may not be a delivery target of `application`, or nil when only DNS can tell (or it is fine).
    public func refusal(for url: String, application: UUID? = nil) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return "must be an absolute http or https URL with a host" }
        if httpsOnly && scheme != "https" { return "must use https (this server delivers over https only)" }
        if let address = Self.literalAddress(ofHost: host), !permits(address, application: application) {
            return "\(host) is not a globally routable address (\(address))"
        }
        return nil
    }

    /// Parses `APPLICATION_ID=CIDR,CIDR;APPLICATION_ID=CIDR` (the `allowed_target_networks_by_application` setting);
    /// a failure names the first entry that is not an application id with CIDRs.
    public static func parseNetworksByApplication(_ text: String) -> Result<[UUID: [CIDR]], ParseFailure> {
        var result: [UUID: [CIDR]] = [:]
        for entry in text.split(separator: ";") {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let parts = trimmed.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let application = UUID(uuidString: parts[0].trimmingCharacters(in: .whitespaces))
            else { return .failure(ParseFailure(entry: trimmed)) }
            var networks: [CIDR] = []
            for text in parts[1].split(separator: ",") {
                guard let network = CIDR(String(text)) else { return .failure(ParseFailure(entry: trimmed)) }
                networks.append(network)
            }
            guard !networks.isEmpty else { return .failure(ParseFailure(entry: trimmed)) }
            result[application, default: []].append(contentsOf: networks)
        }
        return .success(result)
    }

    /// An entry of a per-application allow-list that could not be read.
    public struct ParseFailure: Error, Equatable {
        public var entry: String
    }

    /// The host name with brackets, a trailing dot and letter case removed.
    public static func normalizedHost(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        while name.hasSuffix(".") { name.removeLast() }
        return name
    }

    /// The address a host stands for without DNS: any IPv4 spelling the C resolver accepts (`127.1`,
    /// `2130706433`, `0177.0.0.1`, `0x7f.0.0.1`), IPv6, and `localhost` (with its subdomains); nil for a name.
    public static func literalAddress(ofHost host: String) -> IPAddress? {
        let name = normalizedHost(host)
        if name == "localhost" || name.hasSuffix(".localhost") { return .v4([127, 0, 0, 1]) }
        if let address = looseIPv4(name) { return address }
        return IPAddress(name)
    }

    /// Parses IPv4 the way `inet_aton` does: one to four parts, each decimal, octal (leading `0`) or hexadecimal
    /// (`0x`), the last part filling the remaining bytes.
    static func looseIPv4(_ text: String) -> IPAddress? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = number(part) else { return nil }
            values.append(value)
        }
        var bytes: [UInt8] = []
        for value in values.dropLast() {
            guard value <= 255 else { return nil }
            bytes.append(UInt8(value))
        }
        let remaining = 4 - bytes.count
        guard let last = values.last, last < (UInt64(1) << (8 * UInt64(remaining))) else { return nil }
        for shift in stride(from: remaining - 1, through: 0, by: -1) {
            bytes.append(UInt8((last >> (8 * UInt64(shift))) & 0xFF))
        }
        return .v4(bytes)
    }

    private static func number(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.count <= 32 else { return nil }
        if part.hasPrefix("0x") || part.hasPrefix("0X") {
            let digits = part.dropFirst(2)
            guard digits.allSatisfy(\.isHexDigit) else { return nil }
            return digits.isEmpty ? 0 : UInt64(digits, radix: 16)
        }
        guard part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if part.count > 1 && part.hasPrefix("0") { return UInt64(part.dropFirst(), radix: 8) }
        return UInt64(part, radix: 10)
    }
}
