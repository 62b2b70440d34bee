import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    /// Adds `amount` to one daily tally, inside the write that does what it counts.
    static func tally(
        _ db: Database, applicationID: UUID, day: Int, _ measure: DailyTally.Measure, bucket: Int = 0, amount: Int = 1
    ) throws {
        try db.executeCached(
            """
            INSERT INTO daily_tally (application_id, day, measure, bucket, amount) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET amount = amount + excluded.amount
            """, [applicationID.lowercased, day, measure.rawValue, bucket, amount])
    }

    public func eventsPerDay(applicationIDs: [UUID], from: Date, to: Date) async throws -> [EventsPerDay] {
        guard !applicationIDs.isEmpty else { return [] }
        let arguments =
            StatementArguments(applicationIDs.map(\.lowercased))
            + [DailyTally.Measure.events.rawValue, DailyTally.day(of: from), DailyTally.day(of: to)]
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT application_id, day, SUM(amount) AS amount FROM daily_tally
                    WHERE application_id IN (\(SQLValues.placeholders(applicationIDs.count)))
                      AND measure = ? AND day BETWEEN ? AND ?
                    GROUP BY application_id, day ORDER BY day, application_id
                    """, arguments: arguments
            ).map { row in
                EventsPerDay(
                    applicationID: try SQLValues.uuid(row, "application_id"),
                    day: DailyTally.start(ofDay: row["day"]), amount: row["amount"])
            }
        }
    }

    public func deliveriesPerDay(applicationID: UUID, from: Date, to: Date) async throws -> [DeliveriesPerDay] {
        let arguments: StatementArguments = [
            applicationID.lowercased, DailyTally.day(of: from), DailyTally.day(of: to),
            DailyTally.Measure.events.rawValue,
        ]
        let tallies = try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT day, measure, bucket, amount FROM daily_tally
                    WHERE application_id = ? AND day BETWEEN ? AND ? AND measure <> ?
                    """, arguments: arguments
            ).compactMap { row -> DailyTallyRow? in
                guard let measure = DailyTally.Measure(rawValue: row["measure"]) else { return nil }
                return DailyTallyRow(day: row["day"], measure: measure, bucket: row["bucket"], amount: row["amount"])
            }
        }
        return DeliveriesPerDay.days(fromTallies: tallies)
    }
}

extension SQLiteStore {
    /// Deletes the daily tallies and counts them again from the stored events and attempts, as migration 8 did
    /// (tests compare the two).
    func recountDailyTallies() async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM daily_tally")
            try SQLiteSchema.backfillDailyTallies(db)
        }
    }
}
