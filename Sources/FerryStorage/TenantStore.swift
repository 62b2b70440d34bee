import FerryCore
import Foundation

/// Organizations, applications and the credentials that act on them.
public protocol TenantStore: Sendable {
    /// Creates an organization.
    func createOrganization(name: String) async throws -> Organization
    /// Every organization when `ids` is nil, otherwise those of `ids` that exist.
    func organizations(ids: [UUID]?) async throws -> [Organization]
    /// One organization, or nil.
    func organization(id: UUID) async throws -> Organization?
    /// Renames an organization; nil if it does not exist.
    func renameOrganization(id: UUID, name: String) async throws -> Organization?
    /// Deletes an empty organization; throws `DomainError.organizationIsNotEmpty` if it has live applications.
    func deleteOrganization(id: UUID) async throws -> Bool
    /// How many organizations exist (first-start bootstrap checks for zero).
    func organizationCount() async throws -> Int
    /// The application that receives the organization's operational events (`OperationalEvent`), if it chose one
    /// and it is still live.
    func operationalApplication(organizationID: UUID) async throws -> UUID?
    /// Chooses the application receiving the organization's operational events, or with nil stops them; false
    /// when the organization is gone or the application is not a live one of it.
    func setOperationalApplication(organizationID: UUID, applicationID: UUID?) async throws -> Bool
    /// The operational application of the organization owning `applicationID`, if any.
    func operationalApplication(forApplication applicationID: UUID) async throws -> UUID?

    /// Creates an application and its first secret, named "Default".
    func createApplication(organizationID: UUID, name: String) async throws -> (Application, ApplicationSecret)
    /// Live applications of an organization, by creation time.
    func applications(organizationID: UUID) async throws -> [Application]
    /// A live (not deleted) application, or nil.
    func application(id: UUID) async throws -> Application?
    /// Renames an application; nil if it is gone.
    func renameApplication(id: UUID, name: String) async throws -> Application?
    /// Soft-deletes an application and cancels its pending attempts.
    func deleteApplication(id: UUID) async throws -> Bool

    /// Live secrets of an application.
    func applicationSecrets(applicationID: UUID) async throws -> [ApplicationSecret]
    /// Creates an application secret.
    func createApplicationSecret(applicationID: UUID, name: String?) async throws -> ApplicationSecret
    /// Renames a live secret; nil if none.
    func renameApplicationSecret(applicationID: UUID, token: UUID, name: String?) async throws -> ApplicationSecret?
    /// Revokes a live secret.
    func deleteApplicationSecret(applicationID: UUID, token: UUID) async throws -> Bool
    /// The live secret with this token whose application is live, for authentication.
    func liveApplicationSecret(token: UUID) async throws -> (ApplicationSecret, Application)?

    /// Stores a new service token under `tokenHash`, what authentication finds it by: the SHA-256 of its root
    /// block's revocation id (a Biscuit, and every token attenuated from it), or of a legacy `fst_` bearer.
    func createServiceToken(_ token: ServiceToken, tokenHash: [UInt8]) async throws
    /// Live service tokens of an organization.
    func serviceTokens(organizationID: UUID) async throws -> [ServiceToken]
    /// One live service token of an organization.
    func serviceToken(id: UUID, organizationID: UUID) async throws -> ServiceToken?
    /// Renames a live service token.
    func renameServiceToken(id: UUID, organizationID: UUID, name: String) async throws -> ServiceToken?
    /// Revokes a service token.
    func revokeServiceToken(id: UUID, organizationID: UUID) async throws -> Bool
    /// The live service token stored under `tokenHash`, for authentication.
    func liveServiceToken(tokenHash: [UInt8]) async throws -> ServiceToken?
    /// Records that service token `id` authenticated a request at `date` (a later use only moves it forward).
    func recordServiceTokenUse(id: UUID, at date: Date) async throws
    /// Deny-lists one block of a token attenuated from service token `serviceTokenID` by the block's revocation
    /// id: every token holding that block is refused from then on, its siblings and its root are not.
    func denyBlock(revocationID: String, serviceTokenID: UUID) async throws
    /// Whether any of `revocationIDs` is deny-listed.
    func isAnyBlockDenied(_ revocationIDs: [String]) async throws -> Bool
}
