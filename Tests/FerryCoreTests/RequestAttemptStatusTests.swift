import Foundation
import Testing

@testable import FerryCore

@Suite struct RequestAttemptStatusTests {
    static let created = Date(timeIntervalSince1970: 1_700_000_000)

    private func attempt(
        picked: Double? = nil, failed: Double? = nil, succeeded: Double? = nil, delayUntil: Double? = nil
    ) -> RequestAttempt {
        func at(_ offset: Double?) -> Date? { offset.map { Self.created.addingTimeInterval($0) } }
        return RequestAttempt(
            id: UUID(), applicationID: Fixture.applicationID, eventID: UUID(), eventType: "billing.invoice.paid",
            subscriptionID: UUID(), subscriptionDescription: nil, createdAt: Self.created, pickedAt: at(picked),
            failedAt: at(failed), succeededAt: at(succeeded), delayUntil: at(delayUntil), responseID: nil,
            retryCount: 0, httpResponseStatus: nil)
    }

    private func at(_ offset: Double) -> Date { Self.created.addingTimeInterval(offset) }

    @Test func newAttemptIsPending() {
        #expect(attempt().status(at: at(1)) == .pending(since: Self.created))
    }

    @Test func delayedAttemptIsWaitingUntilDelayPasses() {
        let delayed = attempt(delayUntil: 10)
        #expect(delayed.status(at: at(5)) == .waiting(since: Self.created, until: at(10)))
        #expect(delayed.status(at: at(10)) == .pending(since: Self.created))
        #expect(delayed.status(at: at(11)) == .pending(since: Self.created))
    }

    @Test func pickedAttemptIsInProgress() {
        #expect(attempt(picked: 2).status(at: at(3)) == .inProgress(since: at(2)))
        #expect(attempt(picked: 2, delayUntil: 100).status(at: at(3)) == .inProgress(since: at(2)))
    }

    @Test func failedAttemptMeasuresFromCreation() {
        #expect(attempt(picked: 1, failed: 2.5).status(at: at(9)) == .failed(at: at(2.5), processingMilliseconds: 2500))
    }

    @Test func succeededAttemptMeasuresFromCreation() {
        #expect(
            attempt(picked: 1, succeeded: 0.123).status(at: at(9))
                == .successful(at: at(0.123), processingMilliseconds: 123))
    }

    @Test func delayedAttemptMeasuresFromDelayEnd() {
        #expect(
            attempt(picked: 10.1, failed: 12.345, delayUntil: 10).status(at: at(20))
                == .failed(at: at(12.345), processingMilliseconds: 2345))
        #expect(
            attempt(picked: 30, succeeded: 30.75, delayUntil: 30).status(at: at(40))
                == .successful(at: at(30.75), processingMilliseconds: 750))
    }

    @Test func delayBeforeCreationIsIgnored() {
        #expect(
            attempt(failed: 1, delayUntil: -5).status(at: at(2)) == .failed(at: at(1), processingMilliseconds: 1000))
    }

    @Test func failedWinsOverSucceededAndPicked() {
        #expect(
            attempt(picked: 1, failed: 4, succeeded: 3).status(at: at(5))
                == .failed(at: at(4), processingMilliseconds: 4000))
    }

    @Test func cancelledWhileWaitingIsFailed() {
        guard case .failed(let failedAt, _) = attempt(failed: 1, delayUntil: 60).status(at: at(2)) else {
            Issue.record("a cancelled attempt must be failed")
            return
        }
        #expect(failedAt == at(1))
    }
}
