import FerryCore
import GRDB

/// Ferry's SQLite schema, as numbered GRDB migrations applied at start-up.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001_initial") { db in
            for statement in initialSchema {
                try db.execute(sql: statement)
            }
        }
        migrator.registerMigration("0002_application_retention") { db in
            try db.execute(sql: "ALTER TABLE application ADD COLUMN retention_days INTEGER")
        }
        migrator.registerMigration("0003_server_key") { db in
            try db.execute(
                sql: "CREATE TABLE server_key (name TEXT PRIMARY KEY, value BLOB NOT NULL, created_at INTEGER NOT NULL)"
            )
        }
        migrator.registerMigration("0004_people") { db in
            for statement in peopleSchema { try db.execute(sql: statement) }
        }
        migrator.registerMigration("0005_denied_block") { db in
            try db.execute(
                sql: """
                    CREATE TABLE denied_block (
                        revocation_id TEXT PRIMARY KEY, service_token_id TEXT NOT NULL, created_at INTEGER NOT NULL)
                    """)
        }
        migrator.registerMigration("0006_service_token_use") { db in
            try db.execute(sql: "ALTER TABLE service_token ADD COLUMN created_by TEXT")
            try db.execute(sql: "ALTER TABLE service_token ADD COLUMN last_used_at INTEGER")
        }
        migrator.registerMigration("0007_response_request") { db in
            try db.execute(sql: "ALTER TABLE response ADD COLUMN request_method TEXT")
            try db.execute(sql: "ALTER TABLE response ADD COLUMN request_url TEXT")
            try db.execute(sql: "ALTER TABLE response ADD COLUMN request_headers TEXT")
        }
        migrator.registerMigration("0008_daily_tally") { db in
            for statement in dailyTallySchema { try db.execute(sql: statement) }
            try backfillDailyTallies(db)
        }
        migrator.registerMigration("0009_subscription_relayed") { db in
            try db.execute(sql: "ALTER TABLE subscription ADD COLUMN relayed INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("0010_subscription_disabling") { db in
            try db.execute(sql: "ALTER TABLE subscription ADD COLUMN disabled_reason TEXT")
            try db.execute(sql: "ALTER TABLE subscription ADD COLUMN disabled_at INTEGER")
        }
        migrator.registerMigration("0011_subscription_failing_since") { db in
            try db.execute(sql: "ALTER TABLE subscription ADD COLUMN failing_since INTEGER")
        }
        migrator.registerMigration("0012_subscription_retry_override") { db in
            try db.execute(sql: "ALTER TABLE subscription ADD COLUMN retry_override TEXT")
        }
        migrator.registerMigration("0013_subscription_circuit") { db in
            try db.execute(sql: "ALTER TABLE subscription ADD COLUMN circuit_opened_at INTEGER")
            try db.execute(sql: "ALTER TABLE subscription ADD COLUMN circuit_probe_at INTEGER")
            try db.execute(
                sql:
                    "CREATE INDEX subscription_circuit ON subscription(circuit_probe_at) WHERE circuit_probe_at IS NOT NULL"
            )
        }
        migrator.registerMigration("0014_subscription_signing_keys") { db in
            for column in [
                "ed25519_private_key TEXT", "previous_secret TEXT", "previous_ed25519_private_key TEXT",
                "previous_secret_expires_at INTEGER",
            ] {
                try db.execute(sql: "ALTER TABLE subscription ADD COLUMN " + column)
            }
        }
        migrator.registerMigration("0015_subscription_ordered") { db in
            try db.execute(sql: "ALTER TABLE subscription ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0")
            try db.execute(sql: "CREATE INDEX subscription_ordered ON subscription(id) WHERE ordered = 1")
        }
        migrator.registerMigration("0016_organization_operational_application") { db in
            try db.execute(sql: "ALTER TABLE organization ADD COLUMN operational_application_id TEXT")
        }
        migrator.registerMigration("0017_event_type_payload_schema") { db in
            try db.execute(sql: "ALTER TABLE event_type ADD COLUMN payload_schema TEXT")
        }
        return migrator
    }

    /// The daily tallies (`DailyTally`), one row per application, day, measure and latency bucket, and the
    /// indexes of the delivery log's failed and given-up views and of an application's queue.
    private static let dailyTallySchema = [
        """
        CREATE TABLE daily_tally (
            application_id TEXT NOT NULL, day INTEGER NOT NULL, measure TEXT NOT NULL, bucket INTEGER NOT NULL,
            amount INTEGER NOT NULL, PRIMARY KEY (application_id, day, measure, bucket)) WITHOUT ROWID
        """,
        """
        CREATE INDEX request_attempt_failed ON request_attempt(application_id, created_at DESC, id DESC)
        WHERE failed_at IS NOT NULL
        """,
        """
        CREATE INDEX request_attempt_unfinished ON request_attempt(application_id, due_at, claim_token)
        WHERE failed_at IS NULL AND succeeded_at IS NULL
        """,
    ]

    /// Tallies what a database kept before the tallies existed: its events, and the attempts that were sent and
    /// ended (an attempt cancelled unsent has no response) with their latency, on the days `DailyTally` gives them.
    static func backfillDailyTallies(_ db: Database) throws {
        var tallies: [DailyTallyKey: Int] = [:]
        let events = try Row.fetchCursor(db, sql: "SELECT application_id, received_at FROM event")
        while let row = try events.next() {
            let day = DailyTally.day(of: SQLValues.date(row, "received_at"))
            tallies[
                DailyTallyKey(application: row["application_id"], day: day, measure: .events, bucket: 0), default: 0] +=
                1
        }
        let attempts = try Row.fetchCursor(
            db,
            sql: """
                SELECT ra.application_id, COALESCE(ra.succeeded_at, ra.failed_at) AS ended_at,
                    ra.succeeded_at IS NOT NULL AS succeeded, r.elapsed_ms
                FROM request_attempt ra JOIN response r ON r.id = ra.response_id
                WHERE ra.succeeded_at IS NOT NULL OR ra.failed_at IS NOT NULL
                """)
        while let row = try attempts.next() {
            let application: String = row["application_id"]
            let day = DailyTally.day(of: SQLValues.date(row, "ended_at"))
            let measure: DailyTally.Measure = row["succeeded"] ? .succeeded : .failed
            tallies[DailyTallyKey(application: application, day: day, measure: measure, bucket: 0), default: 0] += 1
            if let elapsed: Int = row["elapsed_ms"] {
                let bucket = DailyTally.latencyBucket(milliseconds: elapsed)
                tallies[
                    DailyTallyKey(application: application, day: day, measure: .latency, bucket: bucket), default: 0] +=
                    1
            }
        }
        for (key, amount) in tallies {
            try db.execute(
                sql: "INSERT INTO daily_tally (application_id, day, measure, bucket, amount) VALUES (?, ?, ?, ?, ?)",
                arguments: [key.application, key.day, key.measure.rawValue, key.bucket, amount])
        }
    }

    /// One tally's identity while backfilling.
    private struct DailyTallyKey: Hashable {
        var application: String
        var day: Int
        var measure: DailyTally.Measure
        var bucket: Int
    }

    /// Accounts, memberships, invitations, session tokens, sign-in failures and the mail outbox.
    private static let peopleSchema = [
        """
        CREATE TABLE user_account (
            id TEXT PRIMARY KEY, email TEXT NOT NULL, email_canonical TEXT NOT NULL UNIQUE,
            first_name TEXT NOT NULL, last_name TEXT NOT NULL, password_hash TEXT NOT NULL,
            created_at INTEGER NOT NULL, email_verified_at INTEGER, disabled_at INTEGER, last_login_at INTEGER)
        """,
        """
        CREATE TABLE membership (
            organization_id TEXT NOT NULL REFERENCES organization(id), user_id TEXT NOT NULL REFERENCES user_account(id),
            role TEXT NOT NULL CHECK (role IN ('editor', 'viewer')), created_at INTEGER NOT NULL,
            PRIMARY KEY (organization_id, user_id))
        """,
        "CREATE INDEX membership_user ON membership(user_id)",
        """
        CREATE TABLE invitation (
            id TEXT PRIMARY KEY, organization_id TEXT NOT NULL REFERENCES organization(id), email TEXT NOT NULL,
            email_canonical TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
            secret_hash BLOB NOT NULL UNIQUE, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
            accepted_at INTEGER, UNIQUE (organization_id, email_canonical))
        """,
        """
        CREATE TABLE session_token (
            lookup_hash BLOB PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NOT NULL REFERENCES user_account(id),
            session_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, ended_at INTEGER,
            rotated INTEGER NOT NULL DEFAULT 0)
        """,
        "CREATE INDEX session_token_session ON session_token(user_id, session_id)",
        "CREATE TABLE spent_mail_token (lookup_hash BLOB PRIMARY KEY, spent_at INTEGER NOT NULL)",
        "CREATE TABLE throttle_event (key TEXT NOT NULL, happened_at INTEGER NOT NULL)",
        "CREATE INDEX throttle_event_key ON throttle_event(key, happened_at)",
        """
        CREATE TABLE mail_outbox (
            id TEXT PRIMARY KEY, recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
            created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, failed_attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT, sent_at INTEGER)
        """,
        "CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at) WHERE sent_at IS NULL",
    ]

    // Times are INTEGER microseconds since the Unix epoch; ids are lowercase UUID text; maps are JSON text.
    private static let initialSchema = [
        """
        CREATE TABLE organization (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL)
        """,
        """
        CREATE TABLE application (
            id TEXT PRIMARY KEY, organization_id TEXT NOT NULL REFERENCES organization(id),
            name TEXT NOT NULL, created_at INTEGER NOT NULL, deleted_at INTEGER)
        """,
        "CREATE INDEX application_organization ON application(organization_id)",
        """
        CREATE TABLE application_secret (
            token TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES application(id),
            name TEXT, created_at INTEGER NOT NULL, deleted_at INTEGER)
        """,
        "CREATE INDEX application_secret_application ON application_secret(application_id)",
        """
        CREATE TABLE service_token (
            id TEXT PRIMARY KEY, organization_id TEXT NOT NULL REFERENCES organization(id),
            name TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE, display_hint TEXT NOT NULL,
            created_at INTEGER NOT NULL, revoked_at INTEGER)
        """,
        """
        CREATE TABLE event_type (
            application_id TEXT NOT NULL REFERENCES application(id), name TEXT NOT NULL,
            service TEXT NOT NULL, resource_type TEXT NOT NULL, verb TEXT NOT NULL,
            created_at INTEGER NOT NULL, deactivated_at INTEGER, PRIMARY KEY (application_id, name))
        """,
        """
        CREATE TABLE subscription (
            id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES application(id),
            is_enabled INTEGER NOT NULL, description TEXT, secret TEXT NOT NULL,
            metadata TEXT NOT NULL, labels TEXT NOT NULL,
            target_method TEXT NOT NULL, target_url TEXT NOT NULL, target_headers TEXT NOT NULL,
            created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER)
        """,
        "CREATE INDEX subscription_application ON subscription(application_id, created_at)",
        """
        CREATE TABLE subscription_event_type (
            subscription_id TEXT NOT NULL REFERENCES subscription(id), event_type_name TEXT NOT NULL,
            PRIMARY KEY (subscription_id, event_type_name))
        """,
        "CREATE INDEX subscription_event_type_name ON subscription_event_type(event_type_name)",
        """
        CREATE TABLE event (
            id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES application(id),
            event_type TEXT NOT NULL, payload BLOB NOT NULL, payload_content_type TEXT NOT NULL, ip TEXT,
            metadata TEXT NOT NULL, labels TEXT NOT NULL, occurred_at INTEGER NOT NULL, received_at INTEGER NOT NULL)
        """,
        "CREATE INDEX event_application_received ON event(application_id, received_at)",
        """
        CREATE TABLE response (
            id TEXT PRIMARY KEY, application_id TEXT NOT NULL, error_name TEXT, http_code INTEGER,
            headers TEXT, body BLOB, body_truncated INTEGER NOT NULL DEFAULT 0, elapsed_ms INTEGER)
        """,
        // due_at is when the attempt may next be claimed: its delay, or the end of the current lease.
        """
        CREATE TABLE request_attempt (
            id TEXT PRIMARY KEY, application_id TEXT NOT NULL, event_id TEXT NOT NULL REFERENCES event(id),
            subscription_id TEXT NOT NULL REFERENCES subscription(id),
            created_at INTEGER NOT NULL, due_at INTEGER NOT NULL, delay_until INTEGER,
            picked_at INTEGER, claim_token TEXT, failed_at INTEGER, succeeded_at INTEGER,
            response_id TEXT REFERENCES response(id), retry_count INTEGER NOT NULL DEFAULT 0,
            CHECK (failed_at IS NULL OR succeeded_at IS NULL))
        """,
        "CREATE INDEX request_attempt_due ON request_attempt(due_at) WHERE failed_at IS NULL AND succeeded_at IS NULL",
        "CREATE INDEX request_attempt_listing ON request_attempt(application_id, created_at DESC, id DESC)",
        "CREATE INDEX request_attempt_event ON request_attempt(event_id)",
        "CREATE INDEX request_attempt_subscription ON request_attempt(subscription_id)",
    ]
}
