import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    public func serverKey(named name: String, storingIfAbsent candidate: [UInt8]) async throws -> [UInt8] {
        let inserted = try await client.query(
            """
            INSERT INTO server_key (name, value, created_at) VALUES (\(name), \(ByteBuffer(bytes: candidate)), now())
            ON CONFLICT (name) DO NOTHING RETURNING value
            """, logger: self.logger
        )
        if let row = inserted.first { return try Columns(row).bytes("value") }
        // Another process stored it first (perhaps while this insert waited on it): a new statement sees its row.
        let stored = try await client.query(
            "SELECT value FROM server_key WHERE name = \(name)", logger: self.logger
        )
        guard let row = stored.first else {
            throw StorageError.unavailable("server key \(name) vanished after its insert")
        }
        return try Columns(row).bytes("value")
    }
}
