import FerryCore
import Foundation
import NIOPosix

/// Refuses delivery targets whose resolved addresses are not globally routable (SSRF guard), unless they lie
/// in an allowed network, and hands back the vetted address to connect to.
public struct TargetGuard: Sendable {
    /// A target that passed the guard.
    public struct VettedTarget: Sendable, Equatable {
        /// The URL to request: for `http`, the host is replaced by the vetted address (pinned, so DNS cannot
        /// change between the check and the connection).
        public var requestURL: String
        /// The `Host` header to send when the URL was pinned.
        public var hostHeader: String?
    }

    private let allowedNetworks: [CIDR]
    private let dnsTimeout: Duration

    public init(allowedNetworks: [CIDR], dnsTimeout: Duration = .seconds(5)) {
        self.allowedNetworks = allowedNetworks
        self.dnsTimeout = dnsTimeout
    }

    /// Whether an address may be contacted.
    public func permits(_ address: IPAddress) -> Bool {
        address.isGloballyRoutable || allowedNetworks.contains { $0.contains(address) }
    }

    /// Resolves and checks `url`; fails with `E_INVALID_TARGET` or `E_DNS`.
    public func vet(_ url: String) async -> Result<VettedTarget, ResponseErrorName> {
        guard var components = URLComponents(string: url), let rawHost = components.host, !rawHost.isEmpty,
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else { return .failure(.invalidTarget) }
        var host = rawHost
        if host.hasSuffix(".") { host.removeLast() }
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else if host.lowercased() == "localhost" || host.lowercased().hasSuffix(".localhost") {
            addresses = [IPAddress.v4([127, 0, 0, 1])]
        } else {
            switch await resolve(host) {
            case .success(let resolved): addresses = resolved
            case .failure(let error): return .failure(error)
            }
        }
        guard let first = addresses.first, addresses.allSatisfy(permits) else { return .failure(.invalidTarget) }
        guard scheme == "http" else { return .success(VettedTarget(requestURL: url, hostHeader: nil)) }
        let hostHeader = components.port.map { "\(rawHost):\($0)" } ?? rawHost
        switch first {
        case .v4: components.host = first.description
        case .v6: components.percentEncodedHost = "[\(first.description)]"
        }
        guard let pinned = components.string else { return .failure(.invalidTarget) }
        return .success(VettedTarget(requestURL: pinned, hostHeader: hostHeader))
    }

    private func resolve(_ host: String) async -> Result<[IPAddress], ResponseErrorName> {
        let timeout = dnsTimeout
        return await withTaskGroup(of: Result<[IPAddress], ResponseErrorName>?.self) { group in
            group.addTask {
                (try? await NIOThreadPool.singleton.runIfActive { Self.getAddresses(host) }) ?? .failure(.dns)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(.dns)
        }
    }

    private static func getAddresses(_ host: String) -> Result<[IPAddress], ResponseErrorName> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let head = list else { return .failure(.dns) }
        defer { freeaddrinfo(head) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = head
        while let entry = cursor {
            if let socketAddress = entry.pointee.ai_addr {
                if entry.pointee.ai_family == AF_INET {
                    let bytes = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                    }
                    addresses.append(.v4(bytes))
                } else if entry.pointee.ai_family == AF_INET6 {
                    let bytes = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    addresses.append(.v6(bytes))
                }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(.dns) : .success(addresses)
    }
}
