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
        guard let value = UUID(uuidString: text) else {
            throw StorageCorruption(description: "column \(column) holds \(text), not a UUID")
        }
        return value
    }

    static func optionalUUID(_ row: Row, _ column: String) throws -> UUID? {
        guard let text = row[column] as String? else { return nil }
        guard let value = UUID(uuidString: text) else {
            throw StorageCorruption(description: "column \(column) holds \(text), not a UUID")
        }
        return value
    }

    static func json(_ map: [String: String]) -> String {
        StoredJSON.text(map)
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

/// A stored value that cannot be what Ferry wrote: the database was edited or damaged.
struct StorageCorruption: Error, CustomStringConvertible {
    var description: String
}
