import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    public func serverKey(named name: String, storingIfAbsent candidate: [UInt8]) async throws -> [UInt8] {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO server_key (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                arguments: [name, Data(candidate), SQLValues.micros(Date())])
            guard
                let stored = try Data.fetchOne(
                    db, sql: "SELECT value FROM server_key WHERE name = ?", arguments: [name])
            else { throw StorageError.unavailable("server key \(name) vanished after its insert") }
            return Array(stored)
        }
    }
}
