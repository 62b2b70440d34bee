import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    public func applicationSecrets(applicationID: UUID) async throws -> [ApplicationSecret] {
        try await client.query(
            """
            SELECT * FROM application_secret WHERE application_id = \(applicationID) AND deleted_at IS NULL
            ORDER BY created_at
            """, logger: self.logger
        ).map { try Self.applicationSecret(Columns($0)) }
    }

    public func createApplicationSecret(applicationID: UUID, name: String?) async throws -> ApplicationSecret {
        let secret = ApplicationSecret(token: UUID(), applicationID: applicationID, name: name, createdAt: Date())
        try await client.query(
            """
            INSERT INTO application_secret (token, application_id, name, created_at)
            VALUES (\(secret.token), \(applicationID), \(name), \(secret.createdAt.postgres))
            """, logger: self.logger)
        return secret
    }

    public func renameApplicationSecret(applicationID: UUID, token: UUID, name: String?) async throws
        -> ApplicationSecret?
    {
        try await client.query(
            """
            UPDATE application_secret SET name = \(name)
            WHERE token = \(token) AND application_id = \(applicationID) AND deleted_at IS NULL RETURNING *
            """, logger: self.logger
        ).first.map { try Self.applicationSecret(Columns($0)) }
    }

    public func deleteApplicationSecret(applicationID: UUID, token: UUID) async throws -> Bool {
        try await !client.query(
            """
            UPDATE application_secret SET deleted_at = \(Date().postgres)
            WHERE token = \(token) AND application_id = \(applicationID) AND deleted_at IS NULL RETURNING token
            """, logger: self.logger
        ).isEmpty
    }

    public func liveApplicationSecret(token: UUID) async throws -> (ApplicationSecret, Application)? {
        guard
            let row = try await client.rows(LiveApplicationSecretQuery(token: token), logger: logger).first
        else { return nil }
        let columns = Columns(row)
        let secret = try Self.applicationSecret(columns)
        let application = Application(
            id: secret.applicationID, organizationID: try columns.get("organization_id"),
            name: try columns.get("application_name"), createdAt: try columns.get("application_created_at"))
        return (secret, application)
    }

    public func createServiceToken(_ token: ServiceToken, tokenHash: [UInt8]) async throws {
        try await client.query(
            """
            INSERT INTO service_token (id, organization_id, name, token_hash, display_hint, created_at, created_by)
            VALUES (\(token.id), \(token.organizationID), \(token.name), \(ByteBuffer(bytes: tokenHash)),
                \(token.displayHint), \(token.createdAt.postgres), \(token.createdBy))
            """, logger: self.logger)
    }

    public func serviceTokens(organizationID: UUID) async throws -> [ServiceToken] {
        try await client.query(
            """
            SELECT * FROM service_token WHERE organization_id = \(organizationID) AND revoked_at IS NULL
            ORDER BY created_at
            """, logger: self.logger
        ).map { try Self.serviceToken(Columns($0)) }
    }

    public func serviceToken(id: UUID, organizationID: UUID) async throws -> ServiceToken? {
        try await client.query(
            """
            SELECT * FROM service_token WHERE id = \(id) AND organization_id = \(organizationID) AND revoked_at IS NULL
            """, logger: self.logger
        ).first.map { try Self.serviceToken(Columns($0)) }
    }

    public func renameServiceToken(id: UUID, organizationID: UUID, name: String) async throws -> ServiceToken? {
        try await client.query(
            """
            UPDATE service_token SET name = \(name)
            WHERE id = \(id) AND organization_id = \(organizationID) AND revoked_at IS NULL RETURNING *
            """, logger: self.logger
        ).first.map { try Self.serviceToken(Columns($0)) }
    }

    public func revokeServiceToken(id: UUID, organizationID: UUID) async throws -> Bool {
        try await !client.query(
            """
            UPDATE service_token SET revoked_at = \(Date().postgres)
            WHERE id = \(id) AND organization_id = \(organizationID) AND revoked_at IS NULL RETURNING id
            """, logger: self.logger
        ).isEmpty
    }

    public func liveServiceToken(tokenHash: [UInt8]) async throws -> ServiceToken? {
        try await client.rows(LiveServiceTokenQuery(tokenHash: tokenHash), logger: logger).first
            .map { try Self.serviceToken(Columns($0)) }
    }

    public func recordServiceTokenUse(id: UUID, at date: Date) async throws {
        try await client.query(
            """
            UPDATE service_token SET last_used_at = \(date.postgres)
            WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < \(date.postgres))
            """, logger: self.logger)
    }

    public func denyBlock(revocationID: String, serviceTokenID: UUID) async throws {
        try await client.query(
            """
            INSERT INTO denied_block (revocation_id, service_token_id, created_at)
            VALUES (\(revocationID), \(serviceTokenID), \(Date().postgres)) ON CONFLICT DO NOTHING
            """, logger: self.logger)
    }

    public func isAnyBlockDenied(_ revocationIDs: [String]) async throws -> Bool {
        guard !revocationIDs.isEmpty else { return false }
        return try await !client.query(
            "SELECT 1 FROM denied_block WHERE revocation_id = ANY(\(revocationIDs))", logger: self.logger
        ).isEmpty
    }

    static func applicationSecret(_ columns: Columns) throws -> ApplicationSecret {
        ApplicationSecret(
            token: try columns.get("token"), applicationID: try columns.get("application_id"),
            name: try columns.get("name"), createdAt: try columns.get("created_at"),
            deletedAt: try columns.get("deleted_at"))
    }

    static func serviceToken(_ columns: Columns) throws -> ServiceToken {
        ServiceToken(
            id: try columns.get("id"), organizationID: try columns.get("organization_id"),
            name: try columns.get("name"),
            displayHint: try columns.get("display_hint"), createdAt: try columns.get("created_at"),
            createdBy: try columns.get("created_by"), lastUsedAt: try columns.get("last_used_at"))
    }
}
