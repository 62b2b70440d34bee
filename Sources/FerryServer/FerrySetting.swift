import FerryAPI
import Foundation

/// One configuration setting: its key (`ferry.worker_concurrency` ↔ `FERRY_WORKER_CONCURRENCY` ↔
/// `--worker-concurrency`), default and meaning. The README's table and `ferry config` are generated from this list.
public struct FerrySetting: Sendable {
    /// The dotted key after `ferry.`, e.g. `worker_concurrency`.
    public let name: String
    public let defaultValue: String
    public let meaning: String
    public let isSecret: Bool
    /// The part of Ferry the setting tunes (`server`, `database`, `delivery`, `retention`, `observability`,
    /// `accounts`).
    public let group: String

    /// The environment variable, e.g. `FERRY_WORKER_CONCURRENCY`.
    public var environmentVariable: String { "FERRY_" + name.uppercased() }
    /// The command-line flag, e.g. `--worker-concurrency`.
    public var flag: String { "--" + name.replacingOccurrences(of: "_", with: "-") }
    /// The configuration key, e.g. `ferry.worker_concurrency`.
    public var key: String { "ferry." + name }

    /// Every setting Ferry reads.
    public static let all: [FerrySetting] = [
        .init("listen", "127.0.0.1:8080", "Address (host:port) of the HTTP API."),
        .init(
            "database_url", "sqlite:ferry.sqlite",
            "`sqlite:PATH` (embedded) or `postgres://user:password@host:port/database` (scale-out)."),
        .init("database_max_connections", "20", "PostgreSQL connections per process (pool size)."),
        .init("auto_migrate", "true", "Apply pending database migrations at start (`false`: run `ferry migrate`)."),
        .init(
            "master_api_key", "", "A UUID bearer with rights on every organization; may create organizations.",
            secret: true),
        .init(
            "biscuit_private_key", "",
            "The Ed25519 root key signing every Biscuit token, as 64 hexadecimal characters (Hook0's "
                + "`BISCUIT_PRIVATE_KEY`); unset, one is generated on first start and kept in the database, so every "
                + "process and restart signs with the same key.", secret: true),
        .init("public_url", "", "Base URL used in pagination links; defaults to `http://` + the listen address."),
        .init(
            "dashboard", "true",
            "`false`: `ferry serve` and `ferry api` serve no web dashboard (only `/api/v1` and the health and "
                + "metrics routes). Its cookies are `Secure` when `public_url` is `https://`."),
        .init(
            "allowed_target_networks", "",
            "Comma-separated CIDRs exempt from the target-address guard, for every application."),
        .init(
            "allowed_target_networks_by_application", "",
            "CIDRs exempt from the target-address guard for one application only: "
                + "`APPLICATION_ID=CIDR,CIDR;APPLICATION_ID=CIDR`."),
        .init("https_only", "false", "Refuse `http://` targets: 422 on subscription writes, refused at delivery."),
        .init("retry_schedule", "3s,10s,3m,30m,1h,3h,5h,10h", "Delays before retry 1, 2, …; the last one repeats."),
        .init("max_retries", "24", "Retries after the first attempt."),
        .init("retry_jitter", "0.1", "Each retry delay is scaled by a random factor in 1 ± this ratio."),
        .init("worker_concurrency", "64", "Deliveries in flight per process."),
        .init("connect_timeout", "5s", "Time allowed to connect to a receiver."),
        .init("delivery_timeout", "15s", "Total time allowed for one delivery attempt (resolve, connect, send, read)."),
        .init("response_body_limit", "65536", "Bytes of a receiver's response body stored; the rest is dropped."),
        .init("lease", "60s", "How long a claimed delivery stays with its worker before another may take it."),
        .init("signature_versions", "v1", "X-Hook0-Signature versions to send: `v1`, `v0` or `v0,v1`."),
        .init(
            "group_commit", "true",
            "Write concurrent ingests in shared transactions, one fsync for many; `false` only to measure it."),
        .init(
            "max_request_body", "2097152",
            "Largest request body in bytes; larger ones get 400 `JsonPayload` (as Hook0) and nothing is stored."),
        .init(
            "request_body_timeout", "30s", "Time a client may take to send a request body; then 408, connection closed."
        ),
        .init("idle_timeout", "60s", "Keep-alive connections idle this long are closed."),
        .init(
            "request_head_timeout", "10s",
            "A new connection that has not sent a complete request head this long after connecting is closed."),
        .init("max_connections", "1024", "Open client connections per process; further ones wait in the accept queue."),
        .init(
            "max_connections_per_client", "256",
            "Open connections one client address may hold (further ones are closed at once), so one address cannot "
                + "take every connection; 0 for no cap. Behind a reverse proxy every client has the proxy's address: "
                + "raise it or set 0 there."),
        .init(
            "retention_days", "30",
            "Days events are kept (with their attempts and responses) unless their application sets its own; "
                + "events with a pending delivery are kept until it ends."),
        .init("retention_interval", "1h", "How often `ferry serve` and `ferry worker` delete expired events."),
        .init("log_level", "info", "trace, debug, info, notice, warning, error or critical."),
        .init("log_format", "text", "`text` (human-readable lines) or `json` (one JSON object per line), on stderr."),
        .init(
            "metrics_token", "",
            "Bearer token `GET /metrics` requires; while unset, the API port serves no `/metrics` at all "
                + "(scrape `metrics_listen` instead).", secret: true),
        .init(
            "metrics_listen", "",
            "Address (host:port) of a separate listener serving `/metrics` and `/health/*` (besides the API for "
                + "`ferry serve` and `ferry api`; the only HTTP of `ferry worker`); empty serves none. Keep it on a "
                + "private address: it asks for no token unless `metrics_token` is set."),
        .init(
            "metrics_tenant_series", "0",
            "How many application/event-type pairs get `ferry_events_ingested_total` series of their own; the rest "
                + "are counted under `application_id=\"other\"`. 0 keeps tenants out of the metrics."),
        .init(
            "health_check_key", "", "The `?key=` `GET /api/v1/health` requires; empty leaves it open.", secret: true),
        .init(
            "disable_registration", "false",
            "`true`: `POST /register` answers 410 (Hook0's `DISABLE_REGISTRATION`); accounts are then made with "
                + "`ferry users create` or by invitation."),
        .init("password_minimum_length", "12", "Fewest characters a new password may have (Hook0's default: 12)."),
        .init(
            "password_hash_cost", "15",
            "scrypt cost of new password hashes, as log2 N with r = 8 and p = 3 (15: 32 MiB and about 0.3 s of one "
                + "core per hash); from 10 to 20. Stored hashes keep their cost and are re-hashed at the next "
                + "sign-in after a change."),
        .init(
            "login_max_failures", "10",
            "Failed sign-ins one account may have within `login_failure_window`; then sign-in answers 429."),
        .init(
            "login_max_failures_per_address", "100",
            "Failed sign-ins one client address may have within `login_failure_window`; then sign-in answers 429."),
        .init("login_failure_window", "15m", "The window failed sign-ins are counted in."),
        .init(
            "smtp_url", "",
            "SMTP server for account mails: `smtp://user:password@host:587` (STARTTLS when offered; "
                + "`?tls=required` or `?tls=none`) or `smtps://…:465`. Unset: mails (with their links) are written "
                + "to the log.", secret: true),
        .init("smtp_from", "Ferry <ferry@localhost>", "The sender of account mails."),
        .init(
            "admin_email", "admin@localhost",
            "E-mail address of the administrator account the first start creates (its one-time password is "
                + "printed once)."),
    ]

