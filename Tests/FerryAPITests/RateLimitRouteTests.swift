import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import FerryAPI

/// The API's rate limits through the router: per credential (an application secret here), with the master key
/// exempt, and globally; a refused request is 429 `RateLimited` with `Retry-After`, and every answer says what is
/// left in `RateLimit-*`.
@Suite struct RateLimitRouteTests {
    static func configuration(_ limits: RateLimits) -> APIConfiguration {
        var configuration = ControllerTests.configuration()
        configuration.rateLimits = limits
        return configuration
    }

    static func header(_ answer: RouterHarness.Answer, _ name: String) -> String? {
        HTTPField.Name(name).flatMap { answer.headers[$0] }
    }

    @Test func aCredentialPastItsBurstIsRefusedUntilReplenishedAndTheMasterKeyIsExempt() async throws {
        try await ControllerTests.withStore { store in
            let organization = try await store.createOrganization(name: "acme")
            let (application, secret) = try await store.createApplication(organizationID: organization.id, name: "app")
            let (other, otherSecret) = try await store.createApplication(organizationID: organization.id, name: "b")
            let limits = RateLimits(perCredential: RateLimit(burst: 2, period: 60))
            let router = buildRouter(store: store, configuration: Self.configuration(limits))
            try await RouterHarness.test(router) { client in
                let path = "/api/v1/event_types?application_id=\(application.id.lowercased)"
                let first = try await RouterHarness.call(client, .get, path, token: secret.token.lowercased)
                let second = try await RouterHarness.call(client, .get, path, token: secret.token.lowercased)
                let third = try await RouterHarness.call(client, .get, path, token: secret.token.lowercased)
                #expect(first.status == 200 && second.status == 200)
                #expect(
                    Self.header(first, "ratelimit-limit") == "2" && Self.header(first, "ratelimit-remaining") == "1")
                #expect(Self.header(second, "ratelimit-remaining") == "0")
                #expect(third.status == 429 && third.string("id") == "RateLimited", "\(third.json)")
                let retryAfter = Self.header(third, "retry-after").flatMap(Int.init) ?? 0
                // One request comes back a period after the first was admitted (less the time the calls took).
                #expect((1...60).contains(retryAfter), "Retry-After \(retryAfter)")
                // Another credential has its own limit; the master key has none.
                let otherPath = "/api/v1/event_types?application_id=\(other.id.lowercased)"
                #expect(
                    try await RouterHarness.call(client, .get, otherPath, token: otherSecret.token.lowercased).status
                        == 200)
                for _ in 0..<5 {
                    let master = try await RouterHarness.call(client, .get, path, token: RouterHarness.masterKey)
                    #expect(master.status == 200)
                }
            }
        }
    }

    @Test func theGlobalLimitHoldsEveryRequestTogether() async throws {
        try await ControllerTests.withStore { store in
            let router = buildRouter(
                store: store, configuration: Self.configuration(RateLimits(global: RateLimit(burst: 3, period: 60))))
            try await RouterHarness.test(router) { client in
                var statuses: [Int] = []
                for _ in 0..<4 {
                    statuses.append(try await RouterHarness.call(client, .get, "/api/v1/instance").status)
                }
                #expect(statuses == [200, 200, 200, 429])
            }
        }
    }

    @Test func withoutLimitsNoRateLimitHeadersAreSent() async throws {
        try await ControllerTests.withStore { store in
            let router = buildRouter(store: store, configuration: ControllerTests.configuration())
            try await RouterHarness.test(router) { client in
                let answer = try await RouterHarness.call(client, .get, "/api/v1/instance")
                #expect(answer.status == 200 && Self.header(answer, "ratelimit-limit") == nil)
            }
        }
    }
}
