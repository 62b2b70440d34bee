import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation

/// On the first start against an empty database, creates an organization, an application and a service token,
/// and returns the welcome text (with a copy-paste curl tour) to print once.
public enum FirstStart {
    /// Creates the starter tenant if the database has no organization; nil when it already had one.
    /// Runs under the store's setup lock, so API processes starting together on one database create it once.
    public static func bootstrapIfEmpty(store: some FerryStore, publicURL: String, issuer: TokenIssuer) async throws
        -> String?
    {
        try await store.withSetupLock { try await bootstrap(store: store, publicURL: publicURL, issuer: issuer) }
    }

    private static func bootstrap(store: some FerryStore, publicURL: String, issuer: TokenIssuer) async throws
        -> String?
    {
        guard try await store.organizationCount() == 0 else { return nil }
        let organization = try await store.createOrganization(name: "My organization")
        let (application, _) = try await store.createApplication(
            organizationID: organization.id, name: "My application")
        let (_, bearer) = try await ServiceTokenIssuance.issue(
            organizationID: organization.id, name: "first-start token", store: store, issuer: issuer)
        return welcome(
            organizationID: organization.id.lowercased, applicationID: application.id.lowercased, token: bearer,
            baseURL: publicURL)
    }

    static func welcome(organizationID: String, applicationID: String, token: String, baseURL: String) -> String {
        let api = "\(baseURL)/api/v1"
        return """

            ==================== Ferry first start ====================
            Created once (this token is shown only now; store it):
              organization_id: \(organizationID)
              application_id:  \(applicationID)
              service token:   \(token)

            Try it (targets must be public addresses; for a receiver on this machine, restart
            Ferry with FERRY_ALLOWED_TARGET_NETWORKS=127.0.0.0/8 and use http://127.0.0.1:9000/hook):

            export FERRY=\(api) TOKEN=\(token) APP=\(applicationID)

            # 1. create an event type
            curl -s -X POST $FERRY/event_types -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
              -d '{"application_id":"'$APP'","service":"billing","resource_type":"invoice","verb":"paid"}'

            # 2. subscribe a receiver to it
            curl -s -X POST $FERRY/subscriptions -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
              -d '{"application_id":"'$APP'","is_enabled":true,"event_types":["billing.invoice.paid"],"labels":{"env":"demo"},"target":{"type":"http","method":"POST","url":"https://example.com/hook","headers":{}}}'

            # 3. send an event
            curl -s -X POST $FERRY/event -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
              -d '{"application_id":"'$APP'","event_type":"billing.invoice.paid","payload":"{\\"amount\\":42}","payload_content_type":"application/json","labels":{"env":"demo"},"occurred_at":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'"}'

            # 4. list the delivery attempts
            curl -s "$FERRY/request_attempts?application_id=$APP" -H "Authorization: Bearer $TOKEN"
            ===========================================================

            """
    }
}
