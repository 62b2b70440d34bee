import Logging
import PostgresNIO

/// Ferry's PostgreSQL schema as numbered migrations, applied under an advisory lock so several processes
/// starting at once migrate safely (the first applies, the others wait and find nothing to do).
enum PostgresSchema {
    /// Arbitrary constant identifying Ferry's migration lock.
    static let advisoryLockKey: Int64 = 0x6665_7272_795f_6d67

    static let migrations: [(version: Int, statements: [String])] = [
        (1, initial),
        (2, ["ALTER TABLE application ADD COLUMN retention_days integer"]),
        (3, ["CREATE TABLE server_key (name text PRIMARY KEY, value bytea NOT NULL, created_at timestamptz NOT NULL)"]),
        (4, people),
        (
            5,
            [
                """
                CREATE TABLE denied_block (
                    revocation_id text PRIMARY KEY, service_token_id uuid NOT NULL, created_at timestamptz NOT NULL)
                """
            ]
        ),
        (
            6,
            [
                "ALTER TABLE service_token ADD COLUMN created_by uuid",
                "ALTER TABLE service_token ADD COLUMN last_used_at timestamptz",
            ]
        ),
        (
            7,
            [
                "ALTER TABLE response ADD COLUMN request_method text",
                "ALTER TABLE response ADD COLUMN request_url text",
                "ALTER TABLE response ADD COLUMN request_headers text",
            ]
        ),
        (8, [dailyTallyTable] + dailyTallyBackfill + dailyTallyIndexes),
        (
            9,
            [
                "ALTER TABLE subscription ADD COLUMN relayed boolean NOT NULL DEFAULT false",
                "CREATE INDEX subscription_relayed ON subscription (id) WHERE relayed",
            ]
        ),
        (
            10,
            [
                "ALTER TABLE subscription ADD COLUMN disabled_reason text",
                "ALTER TABLE subscription ADD COLUMN disabled_at timestamptz",
            ]
        ),
        (11, ["ALTER TABLE subscription ADD COLUMN failing_since timestamptz"]),
        (12, ["ALTER TABLE subscription ADD COLUMN retry_override text"]),
        (
            13,
            [
                "ALTER TABLE subscription ADD COLUMN circuit_opened_at timestamptz",
                "ALTER TABLE subscription ADD COLUMN circuit_probe_at timestamptz",
                "CREATE INDEX subscription_circuit ON subscription (circuit_probe_at) WHERE circuit_probe_at IS NOT NULL",
            ]
        ),
        (
            14,
            [
                "ALTER TABLE subscription ADD COLUMN ed25519_private_key text",
                "ALTER TABLE subscription ADD COLUMN previous_secret text",
                "ALTER TABLE subscription ADD COLUMN previous_ed25519_private_key text",
                "ALTER TABLE subscription ADD COLUMN previous_secret_expires_at timestamptz",
            ]
        ),
        (
            15,
            [
                "ALTER TABLE subscription ADD COLUMN ordered boolean NOT NULL DEFAULT false",
                "CREATE INDEX subscription_ordered ON subscription (id) WHERE ordered",
            ]
        ),
        (16, ["ALTER TABLE organization ADD COLUMN operational_application_id uuid"]),
        (17, ["ALTER TABLE event_type ADD COLUMN payload_schema text"]),
    ]

    /// The daily tallies (`DailyTally`), each spread over `PostgresStore.tallyShards` rows.
    static let dailyTallyTable = """
        CREATE TABLE daily_tally (
            application_id uuid NOT NULL, day integer NOT NULL, measure text NOT NULL, bucket integer NOT NULL,
            shard smallint NOT NULL, amount bigint NOT NULL,
            PRIMARY KEY (application_id, day, measure, bucket, shard))
        """

