import FerryCore
import FerryStorage
import Foundation
import GRDB

/// Conversions between domain values and the SQLite column encodings.
enum SQLValues {
    static func micros(_ date: Date) -> Int64 { Timestamp.microseconds(date) }

    static func date(_ row: Row, _ column: String) -> Date {
        Timestamp.date(microseconds: row[column] as Int64)
    }

    static func optionalDate(_ row: Row, _ column: String) -> Date? {
        (row[column] as Int64?).map(Timestamp.date(microseconds:))
    }

    static func uuid(_ row: Row, _ column: String) throws -> UUID {
        let text: String = row[column]
        guard let value = UUID(hyphenated: text) else {
            throw StorageError.failed("column \(column) holds \(text), not a UUID")
        }
        return value
    }

    static func optionalUUID(_ row: Row, _ column: String) throws -> UUID? {
        guard let text = row[column] as String? else { return nil }
        guard let value = UUID(hyphenated: text) else {
            throw StorageError.failed("column \(column) holds \(text), not a UUID")
        }
        return value
    }

    static func json(_ map: [String: String]) -> String {
        StoredJSON.text(map)
    }

    /// A JSON array of lowercase UUID strings, for `json_each` (a UUID's text needs no escaping).
    static func json(_ ids: [UUID]) -> String {
        "[" + ids.map { "\"" + $0.lowercased + "\"" }.joined(separator: ",") + "]"
    }

    static func map(_ row: Row, _ column: String) -> [String: String] {
        guard let text = row[column] as String? else { return [:] }
        return StoredJSON.map(text) ?? [:]
    }

    static func optionalMap(_ row: Row, _ column: String) -> [String: String]? {
        guard let text = row[column] as String? else { return nil }
        return StoredJSON.map(text)
    }

    static func bytes(_ row: Row, _ column: String) -> [UInt8] {
        (row[column] as Data?).map(Array.init) ?? []
    }

    /// `?, ?, ?` for an `IN (…)` list of `count` items.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}

/// A SQLite row read through `StoredRow`: UUIDs and JSON maps as text, dates as microseconds since 1970, booleans as
/// integers.
struct SQLiteRow: StoredRow {
    let row: Row

    init(_ row: Row) {
        self.row = row
    }

    func uuid(_ column: String) throws -> UUID { try SQLValues.uuid(row, column) }
    func text(_ column: String) throws -> String { row[column] }
    func optionalText(_ column: String) throws -> String? { row[column] }
    func bool(_ column: String) throws -> Bool { row[column] }
    func date(_ column: String) throws -> Date { SQLValues.date(row, column) }
    func optionalDate(_ column: String) throws -> Date? { SQLValues.optionalDate(row, column) }
    func stringMap(_ column: String) throws -> [String: String] { SQLValues.map(row, column) }
    func bytes(_ column: String) throws -> [UInt8] { SQLValues.bytes(row, column) }
}
