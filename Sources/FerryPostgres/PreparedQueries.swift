import FerryCore
import FerryStorage
import Foundation
import Logging
import PostgresNIO

/// A named prepared statement on Ferry's hot paths (ingest and claiming). Each pooled connection parses and
/// plans it once and then only binds values; rows are read by column name through `Columns`.
protocol PreparedQuery: PostgresPreparedStatement where Row == PostgresRow {
    /// The values for `$1`, `$2`, … in order.
    var values: [any PostgresThrowingDynamicTypeEncodable] { get }
}

extension PreparedQuery {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { try bindings.append(value) }
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresConnection {
    /// Runs a prepared query on this connection (inside a transaction) and collects its rows.
    func rows<Query: PreparedQuery>(_ query: Query, logger: Logger) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await execute(query, logger: logger) { rows.append(row) }
        return rows
    }
}

extension DeadlineClient {
    /// Runs a prepared query on a pooled connection under the deadline and collects its rows.
    func rows<Query: PreparedQuery>(_ query: Query, logger: Logger) async throws -> [PostgresRow] {
        let pool = pool
        return try await withDeadline {
            var rows: [PostgresRow] = []
            for try await row in try await pool.execute(query, logger: logger) { rows.append(row) }
            return rows
        }
    }
}

/// Leases due, unfinished attempts nobody else has locked, and reads what delivering them needs. Due times and the
/// lease are read and written on the database's clock (`now()`), so workers whose clocks drift apart still agree
/// on when a lease has expired. Attempts of relayed subscriptions are left to their `ferry listen` session.
struct ClaimDueJobsQuery: PreparedQuery {
    static let sql = claimSQL(matching: sentByWorkers(subscriptions: "$4", applications: "$5"))

    /// The attempts workers send, but not those of the subscriptions and applications in the given array
    /// parameters: not relayed, not waiting for their circuit's probe.
    static func sentByWorkers(subscriptions: String, applications: String) -> String {
        """
        subscription_id NOT IN (SELECT id FROM subscription WHERE relayed)
        AND subscription_id NOT IN (SELECT id FROM subscription WHERE circuit_probe_at > now())
        AND subscription_id <> ALL(\(subscriptions)::uuid[]) AND application_id <> ALL(\(applications)::uuid[])
        AND \(orderedHeadsOnly)
        """
    }

    /// Of an ordered subscription's attempts only the head is sent: the unfinished attempt of the earliest
    /// received event (ties by event id), whether due or not, so the next event waits for it to succeed or give
    /// up. Computed once per statement over the unfinished attempts of ordered subscriptions only.
    static let orderedHeadsOnly = """
        (subscription_id NOT IN (SELECT id FROM subscription WHERE ordered) OR id IN (
            SELECT DISTINCT ON (ra.subscription_id) ra.id
            FROM request_attempt ra JOIN event e ON e.id = ra.event_id
            WHERE ra.failed_at IS NULL AND ra.succeeded_at IS NULL
              AND ra.subscription_id IN (SELECT id FROM subscription WHERE ordered)
            ORDER BY ra.subscription_id, e.received_at, e.id))
        """

    let limit: Int
    /// The lease, in seconds.
    let leaseSeconds: Double
    let claimToken: UUID
    let exclusions: ClaimExclusions

    var values: [any PostgresThrowingDynamicTypeEncodable] {
        [limit, leaseSeconds, claimToken, exclusions.subscriptionIDs, exclusions.applicationIDs]
    }