    /// Fills the tallies from what the database kept before they existed: its events, and the attempts that were
    /// sent and ended, with their latency (an attempt cancelled unsent has no response and is not counted). The day and latency bucket rules of `DailyTally` are written here once more in SQL, for the
    /// rows already stored; `DailyTallyTests` checks that this counts what the live tallies count.
    static let dailyTallyBackfill = [
        """
        INSERT INTO daily_tally (application_id, day, measure, bucket, shard, amount)
        SELECT application_id, floor(extract(epoch FROM received_at) / 86400)::integer, 'events', 0, 0, count(*)
        FROM event GROUP BY 1, 2
        """,
        """
        INSERT INTO daily_tally (application_id, day, measure, bucket, shard, amount)
        SELECT application_id, floor(extract(epoch FROM coalesce(succeeded_at, failed_at)) / 86400)::integer,
            CASE WHEN succeeded_at IS NOT NULL THEN 'succeeded' ELSE 'failed' END, 0, 0, count(*)
        FROM request_attempt WHERE (succeeded_at IS NOT NULL OR failed_at IS NOT NULL) AND response_id IS NOT NULL
        GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO daily_tally (application_id, day, measure, bucket, shard, amount)
        SELECT application_id, day, 'latency', bucket, 0, count(*) FROM (
            SELECT a.application_id,
                floor(extract(epoch FROM coalesce(a.succeeded_at, a.failed_at)) / 86400)::integer AS day,
                CASE WHEN r.elapsed_ms < 100 THEN greatest(r.elapsed_ms, 0)::integer
                    ELSE (ceil(r.elapsed_ms::numeric / power(10::numeric, floor(log(r.elapsed_ms::numeric)) - 1))
                        * power(10::numeric, floor(log(r.elapsed_ms::numeric)) - 1))::integer END AS bucket
            FROM request_attempt a JOIN response r ON r.id = a.response_id
            WHERE (a.succeeded_at IS NOT NULL OR a.failed_at IS NOT NULL) AND r.elapsed_ms IS NOT NULL
        ) AS ended GROUP BY 1, 2, 4
        """,
    ]

    /// The indexes of the delivery log's failed and given-up views and of an application's queue.
    static let dailyTallyIndexes = [
        """
        CREATE INDEX request_attempt_failed ON request_attempt(application_id, created_at DESC, id DESC)
        WHERE failed_at IS NOT NULL
        """,
        """
        CREATE INDEX request_attempt_unfinished ON request_attempt(application_id, due_at) INCLUDE (claim_token)
        WHERE failed_at IS NULL AND succeeded_at IS NULL
        """,
    ]

    /// Accounts, memberships, invitations, session tokens, sign-in failures and the mail outbox.
    static let people = [
        """
        CREATE TABLE user_account (
            id uuid PRIMARY KEY, email text NOT NULL, email_canonical text NOT NULL UNIQUE,
            first_name text NOT NULL, last_name text NOT NULL, password_hash text NOT NULL,
            created_at timestamptz NOT NULL, email_verified_at timestamptz, disabled_at timestamptz,
            last_login_at timestamptz)
        """,
        """
        CREATE TABLE membership (
            organization_id uuid NOT NULL REFERENCES organization(id), user_id uuid NOT NULL REFERENCES user_account(id),
            role text NOT NULL CHECK (role IN ('editor', 'viewer')), created_at timestamptz NOT NULL,
            PRIMARY KEY (organization_id, user_id))
        """,
        "CREATE INDEX membership_user ON membership(user_id)",
        """
        CREATE TABLE invitation (
            id uuid PRIMARY KEY, organization_id uuid NOT NULL REFERENCES organization(id), email text NOT NULL,
            email_canonical text NOT NULL, role text NOT NULL CHECK (role IN ('editor', 'viewer')),
            secret_hash bytea NOT NULL UNIQUE, created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL,
            accepted_at timestamptz, UNIQUE (organization_id, email_canonical))
        """,
        """
        CREATE TABLE session_token (
            lookup_hash bytea PRIMARY KEY, kind text NOT NULL, user_id uuid NOT NULL REFERENCES user_account(id),
            session_id uuid NOT NULL, created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL,
            ended_at timestamptz, rotated boolean NOT NULL DEFAULT false)
        """,
        "CREATE INDEX session_token_session ON session_token(user_id, session_id)",
        "CREATE TABLE spent_mail_token (lookup_hash bytea PRIMARY KEY, spent_at timestamptz NOT NULL)",
        "CREATE TABLE throttle_event (key text NOT NULL, happened_at timestamptz NOT NULL)",
        "CREATE INDEX throttle_event_key ON throttle_event(key, happened_at)",
        """
        CREATE TABLE mail_outbox (
            id uuid PRIMARY KEY, recipient text NOT NULL, subject text NOT NULL, body text NOT NULL,
            created_at timestamptz NOT NULL, next_attempt_at timestamptz NOT NULL,
            failed_attempts integer NOT NULL DEFAULT 0, last_error text, sent_at timestamptz)
        """,
        "CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at) WHERE sent_at IS NULL",
    ]

