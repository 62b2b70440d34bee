import FerryCore
import FerryStorage
import Foundation

/// Builders for test fixtures: each test makes its own organization and application.
public enum Fixtures {
    /// A new organization and application in `store`.
    public static func tenant(in store: some FerryStore) async throws -> (Organization, Application) {
        let organization = try await store.createOrganization(name: "org \(UUID().uuidString.prefix(8))")
        let (application, _) = try await store.createApplication(organizationID: organization.id, name: "app")
        return (organization, application)
    }

    /// A subscription draft for `url` on `eventTypes` with `labels`.
    public static func draft(
        applicationID: UUID, url: String, eventTypes: [String] = ["billing.invoice.paid"],
        labels: [String: String] = ["tenant": "t1"], headers: [String: String] = [:], enabled: Bool = true
    ) -> SubscriptionDraft {
        SubscriptionDraft(
            applicationID: applicationID, isEnabled: enabled, eventTypes: eventTypes, description: "test",
            metadata: [:], labels: labels, target: HTTPTarget(method: "POST", url: url, headers: headers))
    }

    /// An event ready to ingest.
    public static func event(
        applicationID: UUID, type: String = "billing.invoice.paid", labels: [String: String] = ["tenant": "t1"],
        payload: String = #"{"amount":42}"#, id: UUID = UUIDv7.make()
    ) -> Event {
        Event(
            id: id, applicationID: applicationID, eventType: type, payload: Array(payload.utf8),
            payloadContentType: .json, ip: "127.0.0.1", metadata: [:], labels: labels, occurredAt: Date(),
            receivedAt: Date())
    }

    /// Declares the event type `billing.invoice.paid` (or another) for an application.
    @discardableResult
    public static func eventType(
        in store: some FerryStore, applicationID: UUID, name: (String, String, String) = ("billing", "invoice", "paid")
    ) async throws -> EventType {
        try await store.upsertEventType(
            applicationID: applicationID, EventType(service: name.0, resourceType: name.1, verb: name.2))
    }
}
