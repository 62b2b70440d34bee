import FerryAPI
import FerryCore
import FerryDelivery
import FerryIdentity
import Foundation
import Logging

/// Text rendering of the effective configuration for `ferry config` (secrets masked).
public enum EffectiveConfiguration {
    public static func describe(_ configuration: FerryConfiguration) -> String {
        let delivery = configuration.delivery
        let rows: [(String, String)] = [
            ("listen", "\(configuration.listenHost):\(configuration.listenPort)"),
            ("database_url", DatabaseURLText.masked(configuration.databaseURL)),
            ("database_max_connections", String(configuration.databaseMaxConnections)),
            ("auto_migrate", String(configuration.autoMigrate)),
            ("dashboard", String(configuration.dashboard)),
            ("master_api_key", configuration.masterAPIKey == nil ? "(unset)" : "********"),
            ("public_url", configuration.publicURL),
            ("allowed_target_networks", delivery.allowedTargetNetworks.map(\.description).joined(separator: ",")),
            (
                "allowed_target_networks_by_application",
                delivery.allowedTargetNetworksByApplication.sorted { $0.key.uuidString < $1.key.uuidString }
                    .map { "\($0.key.uuidString.lowercased())=\($0.value.map(\.description).joined(separator: ","))" }
                    .joined(separator: ";")
            ),
            ("https_only", String(delivery.httpsOnly)),
            ("retry_schedule", delivery.retryPolicy.schedule.map(DurationText.format).joined(separator: ",")),
            ("max_retries", String(delivery.retryPolicy.maxRetries)),
            ("retry_jitter", String(delivery.retryPolicy.jitterRatio)),
            ("worker_concurrency", String(delivery.concurrency)),
            ("connect_timeout", "\(delivery.connectTimeout)"),
            ("delivery_timeout", "\(delivery.totalTimeout)"),
            ("response_body_limit", String(delivery.responseBodyLimit)),
            ("lease", "\(delivery.lease)"),
            ("signature_versions", delivery.signatureVersions.map(\.rawValue).sorted().joined(separator: ",")),
            ("group_commit", String(configuration.groupCommit)),
            ("max_request_body", String(configuration.maxRequestBodyBytes)),
            ("request_body_timeout", "\(configuration.requestBodyTimeout)"),
            ("idle_timeout", "\(configuration.idleTimeout)"),
            ("request_head_timeout", "\(configuration.requestHeadTimeout)"),
            ("max_connections", String(configuration.maxConnections)),
            ("max_connections_per_client", String(configuration.maxConnectionsPerClient)),
            ("retention_days", String(configuration.retentionDays)),
            ("retention_interval", "\(configuration.retentionInterval)"),
            ("log_level", configuration.logLevel.rawValue),
            ("log_format", configuration.logFormat.rawValue),
            ("metrics_token", configuration.metricsToken == nil ? "(unset)" : "********"),
            ("biscuit_private_key", configuration.biscuitPrivateKey == nil ? "(unset)" : "********"),
            ("health_check_key", configuration.healthCheckKey == nil ? "(unset)" : "********"),
            ("metrics_listen", configuration.metricsListen.map { "\($0.host):\($0.port)" } ?? ""),
            ("metrics_tenant_series", "\(configuration.metricsTenantSeries)"),
            ("disable_registration", String(configuration.accounts.registrationDisabled)),
            ("password_minimum_length", String(configuration.accounts.passwordPolicy.minimumLength)),
            ("password_hash_cost", String(configuration.accounts.passwordHasher.cost.logN)),
            ("login_max_failures", String(configuration.accounts.maxLoginFailuresPerAccount)),
            ("login_max_failures_per_address", String(configuration.accounts.maxLoginFailuresPerAddress)),
            (
                "login_failure_window",
                DurationText.format(Double(configuration.accounts.loginFailureWindow.components.seconds))
            ),
            ("smtp_url", configuration.smtp == nil ? "(unset)" : "********"),
            ("smtp_from", configuration.smtpFrom),
            ("admin_email", configuration.adminEmail),
        ]
        return rows.map { "FERRY_\($0.0.uppercased())=\($0.1)" }.joined(separator: "\n")
    }
}

/// Database URLs as shown to people: the password replaced by `********`.
enum DatabaseURLText {
    static func masked(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "********"
        return components.string ?? url
    }
}