    /// The markdown table of every setting that `docs/configuration.md` shows (`ferry config --reference`).
    public static var referenceTable: String {
        var lines = ["| variable | flag | default | meaning |", "|---|---|---|---|"]
        for setting in all {
            let defaultText = setting.defaultValue.isEmpty ? "(unset)" : "`\(setting.defaultValue)`"
            let secret = setting.isSecret ? " Secret: masked by `ferry config`, never logged." : ""
            lines.append(
                "| `\(setting.environmentVariable)` | `\(setting.flag)` | \(defaultText) | \(setting.meaning)\(secret) |"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The setting as `GET /api/v1/environment_variables` lists it (no setting is required: each has a default).
    public var documented: DocumentedSetting {
        DocumentedSetting(
            name: name, environmentVariable: environmentVariable, description: meaning,
            defaultValue: defaultValue.isEmpty ? nil : defaultValue, isSensitive: isSecret, isRequired: false,
            group: group)
    }

    init(_ name: String, _ defaultValue: String, _ meaning: String, secret: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.meaning = meaning
        self.isSecret = secret
        self.group = Self.groups.first { $0.value.contains(name) }?.key ?? "server"
    }

    /// Which group each setting belongs to.
    private static let groups: [String: Set<String>] = [
        "server": [
            "listen", "master_api_key", "biscuit_private_key", "public_url", "dashboard", "max_request_body",
            "request_body_timeout",
            "idle_timeout",
            "request_head_timeout", "max_connections", "max_connections_per_client", "health_check_key",
        ],
        "database": ["database_url", "database_max_connections", "auto_migrate", "group_commit"],
        "delivery": [
            "allowed_target_networks", "allowed_target_networks_by_application", "https_only", "retry_schedule",
            "max_retries", "retry_jitter", "worker_concurrency", "connect_timeout", "delivery_timeout",
            "response_body_limit", "lease", "signature_versions",
        ],
        "retention": ["retention_days", "retention_interval"],
        "accounts": [
            "disable_registration", "password_minimum_length", "password_hash_cost", "login_max_failures",
            "login_max_failures_per_address",
            "login_failure_window", "smtp_url", "smtp_from", "admin_email",
        ],
        "observability": ["log_level", "log_format", "metrics_token", "metrics_listen", "metrics_tenant_series"],
    ]
}
