import FerryCore
import FerryStorage
import Foundation
import GRDB

extension SQLiteStore {
    public func createOrganization(name: String) async throws -> Organization {
        let organization = Organization(id: UUID(), name: name, createdAt: Date())
        try await write { db in
            try db.execute(
                sql: "INSERT INTO organization (id, name, created_at) VALUES (?, ?, ?)",
                arguments: [organization.id.lowercased, name, SQLValues.micros(organization.createdAt)])
        }
        return organization
    }

    public func organizations(ids: [UUID]?) async throws -> [Organization] {
        try await read { db in
            let rows: [Row]
            if let ids {
                rows = try Row.fetchAll(
                    db,
                    sql:
                        "SELECT * FROM organization WHERE id IN (\(SQLValues.placeholders(ids.count))) ORDER BY created_at",
                    arguments: StatementArguments(ids.map(\.lowercased)))
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM organization ORDER BY created_at")
            }
            return try rows.map(Self.organization)
        }
    }

    public func organization(id: UUID) async throws -> Organization? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM organization WHERE id = ?", arguments: [id.lowercased])
                .map(Self.organization)
        }
    }

    public func renameOrganization(id: UUID, name: String) async throws -> Organization? {
        try await write { db in
            try db.execute(sql: "UPDATE organization SET name = ? WHERE id = ?", arguments: [name, id.lowercased])
            return try Row.fetchOne(db, sql: "SELECT * FROM organization WHERE id = ?", arguments: [id.lowercased])
                .map(Self.organization)
        }
    }

    public func operationalApplication(organizationID: UUID) async throws -> UUID? {
        try await read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT a.id FROM organization o JOIN application a ON a.id = o.operational_application_id
                    WHERE o.id = ? AND a.organization_id = o.id AND a.deleted_at IS NULL
                    """, arguments: [organizationID.lowercased]
            ).flatMap(UUID.init(uuidString:))
        }
    }

    public func setOperationalApplication(organizationID: UUID, applicationID: UUID?) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE organization SET operational_application_id = ?
                    WHERE id = ? AND (? IS NULL OR EXISTS (
                        SELECT 1 FROM application WHERE id = ? AND organization_id = organization.id
                          AND deleted_at IS NULL))
                    """,
                arguments: [
                    applicationID?.lowercased, organizationID.lowercased, applicationID?.lowercased,
                    applicationID?.lowercased,
                ])
            return db.changesCount > 0
        }
    }

    public func operationalApplication(forApplication applicationID: UUID) async throws -> UUID? {
        try await read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT target.id FROM application source
                    JOIN organization o ON o.id = source.organization_id
                    JOIN application target ON target.id = o.operational_application_id
                    WHERE source.id = ? AND target.organization_id = o.id AND target.deleted_at IS NULL
                    """, arguments: [applicationID.lowercased]
            ).flatMap(UUID.init(uuidString:))
        }
    }

    public func deleteOrganization(id: UUID) async throws -> Bool {
        try await write { db in
            let organization = id.lowercased
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM organization WHERE id = ?", arguments: [organization]) != nil
            else { return false }
            let live =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM application WHERE organization_id = ? AND deleted_at IS NULL",
                    arguments: [organization]) ?? 0
            if live > 0 { throw DomainError.organizationIsNotEmpty }
            // Only soft-deleted applications remain: remove them and everything they own, children first.
            let applications = "SELECT id FROM application WHERE organization_id = ?"
            for statement in [
                "DELETE FROM request_attempt WHERE application_id IN (\(applications))",
                "DELETE FROM response WHERE application_id IN (\(applications))",
                "DELETE FROM event WHERE application_id IN (\(applications))",
                "DELETE FROM daily_tally WHERE application_id IN (\(applications))",
                "DELETE FROM subscription_event_type WHERE subscription_id IN (SELECT id FROM subscription WHERE application_id IN (\(applications)))",
                "DELETE FROM subscription WHERE application_id IN (\(applications))",
                "DELETE FROM event_type WHERE application_id IN (\(applications))",
                "DELETE FROM application_secret WHERE application_id IN (\(applications))",
                "DELETE FROM application WHERE organization_id = ?",
                "DELETE FROM denied_block WHERE service_token_id IN (SELECT id FROM service_token WHERE organization_id = ?)",
                "DELETE FROM service_token WHERE organization_id = ?",
                "DELETE FROM membership WHERE organization_id = ?",
                "DELETE FROM invitation WHERE organization_id = ?",
                "DELETE FROM organization WHERE id = ?",
            ] {
                try db.execute(sql: statement, arguments: [organization])
            }
            return true
        }
    }

    public func organizationCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM organization") ?? 0 }
    }

    public func createApplication(organizationID: UUID, name: String) async throws -> (Application, ApplicationSecret) {
        let now = Date()
        let application = Application(id: UUID(), organizationID: organizationID, name: name, createdAt: now)
        let secret = ApplicationSecret(token: UUID(), applicationID: application.id, name: "Default", createdAt: now)
        try await write { db in
            try db.execute(
                sql: "INSERT INTO application (id, organization_id, name, created_at) VALUES (?, ?, ?, ?)",
                arguments: [application.id.lowercased, organizationID.lowercased, name, SQLValues.micros(now)])
            try db.execute(
                sql: "INSERT INTO application_secret (token, application_id, name, created_at) VALUES (?, ?, ?, ?)",
                arguments: [secret.token.lowercased, application.id.lowercased, secret.name, SQLValues.micros(now)])
        }
        return (application, secret)
    }

    public func applications(organizationID: UUID) async throws -> [Application] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM application WHERE organization_id = ? AND deleted_at IS NULL ORDER BY created_at",
                arguments: [organizationID.lowercased]
            ).map(Self.application)
        }
    }

    public func application(id: UUID) async throws -> Application? {
        try await read { db in try Self.liveApplication(db, id: id) }
    }

    /// The application `id` unless it was deleted: the read every application lookup and update ends with.
    static func liveApplication(_ db: Database, id: UUID) throws -> Application? {
        try db.cachedRow("SELECT * FROM application WHERE id = ? AND deleted_at IS NULL", [id.lowercased])
            .map(Self.application)
    }

    public func renameApplication(id: UUID, name: String) async throws -> Application? {
        try await write { db in
            try db.execute(
                sql: "UPDATE application SET name = ? WHERE id = ? AND deleted_at IS NULL",
                arguments: [name, id.lowercased])
            return try Self.liveApplication(db, id: id)
        }
    }

    public func deleteApplication(id: UUID) async throws -> Bool {
        try await write { db in
            let now = SQLValues.micros(Date())
            try db.execute(
                sql: "UPDATE application SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                arguments: [now, id.lowercased])
            guard db.changesCount > 0 else { return false }
            try db.execute(
                sql: """
                    UPDATE request_attempt SET failed_at = ?
                    WHERE application_id = ? AND failed_at IS NULL AND succeeded_at IS NULL
                    """,
                arguments: [now, id.lowercased])
            return true
        }
    }

    static func organization(_ row: Row) throws -> Organization {
        Organization(id: try SQLValues.uuid(row, "id"), name: row["name"], createdAt: SQLValues.date(row, "created_at"))
    }

    static func application(_ row: Row) throws -> Application {
        Application(
            id: try SQLValues.uuid(row, "id"), organizationID: try SQLValues.uuid(row, "organization_id"),
            name: row["name"], createdAt: SQLValues.date(row, "created_at"), retentionDays: row["retention_days"])
    }
}
