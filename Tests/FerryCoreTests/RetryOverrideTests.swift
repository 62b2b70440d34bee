import FerryCore
import Foundation
import Testing

/// A subscription's own retry settings: stored and read back unchanged, replacing only what they set, and
/// validated on submission.
@Suite struct RetryOverrideTests {
    @Test(arguments: [
        RetryOverride(), RetryOverride(schedule: [10, 60.5], maxRetries: 5), RetryOverride(maxRetries: 0),
        RetryOverride(schedule: [3]),
    ])
    func theStoredFormReadsBackTheSame(override: RetryOverride) {
        #expect(RetryOverride(stored: override.stored) == override)
    }

    @Test func onlyWhatTheSubscriptionSetsReplacesTheServersPolicy() {
        let server = RetryPolicy(schedule: [3, 10], maxRetries: 24, jitterRatio: 0.2)
        #expect(server.overridden(by: RetryOverride()) == server)
        let own = server.overridden(by: RetryOverride(schedule: [60], maxRetries: 1))
        #expect(own.schedule == [60] && own.maxRetries == 1 && own.jitterRatio == 0.2)
        #expect(own.nextDelay(afterRetryCount: 1, unitRandom: 0.5) == nil, "its cap, not the server's")
        #expect(server.overridden(by: RetryOverride(maxRetries: 2)).schedule == [3, 10])
    }

    @Test func submissionsKeepTheirRetrySettingsWithinTheLimits() throws {
        func submission(schedule: [Int]?, maxRetries: Int?) -> SubscriptionSubmission {
            SubscriptionSubmission(
                applicationID: UUID(), isEnabled: true, eventTypes: ["billing.invoice.paid"], description: nil,
                metadata: nil, labels: ["env": "demo"], labelKey: nil, labelValue: nil, targetMethod: "POST",
                targetURL: "https://hooks.example.com/a", targetHeaders: [:], retrySchedule: schedule,
                maxRetries: maxRetries)
        }
        let draft = try submission(schedule: [10, 300, 7200], maxRetries: 4).validated()
        #expect(draft.retry == RetryOverride(schedule: [10, 300, 7200], maxRetries: 4))
        #expect(try submission(schedule: nil, maxRetries: nil).validated().retry == RetryOverride())
        for (schedule, maxRetries) in [
            ([0], nil), ([604_801], nil), ([-5], nil), ([Int](), nil), (Array(repeating: 1, count: 21), nil),
            (nil, -1), (nil, 101),
        ] as [([Int]?, Int?)] {
            #expect(throws: DomainError.self, "\(String(describing: schedule)) \(String(describing: maxRetries))") {
                try submission(schedule: schedule, maxRetries: maxRetries).validated()
            }
        }
    }
}
