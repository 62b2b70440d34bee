import FerryCore
import FerryDelivery
import FerryMail
import FerryPostgres
import Foundation
import Logging

/// Where Ferry keeps its data: an embedded SQLite file or a PostgreSQL server.
public enum DatabaseLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(url: String)

    /// Reads `sqlite:PATH` (also `sqlite://PATH`) or a `postgres://` URL, saying what is wrong otherwise.
    static func parse(_ text: String) -> Result<DatabaseLocation, SettingRefusal> {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else {
                return .failure(SettingRefusal("sqlite: needs a file, e.g. sqlite:ferry.sqlite"))
            }
            return .success(.sqlite(path: path))
        }
        let lowered = text.lowercased()
        guard lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") else {
            return .failure(SettingRefusal("expected sqlite:PATH or postgres://user:password@host:port/database"))
        }
        if let problem = PostgresURL.problem(text) {
            return .failure(SettingRefusal("not a PostgreSQL URL: " + problem))
        }
        return .success(.postgres(url: text))
    }
}

/// Every setting Ferry reads, each defined once here.
public enum Settings {
    // MARK: server
    public static let listen = Setting(
        "listen", "127.0.0.1:8080", .address, group: "server", for: .api, example: "127.0.0.1:8181",
        "Address (host:port) of the HTTP API.")
    public static let masterAPIKey = Setting(
        "master_api_key", "", .optionalUUID, group: "server", for: .api, display: .secret,
        example: "0b7f9d2e-4c1a-4e8b-9f3d-6a5c2b1e0d4f",
        "A UUID bearer with rights on every organization; may create organizations.")
    public static let biscuitPrivateKey = Setting(
        "biscuit_private_key", "", .optionalKey, group: "server", for: .servers, display: .secret,
        example: String(repeating: "ab", count: 32),
        "The Ed25519 root key signing every Biscuit token, as 64 hexadecimal characters (Hook0's "
            + "`BISCUIT_PRIVATE_KEY`); unset, one is generated on first start and kept in the database, so every "
            + "process and restart signs with the same key.")
    public static let publicURL = Setting(
        "public_url", "", .optionalText, group: "server", for: .api, example: "https://hooks.example.com",
        "Base URL used in pagination links; defaults to `http://` + the listen address.")
    public static let dashboard = Setting(
        "dashboard", "true", .flag, group: "server", for: .api, example: "false",
        "`false`: `ferry serve` and `ferry api` serve no web dashboard (only `/api/v1` and the health and "
            + "metrics routes). Its cookies are `Secure` when `public_url` is `https://`.")
    public static let maxRequestBody = Setting(
        "max_request_body", "2097152", .wholeNumber(1024...Int.max, "a whole number of bytes ≥ 1024"),
        group: "server", for: .api, example: "4096",
        "Largest request body in bytes; larger ones get 400 `JsonPayload` (as Hook0) and nothing is stored.")
    public static let ingestBatchMaxEvents = Setting(
        "ingest_batch_max_events", "100", .wholeNumber(1...10_000, "a whole number from 1 to 10000"),
        group: "server", for: .api, example: "500",
        "Most events one `POST /api/v1/event/batch` may carry (Ferry's batch ingest); more is 400 `JsonPayload`. "
            + "The whole batch must also fit in `max_request_body`.")
    public static let rateLimits = Setting(
        "rate_limits", "auto", .rateLimitMode, group: "server", for: .api, example: "on",
        "Hook0's API rate limits (`rate_limit_global`, `rate_limit_per_client`, `rate_limit_per_credential`; 429 "
            + "`RateLimited` with `Retry-After`, `RateLimit-Limit`/`-Remaining`/`-Reset` on every answer): `auto` "
            + "applies them unless `listen` is a loopback address and no `trusted_proxies` are set (the embedded "
            + "default's tour), `on` always, `off` never. Each process keeps its "
            + "own counts, as Hook0's do.")
    public static let rateLimitGlobal = Setting(
        "rate_limit_global", "2000/1ms", .rateLimit, group: "server", for: .api, example: "5000/1ms",
        "All `/api/v1` requests of the process together: BURST requests at once, then one more each PERIOD, or "
            + "`off` (Hook0's default: 2000/1ms, about 1,000 per second).")
    public static let rateLimitPerClient = Setting(
        "rate_limit_per_client", "200/10ms", .rateLimit, group: "server", for: .api, example: "400/5ms",
        "Requests of one client address (behind `trusted_proxies`, the address they forward for), as "
            + "`rate_limit_global` reads it (Hook0's default: 200/10ms, about 100 per second).")
    public static let rateLimitPerCredential = Setting(
        "rate_limit_per_credential", "20/100ms", .rateLimit, group: "server", for: .api, example: "100/10ms",
        "Requests of one credential: a Biscuit token's root (its attenuations share it), an application secret's "
            + "application, a legacy service token's organization; the master key is exempt (Hook0's default: "
            + "20/100ms, about 10 per second).")
    public static let trustedProxies = Setting(
        "trusted_proxies", "", .networks, group: "server", for: .api, example: "10.0.0.0/8,127.0.0.1",
        "Reverse proxies (CIDRs) believed about the client they forward for (`Forwarded`, else "
            + "`X-Forwarded-For`, read from the nearest hop back to the first address outside these): the address "
            + "rate limits, sign-in throttling and events' `ip` use. Empty: the peer's address, always.")
    public static let requestBodyTimeout = Setting(
        "request_body_timeout", "30s", .duration, group: "server", for: .api, example: "45s",
        "Time a client may take to send a request body; then 408, connection closed.")
    public static let idleTimeout = Setting(
        "idle_timeout", "60s", .duration, group: "server", for: .api, example: "2m",
        "Keep-alive connections idle this long are closed.")
    public static let requestHeadTimeout = Setting(
        "request_head_timeout", "10s", .duration, group: "server", for: .api, example: "12s",
        "A new connection that has not sent a complete request head this long after connecting is closed.")
    public static let maxConnections = Setting(
        "max_connections", "1024", .wholeNumber(1...Int.max, "a whole number ≥ 1"), group: "server", for: .api,
        example: "512", "Open client connections per process; further ones wait in the accept queue.")
    public static let maxConnectionsPerClient = Setting(
        "max_connections_per_client", "256", .wholeNumber(0...Int.max, "a whole number ≥ 0 (0: no cap)"),
        group: "server", for: .api, example: "0",
        "Open connections one client address may hold (further ones are closed at once), so one address cannot "
            + "take every connection; 0 for no cap. Behind a reverse proxy every client has the proxy's address: "
            + "raise it or set 0 there.")
    public static let healthCheckKey = Setting(
        "health_check_key", "", .optionalText, group: "server", for: .servers, display: .secret,
        example: "probe-key", "The `?key=` `GET /api/v1/health` requires; empty leaves it open.")

