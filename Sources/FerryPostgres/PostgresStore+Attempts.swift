import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    private static let attemptColumns = """
        SELECT ra.*, e.event_type, s.description AS subscription_description, r.http_code
        FROM request_attempt ra
        JOIN event e ON e.id = ra.event_id
        JOIN subscription s ON s.id = ra.subscription_id
        LEFT JOIN response r ON r.id = ra.response_id
        """

    public func requestAttempts(_ query: AttemptQuery) async throws -> [RequestAttempt] {
        var filter = AttemptFilter(query)
        if let after = query.after {
            filter.conditions.append(
                "(ra.created_at, ra.id) < (\(filter.bind(after.createdAt.postgres)), \(filter.bind(after.id)))")
        }
        let sql = """
            \(Self.attemptColumns)
            WHERE \(filter.conditions.joined(separator: " AND "))
            ORDER BY ra.created_at DESC, ra.id DESC LIMIT \(filter.bind(query.limit))
            """
        return try await client.query(PostgresQuery(unsafeSQL: sql, binds: filter.bindings), logger: self.logger)
            .map { try Self.requestAttempt(Columns($0)) }
    }

    public func countAttempts(_ query: AttemptQuery) async throws -> Int {
        let filter = AttemptFilter(query)
        let sql = """
            SELECT count(*) AS amount FROM request_attempt ra JOIN event e ON e.id = ra.event_id
            LEFT JOIN response r ON r.id = ra.response_id
            WHERE \(filter.conditions.joined(separator: " AND "))
            """
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: filter.bindings), logger: self.logger)
        return try rows.first.map { try Columns($0).get("amount", as: Int.self) } ?? 0
    }

    public func recoverGivenUp(applicationID: UUID, subscriptionID: UUID?, from: Date, to: Date, limit: Int)
        async throws -> Int
    {
        var filter = AttemptFilter(
            AttemptQuery(
                applicationID: applicationID, subscriptionID: subscriptionID, minCreatedAt: from, maxCreatedAt: to,
                outcome: .givenUp))
        // The candidates are locked, so two recoveries at once send each attempt again once.
        let sql = """
            SELECT ra.id FROM request_attempt ra JOIN event e ON e.id = ra.event_id
            JOIN subscription s ON s.id = ra.subscription_id LEFT JOIN response r ON r.id = ra.response_id
            WHERE \(filter.conditions.joined(separator: " AND ")) AND s.deleted_at IS NULL AND s.is_enabled
            ORDER BY ra.created_at, ra.id LIMIT \(filter.bind(limit))
            FOR UPDATE OF ra SKIP LOCKED
            """
        let bindings = filter.bindings
        return try await transaction { connection in
            let candidates = try await connection.query(
                PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger
            ).collect().map { try Columns($0).get("id", as: UUID.self) }
            guard !candidates.isEmpty else { return 0 }
            let now = Date()
            // Ids in creation order, so the recovered attempts list in the order they failed.
            let ids = candidates.indices.map { UUIDv7.make(at: now.addingTimeInterval(Double($0) / 1_000_000)) }
            try await connection.query(
                """
                INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at, retry_count)
                SELECT fresh.id, ra.application_id, ra.event_id, ra.subscription_id, \(now.postgres), \(now.postgres), 0
                FROM unnest(\(ids)::uuid[], \(candidates)::uuid[]) AS fresh(id, source)
                JOIN request_attempt ra ON ra.id = fresh.source
                """, logger: self.logger)
            try await Self.notifyWork(connection, logger: self.logger)
            return candidates.count
        }
    }

    public func requestAttempt(id: UUID, applicationID: UUID) async throws -> RequestAttempt? {
        var bindings = PostgresBindings()
        bindings.append(id)
        bindings.append(applicationID)
        return try await client.query(
            PostgresQuery(
                unsafeSQL: "\(Self.attemptColumns) WHERE ra.id = $1 AND ra.application_id = $2", binds: bindings),
            logger: self.logger
        ).first.map { try Self.requestAttempt(Columns($0)) }
    }

    public func retryAttempt(id: UUID, applicationID: UUID) async throws -> UUID? {
        try await transaction { connection in
            let now = Date()
            let attemptID = UUIDv7.make(at: now)
            let rows = try await connection.query(
                """
                INSERT INTO request_attempt (id, application_id, event_id, subscription_id, created_at, due_at, retry_count)
                SELECT \(attemptID), ra.application_id, ra.event_id, ra.subscription_id, \(now.postgres), \(now.postgres), 0
                FROM request_attempt ra JOIN subscription s ON s.id = ra.subscription_id
                WHERE ra.id = \(id) AND ra.application_id = \(applicationID) AND s.deleted_at IS NULL AND s.is_enabled
                RETURNING id
                """, logger: self.logger
            ).collect()
            guard !rows.isEmpty else { return nil }
            try await Self.notifyWork(connection, logger: self.logger)
            return attemptID
        }
    }

    public func applicationQueue(applicationID: UUID, at now: Date) async throws -> ApplicationQueue {
        let unfinished = "application_id = $1 AND failed_at IS NULL AND succeeded_at IS NULL"
        var bindings = PostgresBindings()
        bindings.append(applicationID)
        bindings.append(now.postgres)
        bindings.append(ApplicationQueue.countLimit + 1)
        // Each count walks `request_attempt_unfinished` and stops after one more than the limit.
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT (SELECT count(*) FROM (SELECT 1 FROM request_attempt
                            WHERE \(unfinished) AND due_at <= $2 LIMIT $3) AS due_rows) AS due,
                        (SELECT min(due_at) FROM request_attempt WHERE \(unfinished) AND due_at <= $2) AS oldest_due,
                        later.amount, later.leased
                    FROM (SELECT count(*) AS amount, count(claim_token) AS leased
                        FROM (SELECT claim_token FROM request_attempt WHERE \(unfinished) AND due_at > $2
                            ORDER BY due_at LIMIT $3) AS later_rows) AS later
                    """, binds: bindings), logger: logger)
        guard let row = rows.first else { return ApplicationQueue(due: 0, inFlight: 0, waiting: 0, oldestDueAt: nil) }
        let columns = Columns(row)
        return ApplicationQueue(
            countedDue: try columns.get("due", as: Int.self), countedLater: try columns.get("amount", as: Int.self),
            leasedAmongLater: try columns.get("leased", as: Int.self),
            oldestDueAt: try columns.get("oldest_due", as: Date?.self))
    }

    public func response(id: UUID, applicationID: UUID) async throws -> AttemptResponse? {
        guard
            let row = try await client.query(
                "SELECT * FROM response WHERE id = \(id) AND application_id = \(applicationID)", logger: self.logger
            ).first
        else { return nil }
        let columns = Columns(row)
        let body: [UInt8]? = try columns.get("body", as: ByteBuffer?.self).map { Array($0.readableBytesView) }
        return AttemptResponse(
            id: try columns.get("id"), applicationID: try columns.get("application_id"),
            errorName: try columns.get("error_name", as: String?.self).flatMap(ResponseErrorName.init(rawValue:)),
            httpCode: try columns.get("http_code", as: Int?.self), headers: try columns.optionalMap("headers"),
            body: body, bodyTruncated: try columns.get("body_truncated"),
            elapsedMilliseconds: try columns.get("elapsed_ms", as: Int?.self),
            request: try columns.get("request_method", as: String?.self).map { method in
                SentRequest(
                    stored: method, url: try columns.get("request_url", as: String?.self) ?? "",
                    headers: try columns.optionalMap("request_headers") ?? [:])
            })
    }

    static func requestAttempt(_ columns: Columns) throws -> RequestAttempt {
        RequestAttempt(
            id: try columns.get("id"), applicationID: try columns.get("application_id"),
            eventID: try columns.get("event_id"), eventType: try columns.get("event_type"),
            subscriptionID: try columns.get("subscription_id"),
            subscriptionDescription: try columns.get("subscription_description"),
            createdAt: try columns.get("created_at"), pickedAt: try columns.get("picked_at"),
            failedAt: try columns.get("failed_at"), succeededAt: try columns.get("succeeded_at"),
            delayUntil: try columns.get("delay_until"), responseID: try columns.get("response_id"),
            retryCount: try columns.get("retry_count", as: Int.self),
            httpResponseStatus: try columns.get("http_code", as: Int?.self))
    }
}

/// The conditions and bound values of an attempt query's filters (not its position), over `ra`, its event `e` and
/// its response `r`.
struct AttemptFilter {
    var bindings = PostgresBindings()
    var conditions: [String] = []

    init(_ query: AttemptQuery) {
        conditions.append("ra.application_id = \(bind(query.applicationID))")
        if let eventID = query.eventID { conditions.append("ra.event_id = \(bind(eventID))") }
        if let subscriptionID = query.subscriptionID {
            conditions.append("ra.subscription_id = \(bind(subscriptionID))")
        }
        if let minCreatedAt = query.minCreatedAt {
            conditions.append("ra.created_at >= \(bind(minCreatedAt.postgres))")
        }
        if let maxCreatedAt = query.maxCreatedAt {
            conditions.append("ra.created_at <= \(bind(maxCreatedAt.postgres))")
        }
        if let types = query.eventTypes, !types.isEmpty { conditions.append("e.event_type = ANY(\(bind(types)))") }
        conditions += query.outcomeConditions
    }

    /// Binds `value`, answering its placeholder.
    mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }
}
