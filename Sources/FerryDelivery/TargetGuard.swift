import FerryCore
import FerryStorage
import Foundation
import NIOPosix

/// Refuses delivery targets whose resolved addresses are not globally routable (SSRF guard), unless they lie
/// in an allowed network, and hands back the vetted address so the connection goes there and nowhere else
/// (a second DNS answer cannot swap it: no rebinding).
public struct TargetGuard: Sendable {
    /// A target that passed the guard.
    public struct VettedTarget: Sendable, Equatable {
        /// The URL to request: for `http`, the host is replaced by the vetted address.
        public var requestURL: String
        /// The `Host` header to send when the URL was rewritten to the address.
        public var hostHeader: String?
        /// For `https` to a host name: connect to this address while TLS (SNI and certificate checks) keeps
        /// using the name.
        public var pin: AddressPin?

        public init(requestURL: String, hostHeader: String?, pin: AddressPin?) {
            self.requestURL = requestURL
            self.hostHeader = hostHeader
            self.pin = pin
        }
    }

    /// An `https` host name and the vetted address its connections must go to.
    public struct AddressPin: Sendable, Hashable {
        public var host: String
        public var address: String

        public init(host: String, address: String) {
            self.host = host
            self.address = address
        }
    }

    private let policy: TargetPolicy
    private let dnsTimeout: Duration
    private let resolver: HostResolver

    /// - Parameter resolver: how host names become addresses (the system resolver unless a test says otherwise).
    public init(policy: TargetPolicy, dnsTimeout: Duration = .seconds(5), resolver: HostResolver = .system) {
        self.policy = policy
        self.dnsTimeout = dnsTimeout
        self.resolver = resolver
    }

    /// Whether an address may be contacted.
    public func permits(_ address: IPAddress) -> Bool {
        policy.permits(address)
    }

    /// Resolves and checks `url`; fails with `E_INVALID_TARGET` or `E_DNS`. Every resolved address must pass.
    public func vet(_ url: String) async -> Result<VettedTarget, ResponseErrorName> {
        guard policy.refusal(for: url) == nil, var components = URLComponents(string: url),
            let rawHost = components.host, let scheme = components.scheme?.lowercased()
        else { return .failure(.invalidTarget) }
        let host = TargetPolicy.normalizedHost(rawHost)
        let addresses: [IPAddress]
        if let literal = TargetPolicy.literalAddress(ofHost: host) {
            addresses = [literal]
        } else {
            switch await resolve(host) {
            case .success(let resolved): addresses = resolved
            case .failure(let error): return .failure(error)
            }
        }
        guard let first = addresses.first, addresses.allSatisfy(permits) else { return .failure(.invalidTarget) }
        if scheme == "https" {
            if IPAddress(host) == first { return .success(VettedTarget(requestURL: url, hostHeader: nil, pin: nil)) }
            return .success(
                VettedTarget(
                    requestURL: url, hostHeader: nil, pin: AddressPin(host: rawHost, address: first.description)))
        }
        let hostHeader = components.port.map { "\(rawHost):\($0)" } ?? rawHost
        switch first {
        case .v4: components.host = first.description
        case .v6: components.percentEncodedHost = "[\(first.description)]"
        }
        guard let pinned = components.string else { return .failure(.invalidTarget) }
        return .success(VettedTarget(requestURL: pinned, hostHeader: hostHeader, pin: nil))
    }

    private func resolve(_ host: String) async -> Result<[IPAddress], ResponseErrorName> {
        let timeout = dnsTimeout
        let resolver = resolver
        return await withTaskGroup(of: Result<[IPAddress], ResponseErrorName>?.self) { group in
            group.addTask { await resolver.resolve(host) }
            group.addTask {
                await CancellableSleep.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(.dns)
        }
    }
}

/// Turns a host name into its addresses.
public struct HostResolver: Sendable {
    /// Resolves a name; `.dns` when it has no address.
    public let resolve: @Sendable (String) async -> Result<[IPAddress], ResponseErrorName>

    public init(resolve: @escaping @Sendable (String) async -> Result<[IPAddress], ResponseErrorName>) {
        self.resolve = resolve
    }

    /// The operating system's resolver (`getaddrinfo` on NIO's blocking-I/O thread pool).
    public static let system = HostResolver { host in
        (try? await NIOThreadPool.singleton.runIfActive { getAddresses(host) }) ?? .failure(.dns)
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