    // MARK: database
    public static let databaseURL = Setting(
        "database_url", "sqlite:ferry.sqlite", SettingKind(parse: DatabaseLocation.parse), group: "database",
        for: .everyCommand, display: .urlWithCredentials, example: "sqlite:other.sqlite",
        "`sqlite:PATH` (embedded) or `postgres://user:password@host:port/database` (scale-out).")
    public static let databaseMaxConnections = Setting(
        "database_max_connections", "20", .wholeNumber(2...Int.max, "a whole number ≥ 2"), group: "database",
        for: .servers, example: "8", "PostgreSQL connections per process (pool size).")
    public static let databaseConnectTimeout = Setting(
        "database_connect_timeout", "10s", .duration, group: "database", for: .everyCommand, example: "3s",
        "How long a starting process tries to reach PostgreSQL before it gives up and exits non-zero (once "
            + "running, an outage answers 503 until the database is back).")
    public static let autoMigrate = Setting(
        "auto_migrate", "true", .flag, group: "database", for: .servers, example: "false",
        "Apply pending database migrations at start (`false`: run `ferry migrate`).")
    public static let groupCommit = Setting(
        "group_commit", "true", .flag, group: "database", for: .servers, example: "false",
        "Write concurrent ingests in shared transactions, one fsync for many; `false` only to measure it.")

