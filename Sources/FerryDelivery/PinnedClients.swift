import AsyncHTTPClient

/// HTTP clients for `https` targets named by host, one per (host name, vetted address). Each connects only to
/// its address (AsyncHTTPClient's DNS override) while TLS still sends the name (SNI) and verifies the
/// certificate against it, and each keeps its own pool of keep-alive connections. Idle clients beyond
/// `capacity` are shut down, least recently used first.
actor PinnedClients {
    private struct Entry {
        let client: HTTPClient
        var inFlight: Int
        var lastUsed: UInt64
    }

    private let configuration: HTTPClient.Configuration
    private let capacity: Int
    private var entries: [TargetGuard.AddressPin: Entry] = [:]
    private var clock: UInt64 = 0

    init(configuration: HTTPClient.Configuration, capacity: Int = 256) {
        self.configuration = configuration
        self.capacity = max(1, capacity)
    }

    /// Runs `body` with the client pinned to `pin`, keeping that client alive until `body` returns.
    func withClient<T: Sendable>(
        for pin: TargetGuard.AddressPin, _ body: @Sendable (HTTPClient) async throws -> T
    ) async rethrows -> T {
        let client = acquire(pin)
        defer { release(pin) }
        return try await body(client)
    }

    /// Shuts every client down (when the worker stops).
    func shutdown() async {
        let clients = entries.values.map(\.client)
        entries = [:]
        for client in clients { try? await client.shutdown() }
    }

    private func acquire(_ pin: TargetGuard.AddressPin) -> HTTPClient {
        clock += 1
        if var entry = entries[pin] {
            entry.inFlight += 1
            entry.lastUsed = clock
            entries[pin] = entry
            return entry.client
        }
        var pinnedConfiguration = configuration
        pinnedConfiguration.dnsOverride = [pin.host: pin.address]
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: pinnedConfiguration)
        entries[pin] = Entry(client: client, inFlight: 1, lastUsed: clock)
        evictIdleClients()
        return client
    }

    private func release(_ pin: TargetGuard.AddressPin) {
        entries[pin]?.inFlight -= 1
        evictIdleClients()
    }

    private func evictIdleClients() {
        while entries.count > capacity {
            guard
                let victim = entries.filter({ $0.value.inFlight == 0 }).min(by: {
                    $0.value.lastUsed < $1.value.lastUsed
                })
            else { return }
            entries[victim.key] = nil
            let client = victim.value.client
            Task { try? await client.shutdown() }
        }
    }
}
