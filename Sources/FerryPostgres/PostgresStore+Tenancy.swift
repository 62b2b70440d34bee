import FerryCore
import FerryStorage
import Foundation
import PostgresNIO

extension PostgresStore {
    public func createOrganization(name: String) async throws -> Organization {
        let organization = Organization(id: UUID(), name: name, createdAt: Date())
        try await client.query(
            "INSERT INTO organization (id, name, created_at) VALUES (\(organization.id), \(name), \(organization.createdAt.postgres))",
            logger: self.logger)
        return organization
    }

    public func organizations(ids: [UUID]?) async throws -> [Organization] {
        let rows: [PostgresRow]
        if let ids {
            rows = try await client.query(
                "SELECT * FROM organization WHERE id = ANY(\(ids)) ORDER BY created_at", logger: self.logger)
        } else {
            rows = try await client.query("SELECT * FROM organization ORDER BY created_at", logger: self.logger)
        }
        return try rows.map { try Self.organization(Columns($0)) }
    }

    public func organization(id: UUID) async throws -> Organization? {
        try await client.rows(OrganizationQuery(id: id), logger: logger).first.map {
            try Self.organization(Columns($0))
        }
    }

    public func renameOrganization(id: UUID, name: String) async throws -> Organization? {
        try await client.query(
            "UPDATE organization SET name = \(name) WHERE id = \(id) RETURNING *", logger: self.logger
        ).first.map { try Self.organization(Columns($0)) }
    }

    public func operationalApplication(organizationID: UUID) async throws -> UUID? {
        try await client.query(
            """
            SELECT a.id FROM organization o JOIN application a ON a.id = o.operational_application_id
            WHERE o.id = \(organizationID) AND a.organization_id = o.id AND a.deleted_at IS NULL
            """, logger: logger
        ).first.map { try Columns($0).get("id", as: UUID.self) }
    }

    public func setOperationalApplication(organizationID: UUID, applicationID: UUID?) async throws -> Bool {
        try await !client.query(
            """
            UPDATE organization SET operational_application_id = \(applicationID)::uuid
            WHERE id = \(organizationID) AND (\(applicationID)::uuid IS NULL OR EXISTS (
                SELECT 1 FROM application WHERE id = \(applicationID)::uuid AND organization_id = organization.id
                  AND deleted_at IS NULL))
            RETURNING id
            """, logger: logger
        ).isEmpty
    }

    public func operationalApplication(forApplication applicationID: UUID) async throws -> UUID? {
        try await client.query(
            """
            SELECT target.id FROM application source
            JOIN organization o ON o.id = source.organization_id
            JOIN application target ON target.id = o.operational_application_id
            WHERE source.id = \(applicationID) AND target.organization_id = o.id AND target.deleted_at IS NULL
            """, logger: logger
        ).first.map { try Columns($0).get("id", as: UUID.self) }
    }

    public func deleteOrganization(id: UUID) async throws -> Bool {
        try await transaction { connection in
            guard
                try await !connection.query(
                    "SELECT 1 FROM organization WHERE id = \(id) FOR UPDATE", logger: self.logger
                )
                .collect().isEmpty
            else { return false }
            let live =
                try await connection.query(
                    "SELECT count(*) FROM application WHERE organization_id = \(id) AND deleted_at IS NULL",
                    logger: self.logger
                ).collect().first.map { try Columns($0).get("count", as: Int.self) } ?? 0
            if live > 0 { throw DomainError.organizationIsNotEmpty }
            let applications = "SELECT id FROM application WHERE organization_id = $1"
            for statement in [
                "DELETE FROM request_attempt WHERE application_id IN (\(applications))",
                "DELETE FROM response WHERE application_id IN (\(applications))",
                "DELETE FROM event WHERE application_id IN (\(applications))",
                "DELETE FROM daily_tally WHERE application_id IN (\(applications))",
                "DELETE FROM subscription_event_type WHERE subscription_id IN (SELECT id FROM subscription WHERE application_id IN (\(applications)))",
                "DELETE FROM subscription WHERE application_id IN (\(applications))",
                "DELETE FROM event_type WHERE application_id IN (\(applications))",
                "DELETE FROM application_secret WHERE application_id IN (\(applications))",
                "DELETE FROM application WHERE organization_id = $1",
                "DELETE FROM denied_block WHERE service_token_id IN (SELECT id FROM service_token WHERE organization_id = $1)",
                "DELETE FROM service_token WHERE organization_id = $1",
                "DELETE FROM membership WHERE organization_id = $1",
                "DELETE FROM invitation WHERE organization_id = $1",
                "DELETE FROM organization WHERE id = $1",
            ] {
                var bindings = PostgresBindings()
                bindings.append(id)
                try await connection.query(PostgresQuery(unsafeSQL: statement, binds: bindings), logger: self.logger)
            }
            return true
        }
    }

    public func organizationCount() async throws -> Int {
        try await client.query("SELECT count(*) FROM organization", logger: self.logger).first
            .map { try Columns($0).get("count", as: Int.self) } ?? 0
    }

    public func createApplication(organizationID: UUID, name: String) async throws -> (Application, ApplicationSecret) {
        let now = Date()
        let application = Application(id: UUID(), organizationID: organizationID, name: name, createdAt: now)
        let secret = ApplicationSecret(token: UUID(), applicationID: application.id, name: "Default", createdAt: now)
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO application (id, organization_id, name, created_at)
                VALUES (\(application.id), \(organizationID), \(name), \(now.postgres))
                """, logger: self.logger)
            try await connection.query(
                """
                INSERT INTO application_secret (token, application_id, name, created_at)
                VALUES (\(secret.token), \(application.id), \(secret.name), \(now.postgres))
                """, logger: self.logger)
        }
        return (application, secret)
    }

    public func applications(organizationID: UUID) async throws -> [Application] {
        try await client.query(
            """
            SELECT * FROM application WHERE organization_id = \(organizationID) AND deleted_at IS NULL
            ORDER BY created_at
            """, logger: self.logger
        ).map { try Self.application(Columns($0)) }
    }

    public func application(id: UUID) async throws -> Application? {
        try await client.rows(LiveApplicationQuery(id: id), logger: logger).first.map {
            try Self.application(Columns($0))
        }
    }

    public func renameApplication(id: UUID, name: String) async throws -> Application? {
        try await client.query(
            "UPDATE application SET name = \(name) WHERE id = \(id) AND deleted_at IS NULL RETURNING *",
            logger: self.logger
        ).first.map { try Self.application(Columns($0)) }
    }

    public func deleteApplication(id: UUID) async throws -> Bool {
        try await transaction { connection in
            let now = Date()
            let deleted = try await connection.query(
                "UPDATE application SET deleted_at = \(now.postgres) WHERE id = \(id) AND deleted_at IS NULL RETURNING id",
                logger: self.logger
            ).collect()
            guard !deleted.isEmpty else { return false }
            try await connection.query(
                """
                UPDATE request_attempt SET failed_at = \(now.postgres)
                WHERE application_id = \(id) AND failed_at IS NULL AND succeeded_at IS NULL
                """, logger: self.logger)
            return true
        }
    }

    static func organization(_ columns: Columns) throws -> Organization {
        Organization(id: try columns.get("id"), name: try columns.get("name"), createdAt: try columns.get("created_at"))
    }

    static func application(_ columns: Columns) throws -> Application {
        Application(
            id: try columns.get("id"), organizationID: try columns.get("organization_id"),
            name: try columns.get("name"), createdAt: try columns.get("created_at"),
            retentionDays: try columns.get("retention_days", as: Int32?.self).map(Int.init))
    }
}