    /// The claim of due attempts that also meet `condition`, oldest due first, at most `limit` (an SQL
    /// expression).
    static func claimSQL(matching condition: String, limit: String = "$1") -> String {
        """
        WITH due AS (
            SELECT id FROM request_attempt
            WHERE failed_at IS NULL AND succeeded_at IS NULL AND due_at <= now() AND \(condition)
            ORDER BY due_at LIMIT \(limit)
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE request_attempt ra
            SET picked_at = now(), due_at = now() + make_interval(secs => $2::double precision), claim_token = $3
            FROM due WHERE ra.id = due.id
            RETURNING ra.id, ra.application_id, ra.event_id, ra.subscription_id, ra.retry_count
        )
        SELECT c.*, e.event_type, e.payload, e.payload_content_type,
            s.secret, s.target_method, s.target_url, s.target_headers, s.retry_override, s.circuit_opened_at,
            s.ed25519_private_key, s.previous_secret, s.previous_ed25519_private_key, s.previous_secret_expires_at,
            s.ordered
        FROM claimed c JOIN event e ON e.id = c.event_id JOIN subscription s ON s.id = c.subscription_id
        """
    }
}

/// The earliest moment an attempt workers send becomes due (its due time, or its circuit's next probe), leaving
/// out the subscriptions and applications of `exclusions`.
struct NextDueDateQuery: PreparedQuery {
    static let sql = """
        SELECT least(
            (SELECT due_at FROM request_attempt WHERE failed_at IS NULL AND succeeded_at IS NULL
             AND \(ClaimDueJobsQuery.sentByWorkers(subscriptions: "$1", applications: "$2"))
             ORDER BY due_at LIMIT 1),
            (SELECT min(circuit_probe_at) FROM subscription
             WHERE circuit_probe_at > now() AND deleted_at IS NULL AND NOT relayed)) AS next
        """

    let exclusions: ClaimExclusions

    var values: [any PostgresThrowingDynamicTypeEncodable] {
        [exclusions.subscriptionIDs, exclusions.applicationIDs]
    }
}

/// Leases the due attempts of one live, enabled, relayed subscription for its `ferry listen` session, as
/// `ClaimDueJobsQuery`, so that at most `limit` of its attempts are leased and unanswered at once.
struct ClaimRelayedJobsQuery: PreparedQuery {
    static let sql = ClaimDueJobsQuery.claimSQL(
        matching: """
            subscription_id = $4 AND subscription_id IN (
                SELECT id FROM subscription WHERE relayed AND is_enabled AND deleted_at IS NULL)
            AND \(ClaimDueJobsQuery.orderedHeadsOnly)
            """,
        limit: """
            greatest(0, $1 - (SELECT count(*) FROM request_attempt
                WHERE subscription_id = $4 AND failed_at IS NULL AND succeeded_at IS NULL
                  AND claim_token IS NOT NULL AND due_at > now()))
            """)

    let limit: Int
    /// The lease, in seconds.
    let leaseSeconds: Double
    let claimToken: UUID
    let subscriptionID: UUID

    var values: [any PostgresThrowingDynamicTypeEncodable] { [limit, leaseSeconds, claimToken, subscriptionID] }
}

/// The live subscriptions (enabled or not: `FanOutRule` decides) to the given (application, event type) pairs, held
/// `FOR SHARE` so a concurrent disable waits for the ingest (and then cancels its attempts) instead of missing them.
struct MatchingSubscriptionsQuery: PreparedQuery {
    static let sql = """
        SELECT s.id, s.application_id, t.event_type_name, s.is_enabled, s.labels FROM subscription s
        JOIN subscription_event_type t ON t.subscription_id = s.id
        WHERE s.deleted_at IS NULL
          AND (s.application_id, t.event_type_name) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))
        ORDER BY s.id
        FOR SHARE OF s
        """

    let applicationIDs: [UUID]
    let eventTypes: [String]

    var values: [any PostgresThrowingDynamicTypeEncodable] { [applicationIDs, eventTypes] }
}

