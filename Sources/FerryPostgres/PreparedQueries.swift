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

/// Leases due, unfinished attempts nobody else has locked, and reads what delivering them needs.
struct ClaimDueJobsQuery: PreparedQuery {
    static let sql = """
        WITH due AS (
            SELECT id FROM request_attempt
            WHERE failed_at IS NULL AND succeeded_at IS NULL AND due_at <= $1
            ORDER BY due_at LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE request_attempt ra SET picked_at = $1, due_at = $3, claim_token = $4
            FROM due WHERE ra.id = due.id
            RETURNING ra.id, ra.application_id, ra.event_id, ra.subscription_id, ra.retry_count
        )
        SELECT c.*, e.event_type, e.payload, e.payload_content_type,
            s.secret, s.target_method, s.target_url, s.target_headers
        FROM claimed c JOIN event e ON e.id = c.event_id JOIN subscription s ON s.id = c.subscription_id
        """

    let now: Date
    let limit: Int
    let leaseEnd: Date
    let claimToken: UUID

    var values: [any PostgresThrowingDynamicTypeEncodable] { [now.postgres, limit, leaseEnd.postgres, claimToken] }
}

/// Which of the given (application, event type) pairs name an active event type.
struct ActiveEventTypesQuery: PreparedQuery {
    static let sql = """
        SELECT application_id, name FROM event_type
        WHERE deactivated_at IS NULL
          AND (application_id, name) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))
        """

    let applicationIDs: [UUID]
    let eventTypes: [String]

    var values: [any PostgresThrowingDynamicTypeEncodable] { [applicationIDs, eventTypes] }
}

/// The live, enabled subscriptions to the given (application, event type) pairs, held `FOR SHARE` so a concurrent
/// disable waits for the ingest (and then cancels its attempts) instead of missing them.
struct MatchingSubscriptionsQuery: PreparedQuery {
    static let sql = """
        SELECT s.id, s.application_id, t.event_type_name, s.labels FROM subscription s
        JOIN subscription_event_type t ON t.subscription_id = s.id
        WHERE s.is_enabled AND s.deleted_at IS NULL
          AND (s.application_id, t.event_type_name) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))
        ORDER BY s.id
        FOR SHARE OF s
        """

    let applicationIDs: [UUID]
    let eventTypes: [String]

    var values: [any PostgresThrowingDynamicTypeEncodable] { [applicationIDs, eventTypes] }
}

/// Inserts a batch of events (skipping ids that exist) and the fan-out attempts of those that were new; returns
/// the ids inserted.
struct InsertEventsQuery: PreparedQuery {
    static let sql = """
        WITH inserted AS (
            INSERT INTO event (id, application_id, event_type, payload, payload_content_type, ip, metadata, labels,
                occurred_at, received_at)
            SELECT id, application_id, event_type, payload, payload_content_type, CASE WHEN has_ip THEN ip END,
                metadata, labels, occurred_at, received_at
            FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bytea[], $5::text[], $6::text[], $7::boolean[],
                $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[])
                AS incoming(id, application_id, event_type, payload, payload_content_type, ip, has_ip, metadata,
                    labels, occurred_at, received_at)
            ON CONFLICT (id) DO NOTHING
            RETURNING id
        ), attempts AS (
            INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at,
                retry_count)
            SELECT id, application_id, event_id, subscription_id, created_at, created_at, 0
            FROM unnest($12::uuid[], $13::uuid[], $14::uuid[], $15::uuid[], $16::timestamptz[])
                AS fan_out(id, application_id, event_id, subscription_id, created_at)
            WHERE event_id IN (SELECT id FROM inserted)
        )
        SELECT id FROM inserted
        """

    let events: [Event]
    let attempts: AttemptColumns

    var values: [any PostgresThrowingDynamicTypeEncodable] {
        [
            events.map(\.id), events.map(\.applicationID), events.map(\.eventType),
            events.map { ByteBuffer(bytes: $0.payload) }, events.map(\.payloadContentType.rawValue),
            events.map { $0.ip ?? "" }, events.map { $0.ip != nil }, events.map { StoredJSON.text($0.metadata) },
            events.map { StoredJSON.text($0.labels) }, events.map(\.occurredAt.postgres),
            events.map(\.receivedAt.postgres),
            attempts.ids, attempts.applicationIDs, attempts.eventIDs, attempts.subscriptionIDs, attempts.createdAt,
        ]
    }
}

/// Records a batch of delivery outcomes in one statement. Each outcome is recorded only while its worker still
/// holds the claim and the attempt is unfinished (a lost lease records nothing). For each recorded failure with a
/// retry time, the next attempt is inserted if its subscription is still enabled and live (held `FOR SHARE`, so a
/// concurrent disable waits and then cancels it). Returns the ids of the attempts recorded and how many retries
/// were scheduled. Absent values travel as flags or sentinels (`''`, `-1`), since arrays here have no nulls.
struct RecordOutcomesQuery: PreparedQuery {
    static let sql = """
        WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::boolean[], $8::text[], $9::bigint[], $10::text[], $11::boolean[], $12::bytea[], $13::boolean[],
                $14::boolean[], $15::bigint[], $16::uuid[], $17::timestamptz[], $18::boolean[], $19::bigint[])
                AS i(attempt_id, claim_token, response_id, application_id, event_id, subscription_id, succeeded,
                    error_name, http_code, headers, has_headers, body, has_body, body_truncated, elapsed_ms, retry_id,
                    retry_at, has_retry, retry_count)
        ), owned AS (
            UPDATE request_attempt ra
            SET succeeded_at = CASE WHEN i.succeeded THEN $20::timestamptz END,
                failed_at = CASE WHEN i.succeeded THEN NULL ELSE $20::timestamptz END,
                response_id = i.response_id
            FROM input i
            WHERE ra.id = i.attempt_id AND ra.claim_token = i.claim_token
              AND ra.failed_at IS NULL AND ra.succeeded_at IS NULL
            RETURNING ra.id
        ), responses AS (
            INSERT INTO response (id, application_id, error_name, http_code, headers, body, body_truncated,
                elapsed_ms)
            SELECT i.response_id, i.application_id, NULLIF(i.error_name, ''), NULLIF(i.http_code, -1),
                CASE WHEN i.has_headers THEN i.headers END, CASE WHEN i.has_body THEN i.body END, i.body_truncated,
                i.elapsed_ms
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
            observations.map { observation in
                if case .delivered = observation.outcome { return true } else { return false }
            },
            observations.map { $0.errorName?.rawValue ?? "" }, observations.map { $0.httpStatus ?? -1 },
            observations.map { $0.headers.map(StoredJSON.text) ?? "" }, observations.map { $0.headers != nil },
            observations.map { ByteBuffer(bytes: $0.body ?? []) }, observations.map { $0.body != nil },
            observations.map(\.bodyTruncated), observations.map(\.elapsedMilliseconds),
            records.map { _ in UUIDv7.make(at: now) }, records.map { ($0.retryAt ?? now).postgres },
            records.map { $0.retryAt != nil }, jobs.map(\.retryCount), now.postgres,
        ]
    }
}
