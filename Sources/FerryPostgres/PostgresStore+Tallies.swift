import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    /// How many rows each application, day, measure and bucket of the daily tallies is spread over. A statement
    /// that tallies picks one at random, so concurrent ingest and delivery writers (in one process or many) seldom
    /// wait on each other's row lock; readers sum the shards.
    static let tallyShards = 8

    /// The shard a tallying statement adds to.
    static func tallyShard() -> Int { Int.random(in: 0..<tallyShards) }

    public func eventsPerDay(applicationIDs: [UUID], from: Date, to: Date) async throws -> [EventsPerDay] {
        guard !applicationIDs.isEmpty else { return [] }
        return try await client.query(
            """
            SELECT application_id, day, sum(amount)::bigint AS amount FROM daily_tally
            WHERE application_id = ANY(\(applicationIDs)) AND day BETWEEN \(DailyTally.day(of: from))
                AND \(DailyTally.day(of: to)) AND measure = \(DailyTally.Measure.events.rawValue)
            GROUP BY application_id, day ORDER BY day, application_id
            """, logger: self.logger
        ).map { row in
            let columns = Columns(row)
            return EventsPerDay(
                applicationID: try columns.get("application_id"),
                day: DailyTally.start(ofDay: try columns.get("day", as: Int.self)),
                amount: try columns.get("amount", as: Int.self))
        }
    }

    public func deliveriesPerDay(applicationID: UUID, from: Date, to: Date) async throws -> [DeliveriesPerDay] {
        let tallies = try await client.query(
            """
            SELECT day, measure, bucket, sum(amount)::bigint AS amount FROM daily_tally
            WHERE application_id = \(applicationID) AND day BETWEEN \(DailyTally.day(of: from))
                AND \(DailyTally.day(of: to)) AND measure <> \(DailyTally.Measure.events.rawValue)
            GROUP BY day, measure, bucket
            """, logger: self.logger
        ).compactMap { row -> DailyTallyRow? in
            let columns = Columns(row)
            guard let measure = DailyTally.Measure(rawValue: try columns.get("measure", as: String.self)) else {
                return nil
            }
            return DailyTallyRow(
                day: try columns.get("day", as: Int.self), measure: measure,
                bucket: try columns.get("bucket", as: Int.self), amount: try columns.get("amount", as: Int.self))
        }
        return DeliveriesPerDay.days(fromTallies: tallies)
    }
}

extension PostgresStore {
    /// Deletes the daily tallies and counts them again from the stored events and attempts, as migration 8 did
    /// (tests compare the two).
    func recountDailyTallies() async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM daily_tally", logger: self.logger)
            for statement in PostgresSchema.dailyTallyBackfill {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
            }
        }
    }
}