/// Ingests a batch of events in one statement (one round trip, committing on its own): keeps the events whose
/// application is live, holding it `FOR SHARE` so that a concurrent deletion waits for the ingest and then cancels
/// its attempts (or, deleting first, makes the ingest refuse the event), and whose type exists (a deactivated type counts, as in Hook0), inserts those whose id is new, and inserts one attempt per matching subscription, held
/// `FOR SHARE` so a concurrent disable waits for the ingest (and then cancels its attempts) instead of missing
/// them. The match is `FanOutRule` written in SQL (enabled, listening to the type, every subscription label on the
/// event with the same value as JSON containment), so that a batch stays one round trip; `FanOutTableTests`
/// checks it against the rule. Attempt ids are version-7 UUIDs of the event's receipt time. Workers
/// are woken with `pg_notify` when attempts were created. Returns, per incoming event, whether its application is
/// live, whether its type is known and whether it was inserted. The inserted events are tallied per application and
/// day (`DailyTally`) on one random shard, in key order so that concurrent batches cannot deadlock.
struct IngestEventsQuery: PreparedQuery {
    static let sql = """
        WITH incoming AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bytea[], $5::text[], $6::text[],
                $7::boolean[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::bigint[])
                AS e(id, application_id, event_type, payload, payload_content_type, ip, has_ip, metadata, labels,
                    occurred_at, received_at, day)
        ), live_application AS (
            SELECT a.id FROM application a
            WHERE a.id IN (SELECT application_id FROM incoming) AND a.deleted_at IS NULL
            FOR SHARE OF a
        ), known AS (
            SELECT e.* FROM incoming e
            WHERE e.application_id IN (SELECT id FROM live_application)
              AND EXISTS (
                SELECT 1 FROM event_type t
                WHERE t.application_id = e.application_id AND t.name = e.event_type)
        ), matching AS (
            SELECT s.id, s.application_id, t.event_type_name, s.labels FROM subscription s
            JOIN subscription_event_type t ON t.subscription_id = s.id
            WHERE s.is_enabled AND s.deleted_at IS NULL
              AND (s.application_id, t.event_type_name) IN (SELECT application_id, event_type FROM known)
            ORDER BY s.id
            FOR SHARE OF s
        ), inserted AS (
            INSERT INTO event (id, application_id, event_type, payload, payload_content_type, ip, metadata, labels,
                occurred_at, received_at)
            SELECT id, application_id, event_type, payload, payload_content_type, CASE WHEN has_ip THEN ip END,
                metadata, labels, occurred_at, received_at
            FROM known
            ON CONFLICT (id) DO NOTHING
            RETURNING id, application_id, event_type, labels, received_at
        ), attempts AS (
            INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at,
                retry_count)
            SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM i.received_at) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid,
                i.application_id, i.id, m.id, i.received_at, i.received_at, 0
            FROM inserted i JOIN matching m
                ON m.application_id = i.application_id AND m.event_type_name = i.event_type
            WHERE i.labels::jsonb @> m.labels::jsonb
            RETURNING 1
        ), woken AS (
            SELECT pg_notify('ferry_work', '') FROM (SELECT 1 FROM attempts LIMIT 1) AS any_attempt
        ), tallied AS (
            INSERT INTO daily_tally (application_id, day, measure, bucket, shard, amount)
            SELECT k.application_id, k.day, 'events', 0, $13::bigint, count(*)
            FROM inserted i JOIN known k ON k.id = i.id
            GROUP BY k.application_id, k.day ORDER BY k.application_id, k.day
            ON CONFLICT (application_id, day, measure, bucket, shard)
                DO UPDATE SET amount = daily_tally.amount + EXCLUDED.amount
        )
        SELECT e.id, e.application_id IN (SELECT id FROM live_application) AS live, a.id IS NOT NULL AS known,
            i.id IS NOT NULL AS inserted, (SELECT count(*) FROM woken) AS woken
        FROM incoming e LEFT JOIN known a ON a.id = e.id LEFT JOIN inserted i ON i.id = e.id
        """

    let events: [Event]

