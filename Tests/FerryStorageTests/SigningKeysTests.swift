import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

/// A subscription's Ed25519 key and secret rotation, stored alike by every backend and read by the claim.
@Suite struct SigningKeysTests {
    @Test(arguments: StoreBackend.available)
    func theKeyIsKeptByReplacesAndRotationsKeepThePreviousSecretForTheGracePeriod(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, application) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: application.id)
            var draft = Fixtures.draft(applicationID: application.id, url: "https://hooks.example.com/a")
            let key = StandardWebhookAsymmetricSigner.generatePrivateKey()
            draft.ed25519 = .on(newKey: key)
            let secret = UUID()
            let created = try await store.createSubscription(draft, secret: secret)
            #expect(created.signing.ed25519PrivateKey == key)
            #expect(try await store.subscription(id: created.id)?.signing == SigningKeys(ed25519PrivateKey: key))

            // A replace asking for v1a again keeps the key; one without the field keeps it; `off` drops it.
            draft.ed25519 = .on(newKey: StandardWebhookAsymmetricSigner.generatePrivateKey())
            #expect(try await store.replaceSubscription(id: created.id, with: draft)?.signing.ed25519PrivateKey == key)
            draft.ed25519 = .keep
            #expect(try await store.replaceSubscription(id: created.id, with: draft)?.signing.ed25519PrivateKey == key)

            let newSecret = UUID()
            let newKey = StandardWebhookAsymmetricSigner.generatePrivateKey()
            let until = Date().addingTimeInterval(3_600)
            let rotated = try #require(
                try await store.rotateSubscriptionSecret(
                    id: created.id, applicationID: application.id, secret: newSecret, ed25519Key: newKey,
                    previousUntil: until))
            #expect(rotated.secret == newSecret && rotated.signing.ed25519PrivateKey == newKey)
            #expect(rotated.signing.previousSecret == secret && rotated.signing.previousEd25519PrivateKey == key)
            #expect(abs((rotated.signing.previousExpiresAt ?? .distantPast).timeIntervalSince(until)) < 0.001)
            #expect(rotated.signing.previousSigns(at: Date()))

            // The claim reads what signing needs.
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))
            let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(60)).first)
            #expect(job.secret == newSecret && job.signing == rotated.signing)

            // Rotating with no grace period drops the previous ones; without v1a no key is made.
            draft.ed25519 = .off
            let off = try await store.replaceSubscription(id: created.id, with: draft)
            #expect(off?.signing.ed25519PrivateKey == nil && off?.signing.previousEd25519PrivateKey == nil)
            #expect(off?.signing.previousSecret == secret, "turning v1a off keeps the previous secret's grace")
            let immediate = try #require(
                try await store.rotateSubscriptionSecret(
                    id: created.id, applicationID: application.id, secret: UUID(), ed25519Key: newKey,
                    previousUntil: Date()))
            #expect(immediate.signing == SigningKeys())
            let (_, other) = try await Fixtures.tenant(in: store)
            #expect(
                try await store.rotateSubscriptionSecret(
                    id: created.id, applicationID: other.id, secret: UUID(), ed25519Key: newKey, previousUntil: until)
                    == nil, "another application's subscription is not found")
        }
    }
}
