import Testing

@testable import FerryCore

@Suite struct DeliveryOutcomeTests {
    private func answered(_ status: Int, retryAfter: Double? = nil) -> AttemptObservation {
        .answered(
            status: status, headers: ["content-type": "text/plain"], body: Array("ok".utf8), truncated: false,
            elapsedMilliseconds: 42, retryAfterSeconds: retryAfter)
    }

    @Test(arguments: [200, 201, 204, 299])
    func twoHundredsAreDelivered(status: Int) {
        let observation = answered(status)
        #expect(observation.errorName == nil)
        #expect(observation.httpStatus == status)
        #expect(observation.outcome == .delivered(status: status))
    }

    @Test(arguments: [100, 199, 300, 301, 304, 400, 404, 429, 500, 502, 503])
    func otherStatusesAreRetryableHTTPErrors(status: Int) {
        let observation = answered(status)
        #expect(observation.errorName == .http)
        #expect(observation.outcome == .retryable(.http))
        #expect(observation.disablingReason == nil)
    }

    @Test func goneIsGivenUpAndDisablesTheSubscription() {
        let observation = answered(410)
        #expect(observation.errorName == .http)
        #expect(observation.outcome == .permanent(.http))
        #expect(observation.disablingReason == "the target answered 410 Gone")
    }

    @Test func answeredKeepsResponseDetails() {
        let observation = AttemptObservation.answered(
            status: 500, headers: ["x": "y"], body: [1, 2, 3], truncated: true, elapsedMilliseconds: 1234,
            retryAfterSeconds: nil)
        #expect(
            observation
                == AttemptObservation(
                    errorName: .http, httpStatus: 500, headers: ["x": "y"], body: [1, 2, 3], bodyTruncated: true,
                    elapsedMilliseconds: 1234, retryAfterSeconds: nil))
    }

    @Test(arguments: [(429, 30.0), (503, 120.0)])
    func retryAfterKeptFor429And503(status: Int, seconds: Double) {
        #expect(answered(status, retryAfter: seconds).retryAfterSeconds == seconds)
    }

    @Test(arguments: [200, 302, 400, 500, 502, 504])
    func retryAfterDroppedForOtherStatuses(status: Int) {
        #expect(answered(status, retryAfter: 30).retryAfterSeconds == nil)
    }

    @Test func invalidHeaderIsPermanent() {
        let observation = AttemptObservation.failed(.invalidHeader, elapsedMilliseconds: 0)
        #expect(observation.outcome == .permanent(.invalidHeader))
        #expect(observation.httpStatus == nil)
        #expect(observation.body == nil)
    }

    @Test(arguments: [ResponseErrorName.dns, .connection, .timeout, .invalidTarget, .unknown])
    func transportErrorsAreRetryable(name: ResponseErrorName) {
        let observation = AttemptObservation.failed(name, elapsedMilliseconds: 5000)
        #expect(observation == AttemptObservation(errorName: name, elapsedMilliseconds: 5000))
        #expect(observation.outcome == .retryable(name))
    }

    @Test func observationWithoutErrorOrStatusIsRetryableUnknown() {
        #expect(AttemptObservation(errorName: nil, elapsedMilliseconds: 1).outcome == .retryable(.unknown))
    }

    @Test func errorNameOverridesSuccessfulStatus() {
        let observation = AttemptObservation(errorName: .invalidHeader, httpStatus: 200, elapsedMilliseconds: 1)
        #expect(observation.outcome == .permanent(.invalidHeader))
        #expect(
            AttemptObservation(errorName: .timeout, httpStatus: 200, elapsedMilliseconds: 1).outcome
                == .retryable(.timeout))
    }

    @Test(arguments: [
        (ResponseErrorName.unknown, "E_UNKNOWN"), (.invalidHeader, "E_INVALID_HEADER"),
        (.invalidTarget, "E_INVALID_TARGET"), (.dns, "E_DNS"), (.connection, "E_CONNECTION"),
        (.timeout, "E_TIMEOUT"), (.http, "E_HTTP"),
    ])
    func errorNamesUseHook0Identifiers(name: ResponseErrorName, raw: String) {
        #expect(name.rawValue == raw)
    }

    @Test func errorNamesAreExactlyHook0s() {
        #expect(ResponseErrorName.allCases.count == 7)
    }
}