    // MARK: delivery
    public static let allowedTargetNetworks = Setting(
        "allowed_target_networks", "", .networks, group: "delivery", for: .servers, example: "127.0.0.0/8,10.0.0.0/8",
        "Comma-separated CIDRs exempt from the target-address guard, for every application.")
    public static let allowedTargetNetworksByApplication = Setting(
        "allowed_target_networks_by_application", "", .networksByApplication, group: "delivery", for: .servers,
        example: "5d1f3a7c-2b4e-4c6a-8e9f-0a1b2c3d4e5f=10.1.0.0/16",
        "CIDRs exempt from the target-address guard for one application only: "
            + "`APPLICATION_ID=CIDR,CIDR;APPLICATION_ID=CIDR`.")
    public static let httpsOnly = Setting(
        "https_only", "false", .flag, group: "delivery", for: .servers, example: "true",
        "Refuse `http://` targets: 422 on subscription writes, refused at delivery.")
    public static let retrySchedule = Setting(
        "retry_schedule", "3s,10s,3m,30m,1h,3h,5h,10h", .durations, group: "delivery", for: .servers,
        example: "1s,2m", "Delays before retry 1, 2, …; the last one repeats.")
    public static let maxRetries = Setting(
        "max_retries", "24", .wholeNumber(0...Int.max, "a whole number ≥ 0"), group: "delivery", for: .servers,
        example: "3", "Retries after the first attempt.")
    public static let retryJitter = Setting(
        "retry_jitter", "0.1", .ratio, group: "delivery", for: .servers, example: "0.25",
        "Each retry delay is scaled by a random factor in 1 ± this ratio.")
    public static let disableFailingAfter = Setting(
        "disable_failing_after", "5d", .durationOrNever, group: "delivery", for: .servers, example: "12h",
        "Disable a subscription whose every attempt has failed for this long (0: never).")
    public static let circuitBreakerThreshold = Setting(
        "circuit_breaker_threshold", "\(CircuitBreakerPolicy.defaultFailureThreshold)",
        .wholeNumber(0...1_000_000, "a whole number ≥ 0"), group: "delivery", for: .worker, example: "5",
        "Consecutive failed attempts that open a subscription's circuit: its attempts then wait, uncounted, for "
            + "one probe (0: never).")
    public static let circuitBreakerOpenFor = Setting(
        "circuit_breaker_open_for", DurationText.format(CircuitBreakerPolicy.defaultOpenFor), .duration,
        group: "delivery", for: .worker, example: "2m",
        "How long an opened circuit waits before its first probe; each failed probe doubles the wait (at most "
            + "\(DurationText.format(CircuitBreakerPolicy.maximumOpenFor))).")
    public static let workerConcurrency = Setting(
        "worker_concurrency", "64", .wholeNumber(1...Int.max, "a whole number ≥ 1"), group: "delivery",
        for: .worker, example: "8", "Deliveries in flight per process.")
    public static let connectTimeout = Setting(
        "connect_timeout", "5s", .duration, group: "delivery", for: .servers, example: "2s",
        "Time allowed to connect to a receiver.")
    public static let deliveryTimeout = Setting(
        "delivery_timeout", "15s", .duration, group: "delivery", for: .servers, example: "20s",
        "Total time allowed for one delivery attempt (resolve, connect, send, read).")
    public static let responseBodyLimit = Setting(
        "response_body_limit", "65536", .wholeNumber(0...Int.max, "a whole number of bytes"), group: "delivery",
        for: .servers, example: "1024", "Bytes of a receiver's response body stored; the rest is dropped.")
    public static let lease = Setting(
        "lease", "60s", .duration, group: "delivery", for: .worker, example: "90s",
        "How long a claimed delivery stays with its worker before another may take it.")
    public static let signatureVersions = Setting(
        "signature_versions", "v1", .choices(["v0", "v1"]), group: "delivery", for: .servers, example: "v0,v1",
        "X-Hook0-Signature versions to send: `v1`, `v0` or `v0,v1`.")

    // MARK: retention
    public static let retentionDays = Setting(
        "retention_days", "30", .wholeNumber(1...36_500, "a whole number of days from 1 to 36500"),
        group: "retention", for: .servers, example: "7",
        "Days events are kept (with their attempts and responses) unless their application sets its own; "
            + "events with a pending delivery are kept until it ends.")
    public static let retentionInterval = Setting(
        "retention_interval", "1h", .duration, group: "retention", for: .worker, example: "10m",
        "How often `ferry serve` and `ferry worker` delete expired events.")

    // MARK: observability
    public static let logLevel = Setting(
        "log_level", "info", .oneOf(Logger.Level.self), group: "observability",
        for: .everyCommand, example: "debug", "trace, debug, info, notice, warning, error or critical.")
    public static let logFormat = Setting(
        "log_format", "text", .oneOf(LogFormat.self), group: "observability",
        for: .everyCommand, example: "json",
        "`text` (human-readable lines) or `json` (one JSON object per line), on stderr.")
    public static let metricsToken = Setting(
        "metrics_token", "", .optionalText, group: "observability", for: .api, display: .secret,
        example: "scrape-token",
        "Bearer token `GET /metrics` requires; while unset, the API port serves no `/metrics` at all "
            + "(scrape `metrics_listen` instead).")
    public static let metricsListen = Setting(
        "metrics_listen", "", .optionalAddress, group: "observability", for: .servers, example: "127.0.0.1:9464",
        "Address (host:port) of a separate listener serving `/metrics` and `/health/*` (besides the API for "
            + "`ferry serve` and `ferry api`; the only HTTP of `ferry worker`); empty serves none. Keep it on a "
            + "private address: it asks for no token unless `metrics_token` is set.")
    public static let metricsTenantSeries = Setting(
        "metrics_tenant_series", "0", .wholeNumber(0...Int.max, "a whole number ≥ 0"), group: "observability",
        for: .servers, example: "100",
        "How many application/event-type pairs get `ferry_events_ingested_total` series of their own; the rest "
            + "are counted under `application_id=\"other\"`. 0 keeps tenants out of the metrics.")

