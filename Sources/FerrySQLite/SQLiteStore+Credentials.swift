import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    public func applicationSecrets(applicationID: UUID) async throws -> [ApplicationSecret] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT * FROM application_secret WHERE application_id = ? AND deleted_at IS NULL ORDER BY created_at",
                arguments: [applicationID.lowercased]
            ).map(Self.applicationSecret)
        }
    }

    public func createApplicationSecret(applicationID: UUID, name: String?) async throws -> ApplicationSecret {
        let secret = ApplicationSecret(token: UUID(), applicationID: applicationID, name: name, createdAt: Date())
        try await write { db in
            try db.execute(
                sql: "INSERT INTO application_secret (token, application_id, name, created_at) VALUES (?, ?, ?, ?)",
                arguments: [
                    secret.token.lowercased, applicationID.lowercased, name, SQLValues.micros(secret.createdAt),
                ])
        }
        return secret
    }

    public func renameApplicationSecret(applicationID: UUID, token: UUID, name: String?) async throws
        -> ApplicationSecret?
    {
        try await write { db in
            try db.execute(
                sql:
                    "UPDATE application_secret SET name = ? WHERE token = ? AND application_id = ? AND deleted_at IS NULL",
                arguments: [name, token.lowercased, applicationID.lowercased])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(
                db, sql: "SELECT * FROM application_secret WHERE token = ?", arguments: [token.lowercased]
            ).map(Self.applicationSecret)
        }
    }

    public func deleteApplicationSecret(applicationID: UUID, token: UUID) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE application_secret SET deleted_at = ?
                    WHERE token = ? AND application_id = ? AND deleted_at IS NULL
                    """,
                arguments: [SQLValues.micros(Date()), token.lowercased, applicationID.lowercased])
            return db.changesCount > 0
        }
    }

    public func liveApplicationSecret(token: UUID) async throws -> (ApplicationSecret, Application)? {
        try await read { db in
            guard
                let row = try db.cachedRow(
                    """
                    SELECT s.*, a.organization_id, a.name AS application_name, a.created_at AS application_created_at
                    FROM application_secret s JOIN application a ON a.id = s.application_id
                    WHERE s.token = ? AND s.deleted_at IS NULL AND a.deleted_at IS NULL
                    """,
                    [token.lowercased])
            else { return nil }
            let secret = try Self.applicationSecret(row)
            let application = Application(
                id: secret.applicationID, organizationID: try SQLValues.uuid(row, "organization_id"),
                name: row["application_name"], createdAt: SQLValues.date(row, "application_created_at"))
            return (secret, application)
        }
    }

    public func createServiceToken(_ token: ServiceToken, tokenHash: [UInt8]) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO service_token
                        (id, organization_id, name, token_hash, display_hint, created_at, created_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    token.id.lowercased, token.organizationID.lowercased, token.name, Data(tokenHash),
                    token.displayHint, SQLValues.micros(token.createdAt), token.createdBy?.lowercased,
                ])
        }
    }

    public func serviceTokens(organizationID: UUID) async throws -> [ServiceToken] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM service_token WHERE organization_id = ? AND revoked_at IS NULL ORDER BY created_at",
                arguments: [organizationID.lowercased]
            ).map(Self.serviceToken)
        }
    }

    public func serviceToken(id: UUID, organizationID: UUID) async throws -> ServiceToken? {
        try await read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM service_token WHERE id = ? AND organization_id = ? AND revoked_at IS NULL",
                arguments: [id.lowercased, organizationID.lowercased]
            ).map(Self.serviceToken)
        }
    }

    public func renameServiceToken(id: UUID, organizationID: UUID, name: String) async throws -> ServiceToken? {
        try await write { db in
            try db.execute(
                sql: "UPDATE service_token SET name = ? WHERE id = ? AND organization_id = ? AND revoked_at IS NULL",
                arguments: [name, id.lowercased, organizationID.lowercased])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM service_token WHERE id = ?", arguments: [id.lowercased])
                .map(Self.serviceToken)
        }
    }

    public func revokeServiceToken(id: UUID, organizationID: UUID) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql:
                    "UPDATE service_token SET revoked_at = ? WHERE id = ? AND organization_id = ? AND revoked_at IS NULL",
                arguments: [SQLValues.micros(Date()), id.lowercased, organizationID.lowercased])
            return db.changesCount > 0
        }
    }

    public func liveServiceToken(tokenHash: [UInt8]) async throws -> ServiceToken? {
        // Every request with a service token runs this: the statement is prepared once per connection.
        try await read { db in
            try db.cachedRow(
                """
                SELECT t.* FROM service_token t JOIN organization o ON o.id = t.organization_id
                WHERE t.token_hash = ? AND t.revoked_at IS NULL
                """,
                [Data(tokenHash)]
            ).map(Self.serviceToken)
        }
    }

    public func recordServiceTokenUse(id: UUID, at date: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE service_token SET last_used_at = ?1
                    WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)
                    """,
                arguments: [SQLValues.micros(date), id.lowercased])
        }
    }

    public func denyBlock(revocationID: String, serviceTokenID: UUID) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO denied_block (revocation_id, service_token_id, created_at) VALUES (?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """,
                arguments: [revocationID, serviceTokenID.lowercased, SQLValues.micros(Date())])
        }
    }

    public func isAnyBlockDenied(_ revocationIDs: [String]) async throws -> Bool {
        guard !revocationIDs.isEmpty else { return false }
        return try await read { db in
            try db.cachedRow(
                "SELECT 1 FROM denied_block WHERE revocation_id IN (\(SQLValues.placeholders(revocationIDs.count)))",
                StatementArguments(revocationIDs)) != nil
        }
    }

    static func applicationSecret(_ row: Row) throws -> ApplicationSecret {
        ApplicationSecret(
            token: try SQLValues.uuid(row, "token"), applicationID: try SQLValues.uuid(row, "application_id"),
            name: row["name"], createdAt: SQLValues.date(row, "created_at"),
            deletedAt: SQLValues.optionalDate(row, "deleted_at"))
    }

    static func serviceToken(_ row: Row) throws -> ServiceToken {
        ServiceToken(
            id: try SQLValues.uuid(row, "id"), organizationID: try SQLValues.uuid(row, "organization_id"),
            name: row["name"], displayHint: row["display_hint"], createdAt: SQLValues.date(row, "created_at"),
            createdBy: try SQLValues.optionalUUID(row, "created_by"),
            lastUsedAt: SQLValues.optionalDate(row, "last_used_at"))
    }
}