    var values: [any PostgresThrowingDynamicTypeEncodable] {
        [
            events.map(\.id), events.map(\.applicationID), events.map(\.eventType),
            events.map { ByteBuffer(bytes: $0.payload) }, events.map(\.payloadContentType.rawValue),
            events.map { $0.ip ?? "" }, events.map { $0.ip != nil }, events.map { StoredJSON.text($0.metadata) },
            events.map { StoredJSON.text($0.labels) }, events.map(\.occurredAt.postgres),
            events.map(\.receivedAt.postgres), events.map { DailyTally.day(of: $0.receivedAt) },
            PostgresStore.tallyShard(),
        ]
    }
}

/// Records a batch of delivery outcomes in one statement. Each outcome is recorded only while its worker still
/// holds the claim and the attempt is unfinished (a lost lease records nothing). For each recorded failure with a
/// retry time, the next attempt is inserted if its subscription is still enabled and live (held `FOR SHARE`, so a
/// concurrent disable waits and then cancels it). Returns the ids of the attempts recorded and how many retries
/// were scheduled. Absent values travel as flags or sentinels (`''`, `-1`), since arrays here have no nulls.
/// Each recorded outcome is tallied (`DailyTally`: succeeded or failed, and its latency bucket) on the day it is
/// recorded, on one random shard, in key order so that concurrent batches cannot deadlock.
/// `ra.id = ANY($1)` repeats the join key as an index condition: without it, a freshly filled table whose
/// statistics are not yet gathered got a plan that re-read the input arrays per row (750 ms per batch).
struct RecordOutcomesQuery: PreparedQuery {
    static let sql = """
        WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::boolean[], $8::text[], $9::bigint[], $10::text[], $11::boolean[], $12::bytea[], $13::boolean[],
                $14::boolean[], $15::bigint[], $16::uuid[], $17::timestamptz[], $18::boolean[], $19::bigint[],
                $21::text[], $22::text[], $23::text[], $24::bigint[])
                AS i(attempt_id, claim_token, response_id, application_id, event_id, subscription_id, succeeded,
                    error_name, http_code, headers, has_headers, body, has_body, body_truncated, elapsed_ms, retry_id,
                    retry_at, has_retry, retry_count, request_method, request_url, request_headers, latency_bucket)
        ), owned AS (
            UPDATE request_attempt ra
            SET succeeded_at = CASE WHEN i.succeeded THEN $20::timestamptz END,
                failed_at = CASE WHEN i.succeeded THEN NULL ELSE $20::timestamptz END,
                response_id = i.response_id
            FROM input i
            WHERE ra.id = ANY($1::uuid[]) AND ra.id = i.attempt_id AND ra.claim_token = i.claim_token
              AND ra.failed_at IS NULL AND ra.succeeded_at IS NULL
            RETURNING ra.id
        ), responses AS (
            INSERT INTO response (id, application_id, error_name, http_code, headers, body, body_truncated,
                elapsed_ms, request_method, request_url, request_headers)
            SELECT i.response_id, i.application_id, NULLIF(i.error_name, ''), NULLIF(i.http_code, -1),
                CASE WHEN i.has_headers THEN i.headers END, CASE WHEN i.has_body THEN i.body END, i.body_truncated,
                i.elapsed_ms, NULLIF(i.request_method, ''), NULLIF(i.request_url, ''),
                NULLIF(i.request_headers, '')
            FROM input i JOIN owned o ON o.id = i.attempt_id
        ), live AS (
            SELECT s.id FROM subscription s JOIN application a ON a.id = s.application_id
            WHERE s.id IN (SELECT subscription_id FROM input WHERE has_retry AND NOT succeeded)
              AND s.is_enabled AND s.deleted_at IS NULL AND a.deleted_at IS NULL
            FOR SHARE OF s
        ), retries AS (
            INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at,
                delay_until, retry_count)
            SELECT i.retry_id, i.application_id, i.event_id, i.subscription_id, $20::timestamptz, i.retry_at,
                i.retry_at, i.retry_count + 1
            FROM input i JOIN owned o ON o.id = i.attempt_id JOIN live l ON l.id = i.subscription_id
            WHERE i.has_retry AND NOT i.succeeded
            RETURNING id
        ), tallied AS (
            INSERT INTO daily_tally (application_id, day, measure, bucket, shard, amount)
            SELECT application_id, $25::bigint, measure, bucket, $26::bigint, count(*) FROM (
                SELECT i.application_id, CASE WHEN i.succeeded THEN 'succeeded' ELSE 'failed' END AS measure,
                    0 AS bucket
                FROM input i JOIN owned o ON o.id = i.attempt_id
                UNION ALL
                SELECT i.application_id, 'latency', i.latency_bucket FROM input i JOIN owned o ON o.id = i.attempt_id
            ) AS ended
            GROUP BY application_id, measure, bucket ORDER BY application_id, measure, bucket
            ON CONFLICT (application_id, day, measure, bucket, shard)
                DO UPDATE SET amount = daily_tally.amount + EXCLUDED.amount
        )
        SELECT id, (SELECT count(*) FROM retries) AS retries FROM owned
        """