    // MARK: accounts
    public static let disableRegistration = Setting(
        "disable_registration", "false", .flag, group: "accounts", for: .api, example: "true",
        "`true`: `POST /register` answers 410 (Hook0's `DISABLE_REGISTRATION`); accounts are then made with "
            + "`ferry users create` or by invitation.")
    public static let passwordMinimumLength = Setting(
        "password_minimum_length", "12", .wholeNumber(8...100, "a whole number from 8 to 100"), group: "accounts",
        for: [.api, .users], example: "16", "Fewest characters a new password may have (Hook0's default: 12).")
    public static let passwordHashCost = Setting(
        "password_hash_cost", "15", .wholeNumber(10...20, "a whole number from 10 to 20"), group: "accounts",
        for: [.api, .users], example: "12",
        "scrypt cost of new password hashes, as log2 N with r = 8 and p = 3 (15: 32 MiB and about 0.3 s of one "
            + "core per hash); from 10 to 20. Stored hashes keep their cost and are re-hashed at the next "
            + "sign-in after a change.")
    public static let loginMaxFailures = Setting(
        "login_max_failures", "10", .wholeNumber(1...Int.max, "a whole number ≥ 1"), group: "accounts", for: .api,
        example: "5", "Failed sign-ins one account may have within `login_failure_window`; then sign-in answers 429.")
    public static let loginMaxFailuresPerAddress = Setting(
        "login_max_failures_per_address", "100", .wholeNumber(1...Int.max, "a whole number ≥ 1"), group: "accounts",
        for: .api, example: "50",
        "Failed sign-ins one client address may have within `login_failure_window`; then sign-in answers 429.")
    public static let loginFailureWindow = Setting(
        "login_failure_window", "15m", .duration, group: "accounts", for: .api, example: "30m",
        "The window failed sign-ins are counted in.")
    public static let smtpURL = Setting(
        "smtp_url", "",
        SettingKind<SMTPEndpoint?>(parse: { text in
            if text.isEmpty { return .success(nil) }
            do {
                return .success(try SMTPEndpoint(url: text))
            } catch {
                return .failure(SettingRefusal(String(describing: error)))
            }
        }), group: "accounts", for: .worker, display: .secret, example: "smtp://127.0.0.1:2525?tls=none",
        "SMTP server for account mails: `smtp://user:password@host:587` (STARTTLS when offered; "
            + "`?tls=required` or `?tls=none`) or `smtps://…:465`. Unset: mails (with their links) are written "
            + "to the log.")
    public static let smtpFrom = Setting(
        "smtp_from", "Ferry <ferry@localhost>",
        SettingKind<String>(
            parse: { text in
                guard (try? SMTPTransport.address(text)).map(EmailAddress.isValid) == true else {
                    return .failure(SettingRefusal("expected an address like Ferry <ferry@example.com>"))
                }
                return .success(text)
            }, format: { $0 }), group: "accounts", for: .worker, example: "Hooks <hooks@example.com>",
        "The sender of account mails.")
    public static let adminEmail = Setting(
        "admin_email", "admin@localhost", .emailAddress, group: "accounts", for: .api, example: "root@example.com",
        "E-mail address of the administrator account the first start creates (its one-time password is "
            + "printed once).")

    /// Every setting, in the order `ferry config` and `docs/configuration.md` list them.
    static let all: [FerrySetting] = [
        listen.described, databaseURL.described, databaseMaxConnections.described, databaseConnectTimeout.described,
        autoMigrate.described, masterAPIKey.described, biscuitPrivateKey.described, publicURL.described,
        dashboard.described, allowedTargetNetworks.described, allowedTargetNetworksByApplication.described,
        httpsOnly.described, retrySchedule.described, maxRetries.described, retryJitter.described,
        disableFailingAfter.described, circuitBreakerThreshold.described, circuitBreakerOpenFor.described,
        workerConcurrency.described, connectTimeout.described, deliveryTimeout.described,
        responseBodyLimit.described, lease.described, signatureVersions.described, groupCommit.described,
        maxRequestBody.described, ingestBatchMaxEvents.described, rateLimits.described, rateLimitGlobal.described,
        rateLimitPerClient.described, rateLimitPerCredential.described, trustedProxies.described,
        requestBodyTimeout.described, idleTimeout.described,
        requestHeadTimeout.described,
        maxConnections.described, maxConnectionsPerClient.described, retentionDays.described,
        retentionInterval.described, logLevel.described, logFormat.described, metricsToken.described,
        metricsListen.described, metricsTenantSeries.described, healthCheckKey.described,
        disableRegistration.described, passwordMinimumLength.described, passwordHashCost.described,
        loginMaxFailures.described, loginMaxFailuresPerAddress.described, loginFailureWindow.described,
        smtpURL.described, smtpFrom.described, adminEmail.described,
    ]
}
