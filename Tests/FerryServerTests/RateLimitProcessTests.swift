import AsyncHTTPClient
import FerryTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The real binary behind a "proxy" on loopback: with 127.0.0.1 trusted, the address `X-Forwarded-For` names is the
/// client's, each with its own per-client limit; a client cannot pick its address when the peer is not trusted.
@Suite struct RateLimitProcessTests {
    @Test func eachForwardedClientHasItsOwnLimitBehindATrustedProxy() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(
            databasePath: directory.path + "/ferry.sqlite",
            extraEnvironment: [
                "FERRY_TRUSTED_PROXIES": "127.0.0.1", "FERRY_RATE_LIMIT_PER_CLIENT": "1/60s",
                "FERRY_RATE_LIMIT_GLOBAL": "off", "FERRY_RATE_LIMIT_PER_CREDENTIAL": "off",
            ])
        // Readiness is asked outside /api/v1, so the limits start untouched.
        do {
            try await ferry.start(client: client, readinessPath: "/health/ready")
        } catch {
            try await client.shutdown()
            throw error
        }
        defer { ferry.terminateInBackground() }
        func status(_ forwardedFor: String?) async throws -> (Int, String?) {
            let answer = try await ferry.rawRequest(
                client, "/api/v1/instance", headers: forwardedFor.map { [("x-forwarded-for", $0)] } ?? [])
            return (answer.status, answer.headers.first(name: "ratelimit-remaining"))
        }
        #expect(try await status("198.51.100.1") == (200, "0"))
        #expect(try await status("198.51.100.1").0 == 429, "the same forwarded client again")
        #expect(try await status("198.51.100.2").0 == 200, "another forwarded client has its own limit")
        #expect(try await status("198.51.100.2, 127.0.0.1").0 == 429, "the nearest untrusted hop is the client")
        #expect(try await status(nil).0 == 200, "the proxy's own requests are its own client")
        #expect(try await status(nil).0 == 429)
        try await client.shutdown()
    }
}