    /// Applies every migration not yet recorded in `ferry_schema_migrations`.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(advisoryLockKey))", logger: logger)
            do {
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS ferry_schema_migrations (
                        version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                var applied = Set<Int>()
                for try await version in try await connection.query(
                    "SELECT version FROM ferry_schema_migrations", logger: logger
                ).decode(Int.self) {
                    applied.insert(version)
                }
                for migration in migrations where !applied.contains(migration.version) {
                    try await connection.withTransaction(logger: logger) { transaction in
                        for statement in migration.statements {
                            try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await transaction.query(
                            "INSERT INTO ferry_schema_migrations (version) VALUES (\(migration.version))",
                            logger: logger)
                    }
                    logger.info("applied migration", metadata: ["version": "\(migration.version)"])
                }
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(advisoryLockKey))", logger: logger)
                throw error
            }
            try await connection.query("SELECT pg_advisory_unlock(\(advisoryLockKey))", logger: logger)
        }
    }

    // Maps (labels, metadata, headers) are JSON text, as in the SQLite backend; matching happens in Swift.
    private static let initial = [
        "CREATE TABLE organization (id uuid PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL)",
        """
        CREATE TABLE application (
            id uuid PRIMARY KEY, organization_id uuid NOT NULL REFERENCES organization(id),
            name text NOT NULL, created_at timestamptz NOT NULL, deleted_at timestamptz)
        """,
        "CREATE INDEX application_organization ON application(organization_id)",
        """
        CREATE TABLE application_secret (
            token uuid PRIMARY KEY, application_id uuid NOT NULL REFERENCES application(id),
            name text, created_at timestamptz NOT NULL, deleted_at timestamptz)
        """,
        "CREATE INDEX application_secret_application ON application_secret(application_id)",
        """
        CREATE TABLE service_token (
            id uuid PRIMARY KEY, organization_id uuid NOT NULL REFERENCES organization(id),
            name text NOT NULL, token_hash bytea NOT NULL UNIQUE, display_hint text NOT NULL,
            created_at timestamptz NOT NULL, revoked_at timestamptz)
        """,
        """
        CREATE TABLE event_type (
            application_id uuid NOT NULL REFERENCES application(id), name text NOT NULL,
            service text NOT NULL, resource_type text NOT NULL, verb text NOT NULL,
            created_at timestamptz NOT NULL, deactivated_at timestamptz, PRIMARY KEY (application_id, name))
        """,
        """
        CREATE TABLE subscription (
            id uuid PRIMARY KEY, application_id uuid NOT NULL REFERENCES application(id),
            is_enabled boolean NOT NULL, description text, secret uuid NOT NULL,
            metadata text NOT NULL, labels text NOT NULL,
            target_method text NOT NULL, target_url text NOT NULL, target_headers text NOT NULL,
            created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, deleted_at timestamptz)
        """,
        "CREATE INDEX subscription_application ON subscription(application_id, created_at)",
        """
        CREATE TABLE subscription_event_type (
            subscription_id uuid NOT NULL REFERENCES subscription(id), event_type_name text NOT NULL,
            PRIMARY KEY (subscription_id, event_type_name))
        """,
        "CREATE INDEX subscription_event_type_name ON subscription_event_type(event_type_name)",
        """
        CREATE TABLE event (
            id uuid PRIMARY KEY, application_id uuid NOT NULL REFERENCES application(id),
            event_type text NOT NULL, payload bytea NOT NULL, payload_content_type text NOT NULL, ip text,
            metadata text NOT NULL, labels text NOT NULL, occurred_at timestamptz NOT NULL,
            received_at timestamptz NOT NULL)
        """,
        "CREATE INDEX event_application_received ON event(application_id, received_at)",
        """
        CREATE TABLE response (
            id uuid PRIMARY KEY, application_id uuid NOT NULL, error_name text, http_code integer,
            headers text, body bytea, body_truncated boolean NOT NULL DEFAULT false, elapsed_ms integer)
        """,
        """
        CREATE TABLE request_attempt (
            id uuid PRIMARY KEY, application_id uuid NOT NULL, event_id uuid NOT NULL REFERENCES event(id),
            subscription_id uuid NOT NULL REFERENCES subscription(id),
            created_at timestamptz NOT NULL, due_at timestamptz NOT NULL, delay_until timestamptz,
            picked_at timestamptz, claim_token uuid, failed_at timestamptz, succeeded_at timestamptz,
            response_id uuid REFERENCES response(id), retry_count integer NOT NULL DEFAULT 0,
            CHECK (failed_at IS NULL OR succeeded_at IS NULL))
        """,
        "CREATE INDEX request_attempt_due ON request_attempt(due_at) WHERE failed_at IS NULL AND succeeded_at IS NULL",
        "CREATE INDEX request_attempt_listing ON request_attempt(application_id, created_at DESC, id DESC)",
        "CREATE INDEX request_attempt_event ON request_attempt(event_id)",
        "CREATE INDEX request_attempt_subscription ON request_attempt(subscription_id)",
    ]
}
