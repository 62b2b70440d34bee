import Configuration
import FerryAPI
import FerryCore
import FerryDelivery
import FerryServer
import Foundation
import Testing

/// Reading settings: flags over `FERRY_*` environment variables over defaults, and clear errors for bad values.
@Suite struct ConfigurationTests {
    private func configuration(_ overrides: [String: String] = [:], _ environment: [String: String] = [:]) throws
        -> FerryConfiguration
    {
        try FerryConfiguration(reader: ConfigurationSources.reader(overrides: overrides, environment: environment))
    }

    @Test func defaultsMatchTheDocumentedTable() throws {
        let configuration = try configuration()
        #expect(configuration.listenHost == "127.0.0.1" && configuration.listenPort == 8080)
        #expect(configuration.sqlitePath == "ferry.sqlite")
        #expect(configuration.masterAPIKey == nil)
        #expect(configuration.delivery.retryPolicy.schedule == RetryPolicy.defaultSchedule)
        #expect(configuration.delivery.retryPolicy.maxRetries == 24)
        #expect(configuration.delivery.concurrency == 64)
        #expect(configuration.delivery.allowedTargetNetworks.isEmpty)
        #expect(
            configuration.delivery.connectTimeout == .seconds(5) && configuration.delivery.totalTimeout == .seconds(15))
        #expect(configuration.publicURL == "http://127.0.0.1:8080")
    }

    @Test func rateLimitsApplyAsHook0sUnlessListeningOnLoopbackOnly() throws {
        #expect(try configuration().rateLimits.isEmpty, "the embedded default's tour on 127.0.0.1 is not limited")
        #expect(try configuration(["listen": "[::1]:8080"]).rateLimits.isEmpty)
        let proxied = try configuration(["trusted_proxies": "127.0.0.1"]).rateLimits
        #expect(proxied.perCredential == RateLimit(burst: 20, period: 0.1), "behind a trusted proxy they apply")
        let public_ = try configuration(["listen": "0.0.0.0:8080"]).rateLimits
        #expect(public_ == RateLimits.hook0Defaults)
        let forcedConfiguration = try configuration([
            "rate_limits": "on", "rate_limit_per_credential": "5/1s", "rate_limit_global": "off",
            "trusted_proxies": "10.0.0.0/8",
        ])
        let forced = forcedConfiguration.rateLimits
        #expect(forced.global == nil && forced.perClient == RateLimit(burst: 200, period: 0.01))
        #expect(forced.perCredential == RateLimit(burst: 5, period: 1) && forcedConfiguration.trustedProxies.count == 1)
        #expect(try configuration(["listen": "0.0.0.0:8080", "rate_limits": "off"]).rateLimits.isEmpty)
        #expect(throws: ConfigurationError.self) { try configuration(["rate_limit_per_client": "fast"]) }
    }

    @Test func environmentOverridesDefaultsAndFlagsOverrideEnvironment() throws {
        let environment = [
            "FERRY_LISTEN": "127.0.0.1:9999", "FERRY_MAX_RETRIES": "3", "FERRY_RETRY_SCHEDULE": "1s,2m",
            "FERRY_ALLOWED_TARGET_NETWORKS": "127.0.0.0/8, 10.0.0.0/8", "FERRY_WORKER_CONCURRENCY": "8",
            "FERRY_DATABASE_URL": "sqlite:/tmp/x.sqlite",
        ]
        let fromEnvironment = try configuration([:], environment)
        #expect(fromEnvironment.listenPort == 9999)
        #expect(fromEnvironment.delivery.retryPolicy.maxRetries == 3)
        #expect(fromEnvironment.delivery.retryPolicy.schedule == [1, 120])
        #expect(fromEnvironment.delivery.allowedTargetNetworks.map(\.prefixLength) == [8, 8])
        #expect(fromEnvironment.delivery.allowedTargetNetworks.first?.contains(IPAddress.v4([127, 0, 0, 1])) == true)
        #expect(fromEnvironment.delivery.concurrency == 8)
        #expect(fromEnvironment.sqlitePath == "/tmp/x.sqlite")
        let flagged = try configuration(["listen": "127.0.0.1:7000", "max_retries": "5"], environment)
        #expect(flagged.listenPort == 7000)
        #expect(flagged.delivery.retryPolicy.maxRetries == 5)
        #expect(flagged.delivery.retryPolicy.schedule == [1, 120])
    }

    @Test(arguments: [
        ("FERRY_LISTEN", "nowhere"), ("FERRY_MAX_RETRIES", "-1"), ("FERRY_RETRY_SCHEDULE", "soon"),
        ("FERRY_ALLOWED_TARGET_NETWORKS", "10.0.0.0/33"), ("FERRY_MASTER_API_KEY", "not-a-uuid"),
        ("FERRY_WORKER_CONCURRENCY", "0"), ("FERRY_DELIVERY_TIMEOUT", "fast"), ("FERRY_LOG_LEVEL", "loud"),
    ])
    func rejectsBadValuesNamingTheSetting(variable: String, value: String) {
        #expect {
            _ = try configuration([:], [variable: value])
        } throws: { error in
            (error as? ConfigurationError).map { "FERRY_" + $0.setting.uppercased() == variable } ?? false
        }
    }

    @Test func everySettingHasADocumentedDefaultAndEnvironmentName() {
        let names = FerrySetting.all.map(\.environmentVariable)
        for required in [
            "FERRY_LISTEN", "FERRY_DATABASE_URL", "FERRY_MASTER_API_KEY", "FERRY_ALLOWED_TARGET_NETWORKS",
            "FERRY_RETRY_SCHEDULE", "FERRY_MAX_RETRIES", "FERRY_WORKER_CONCURRENCY",
        ] {
            #expect(names.contains(required))
        }
    }
}

/// `docs/configuration.md` carries the generated table of every setting, and the binary has a flag for each, so
/// the documentation cannot drift from the code.
@Suite struct ConfigurationDocumentationTests {
    @Test func configurationDocumentShowsTheGeneratedTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let document = try String(
            contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        #expect(
            document.contains(FerrySetting.referenceTable),
            "docs/configuration.md is stale: paste the output of `ferry config --reference`")
        for setting in FerrySetting.all {
            #expect(document.contains("| `\(setting.environmentVariable)` |"))
        }
    }

    @Test func everySettingIsAFlagOfTheBinary() async throws {
        let (status, help) = try await CommandLineTests.ferry(["serve", "--help"])
        #expect(status == 0)
        for setting in FerrySetting.all {
            #expect(help.contains(setting.flag + " "), "`ferry serve --help` lacks \(setting.flag)")
        }
    }
}
