import Foundation

@testable import FerryCore

/// Shared, fixed values so test expectations stay exact.
enum Fixture {
    static let applicationID = UUID(uuidString: "0190a0b1-0000-7000-8000-000000000001")!
    static let secret = UUID(uuidString: "3F2C4F0E-1B2A-4C3D-8E9F-0A1B2C3D4E5F")!
    static let instant = Date(timeIntervalSince1970: 1_636_936_200)

    static func subscription(
        isEnabled: Bool = true, eventTypes: [String] = ["billing.invoice.paid"],
        labels: [String: String] = ["env": "prod"]
    ) -> Subscription {
        Subscription(
            id: UUID(uuidString: "0190a0b1-0000-7000-8000-0000000000aa")!, applicationID: applicationID,
            isEnabled: isEnabled, eventTypes: eventTypes, description: nil, secret: secret, metadata: [:],
            labels: labels, target: HTTPTarget(method: "POST", url: "https://example.com/hook", headers: [:]),
            createdAt: instant, updatedAt: instant)
    }
}