    let records: [OutcomeRecord]
    let now: Date

    var values: [any PostgresThrowingDynamicTypeEncodable] {
        let observations = records.map(\.observation)
        let jobs = records.map(\.job)
        return [
            jobs.map(\.attemptID), jobs.map(\.claimToken), records.map { _ in UUIDv7.make(at: now) },
            jobs.map(\.applicationID), jobs.map(\.eventID), jobs.map(\.subscriptionID),
            observations.map(\.isDelivered),
            observations.map { $0.errorName?.rawValue ?? "" }, observations.map { $0.httpStatus ?? -1 },
            observations.map { $0.headers.map(StoredJSON.text) ?? "" }, observations.map { $0.headers != nil },
            observations.map { ByteBuffer(bytes: $0.body ?? []) }, observations.map { $0.body != nil },
            observations.map(\.bodyTruncated), observations.map(\.elapsedMilliseconds),
            records.map { _ in UUIDv7.make(at: now) }, records.map { ($0.retryAt ?? now).postgres },
            records.map { $0.retryAt != nil }, jobs.map(\.retryCount), now.postgres,
            observations.map { $0.request?.method ?? "" }, observations.map { $0.request?.url ?? "" },
            observations.map { $0.request.map { StoredJSON.text($0.headers) } ?? "" },
            observations.map { DailyTally.latencyBucket(milliseconds: $0.elapsedMilliseconds) },
            DailyTally.day(of: now), PostgresStore.tallyShard(),
        ]
    }
}

/// A live application by id: every request that names an application looks it up.
struct LiveApplicationQuery: PreparedQuery {
    static let sql = "SELECT * FROM application WHERE id = $1 AND deleted_at IS NULL"

    let id: UUID

    var values: [any PostgresThrowingDynamicTypeEncodable] { [id] }
}

/// An organization by id: organization-scoped requests look it up.
struct OrganizationQuery: PreparedQuery {
    static let sql = "SELECT * FROM organization WHERE id = $1"

    let id: UUID

    var values: [any PostgresThrowingDynamicTypeEncodable] { [id] }
}

/// A live application secret with its live application: every request authenticated by one looks it up.
struct LiveApplicationSecretQuery: PreparedQuery {
    static let sql = """
        SELECT s.*, a.organization_id, a.name AS application_name, a.created_at AS application_created_at
        FROM application_secret s JOIN application a ON a.id = s.application_id
        WHERE s.token = $1 AND s.deleted_at IS NULL AND a.deleted_at IS NULL
        """

    let token: UUID

    var values: [any PostgresThrowingDynamicTypeEncodable] { [token] }
}

/// A service token that is not revoked, by the hash of its bearer value.
struct LiveServiceTokenQuery: PreparedQuery {
    static let sql = """
        SELECT t.* FROM service_token t JOIN organization o ON o.id = t.organization_id
        WHERE t.token_hash = $1 AND t.revoked_at IS NULL
        """

    let tokenHash: [UInt8]

    var values: [any PostgresThrowingDynamicTypeEncodable] { [ByteBuffer(bytes: tokenHash)] }
}
