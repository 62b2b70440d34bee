import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation

/// On the first start against an empty database, creates the administrator account (its e-mail address verified,
/// a random one-time password), its organization, an application and a service token, and returns the welcome
/// text (with a copy-paste tour that starts by signing in) to print once.
public enum FirstStart {
    /// Creates the starter tenant if the database has no organization; nil when it already had one.
    /// Runs under the store's setup lock, so API processes starting together on one database create it once.
    public static func bootstrapIfEmpty(
        store: some FerryStore, publicURL: String, issuer: TokenIssuer, adminEmail: String = "admin@localhost",
        hasher: PasswordHasher = PasswordHasher(), dashboard: Bool = false
    ) async throws -> String? {
        try await store.withSetupLock {
            try await bootstrap(
                store: store, publicURL: publicURL, issuer: issuer, adminEmail: adminEmail, hasher: hasher,
                dashboard: dashboard)
        }
    }

    private static func bootstrap(
        store: some FerryStore, publicURL: String, issuer: TokenIssuer, adminEmail: String, hasher: PasswordHasher,
        dashboard: Bool
    ) async throws -> String? {
        guard try await store.organizationCount() == 0 else { return nil }
        let password = oneTimePassword()
        let now = Date()
        let admin = User(
            id: UUID(), email: adminEmail, firstName: "Ferry", lastName: "Administrator", createdAt: now,
            emailVerifiedAt: now)
        // scrypt holds a thread for a while: it runs on the password threads, not on a cooperative one.
        let hash = try await PasswordWork.run { try hasher.hash(password) }
        let organizationID = try await store.register(
            Registration(user: admin, passwordHash: hash, personalOrganizationName: "My organization"))
        let (application, _) = try await store.createApplication(organizationID: organizationID, name: "My application")
        let (_, bearer) = try await ServiceTokenIssuance.issue(
            organizationID: organizationID, name: "first-start token", createdBy: admin.id, store: store,
            issuer: issuer)
        return welcome(
            organizationID: organizationID.lowercased, applicationID: application.id.lowercased, token: bearer,
            baseURL: publicURL, adminEmail: adminEmail, adminPassword: password, dashboard: dashboard)
    }

    /// 20 characters from an alphabet without look-alikes (about 110 bits).
    static func oneTimePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    static func welcome(
        organizationID: String, applicationID: String, token: String, baseURL: String, adminEmail: String,
        adminPassword: String, dashboard: Bool = false
    ) -> String {
        let api = "\(baseURL)/api/v1"
        let signInInBrowser =
            dashboard ? "\n\nOr open \(baseURL)/ in a browser and sign in with the address and password above." : ""
        return """

            ==================== Ferry first start ====================
            Created once (the password and the token are shown only now; store them):
              administrator:   \(adminEmail)
              password:        \(adminPassword)   (one-time: change it with POST /api/v1/auth/password)
              organization_id: \(organizationID)
              application_id:  \(applicationID)
              service token:   \(token)

            Sign in (the answer's access_token is a Biscuit valid for 5 minutes; refresh_token renews it):

            curl -s -X POST \(api)/auth/login -H 'Content-Type: application/json' \\
              -d '{"email":"\(adminEmail)","password":"\(adminPassword)"}'\(signInInBrowser)

            Try it (subscription targets must be public addresses; step 2b relays deliveries to a receiver
            on this machine instead, with no public URL):

            export FERRY=\(api) TOKEN=\(token) APP=\(applicationID)

            # 1. create an event type
            curl -s -X POST $FERRY/event_types -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
              -d '{"application_id":"'$APP'","service":"billing","resource_type":"invoice","verb":"paid"}'

            # 2. subscribe a receiver to it
            curl -s -X POST $FERRY/subscriptions -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
              -d '{"application_id":"'$APP'","is_enabled":true,"event_types":["billing.invoice.paid"],"labels":{"env":"demo"},"target":{"type":"http","method":"POST","url":"https://example.com/hook","headers":{}}}'

            # 2b. or receive them here: run `ferry receiver` (it prints each delivery) in one terminal, and this
            #     in another, with the export above (it relays the deliveries to the receiver until Ctrl-C)
            FERRY_URL=$FERRY FERRY_TOKEN=$TOKEN FERRY_APPLICATION_ID=$APP ferry listen http://127.0.0.1:9000/hook --label env=demo

            # 3. send an event (it needs 1 to 10 labels; a subscription gets it when all of its labels match)
            curl -s -X POST $FERRY/event -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
              -d '{"application_id":"'$APP'","event_type":"billing.invoice.paid","payload":"{\\"amount\\":42}","payload_content_type":"application/json","labels":{"env":"demo"},"occurred_at":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'"}'

            # 4. list the delivery attempts
            curl -s "$FERRY/request_attempts?application_id=$APP" -H "Authorization: Bearer $TOKEN"
            ===========================================================

            """
    }
}
