import FerryCore
import FerryStorage
import Foundation

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

    /// - Parameter resolver: how host names become addresses (Ferry's caching resolver over the machine's
    ///   resolv.conf and hosts file unless a test says otherwise).
    public init(policy: TargetPolicy, dnsTimeout: Duration = .seconds(5), resolver: HostResolver? = nil) {
        self.policy = policy
        self.dnsTimeout = dnsTimeout
        self.resolver = resolver ?? CachingResolver().hostResolver
    }

    /// Whether an address may be contacted for `application`'s deliveries.
    public func permits(_ address: IPAddress, application: UUID? = nil) -> Bool {
        policy.permits(address, application: application)
    }

    /// Resolves and checks `url` for `tenant`'s delivery; fails with `E_INVALID_TARGET` or `E_DNS`. Every resolved
    /// address must pass.
    public func vet(_ url: String, tenant: UUID? = nil) async -> Result<VettedTarget, ResponseErrorName> {
        guard policy.refusal(for: url, application: tenant) == nil, var components = URLComponents(string: url),
            let rawHost = components.host, let scheme = components.scheme?.lowercased()
        else { return .failure(.invalidTarget) }
        let host = TargetPolicy.normalizedHost(rawHost)
        let addresses: [IPAddress]
        if let literal = TargetPolicy.literalAddress(ofHost: host) {
            addresses = [literal]
        } else {
            switch await resolve(host, tenant: tenant) {
            case .success(let resolved): addresses = resolved
            case .failure(let error): return .failure(error)
            }
        }
        guard let first = addresses.first, addresses.allSatisfy({ permits($0, application: tenant) }) else {
            return .failure(.invalidTarget)
        }
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

    /// Resolves within the DNS timeout, returning at the deadline even if the lookup has not ended.
    private func resolve(_ host: String, tenant: UUID?) async -> Result<[IPAddress], ResponseErrorName> {
        let resolver = resolver
        return await Deadline.run(within: dnsTimeout) { await resolver.resolve(host, tenant) } ?? .failure(.dns)
    }
}

/// Turns a host name into its addresses.
public struct HostResolver: Sendable {
    /// Resolves a name for a tenant (the application whose delivery asks, if any); `.dns` when it has no address.
    public let resolve: @Sendable (_ host: String, _ tenant: UUID?) async -> Result<[IPAddress], ResponseErrorName>

    /// A resolver that tells tenants apart.
    public init(
        resolve: @escaping @Sendable (_ host: String, _ tenant: UUID?) async -> Result<[IPAddress], ResponseErrorName>
    ) {
        self.resolve = resolve
    }

    /// A resolver that treats every tenant alike.
    public init(resolve: @escaping @Sendable (_ host: String) async -> Result<[IPAddress], ResponseErrorName>) {
        self.resolve = { host, _ in await resolve(host) }
    }
}
