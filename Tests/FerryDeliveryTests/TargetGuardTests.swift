import FerryCore
import FerryDelivery
import Testing

/// The target guard: refusal of non-global addresses, exemptions, and pinning of the vetted address.
@Suite struct TargetGuardTests {
    @Test(arguments: [
        "http://127.0.0.1/hook", "http://localhost:8080/x", "http://10.0.0.5/", "http://[::1]/",
        "http://169.254.169.254/latest",
        "http://[::ffff:192.168.0.1]/", "http://0.0.0.0/", "ftp://example.com/",
    ])
    func refusesNonGlobalTargets(url: String) async {
        let guardian = TargetGuard(allowedNetworks: [])
        let result = await guardian.vet(url)
        #expect(result == .failure(.invalidTarget))
    }

    @Test func allowedNetworksExemptLoopbackAndPinTheAddress() async throws {
        let guardian = TargetGuard(allowedNetworks: [CIDR("127.0.0.0/8")].compactMap { $0 })
        let vetted = try await guardian.vet("http://127.0.0.1:9000/hook?x=1").get()
        #expect(vetted.requestURL == "http://127.0.0.1:9000/hook?x=1")
        #expect(vetted.hostHeader == "127.0.0.1:9000")
        let named = try await guardian.vet("http://localhost:9000/hook").get()
        #expect(named.requestURL == "http://127.0.0.1:9000/hook")
        #expect(named.hostHeader == "localhost:9000")
    }

    @Test func unresolvableHostIsADNSError() async {
        let guardian = TargetGuard(allowedNetworks: [])
        #expect(await guardian.vet("http://no-such-host.invalid/") == .failure(.dns))
    }
}
