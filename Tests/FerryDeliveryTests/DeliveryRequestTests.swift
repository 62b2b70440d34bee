import FerryCore
import FerryDelivery
import FerryStorage
import Foundation
import Testing

/// The request Ferry builds for an attempt: a subscription's own headers never replace what Ferry or HTTP sets.
@Suite struct DeliveryRequestTests {
    @Test func storedReservedHeadersAreNeverSent() throws {
        let stored = [
            "host": "evil.example", "content-length": "0", "transfer-encoding": "chunked", "connection": "close",
            "x-hook0-signature": "t=1,v1=forged", "webhook-signature": "v1,forged", "webhook-id": "forged",
            "x-tenant": "kept",
        ]
        let job = DeliveryJob(
            attemptID: UUID(), claimToken: UUID(), applicationID: UUID(), eventID: UUID(),
            eventType: "billing.invoice.paid", payload: Array("{}".utf8), payloadContentType: "application/json",
            subscriptionID: UUID(), secret: UUID(),
            target: HTTPTarget(method: "POST", url: "https://example.com/hook", headers: stored), retryCount: 0)
        let request = try DeliveryRequest.build(for: job, timestamp: 1_700_000_000, signatureVersions: [.v1]).get()
        let names = request.headers.map(\.name)
        for reserved in ["host", "content-length", "transfer-encoding", "connection"] {
            #expect(!names.contains(reserved), "\(reserved) was sent")
        }
        for signature in ["x-hook0-signature", "webhook-signature", "webhook-id"] {
            #expect(names.filter { $0 == signature }.count == 1)
        }
        let values = Dictionary(request.headers.map { ($0.name, $0.value) }) { first, _ in first }
        #expect(values["x-tenant"] == "kept")
        #expect(values["webhook-id"] == job.eventID.lowercased)
        #expect(values["x-hook0-signature"]?.contains("forged") == false)
        #expect(values["webhook-signature"]?.contains("forged") == false)
    }
}
