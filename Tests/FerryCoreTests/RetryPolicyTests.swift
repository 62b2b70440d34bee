import Testing

@testable import FerryCore

@Suite struct RetryPolicyTests {
    static let noJitter = RetryPolicy(jitterRatio: 0)

    private func close(_ actual: Double?, _ expected: Double) -> Bool {
        guard let actual else { return false }
        return abs(actual - expected) < 1e-9
    }

    @Test func defaultScheduleIsHook0s() {
        #expect(RetryPolicy.defaultSchedule == [3, 10, 180, 1800, 3600, 10_800, 18_000, 36_000])
        let policy = RetryPolicy()
        #expect(policy.schedule == RetryPolicy.defaultSchedule)
        #expect(policy.maxRetries == 24)
        #expect(policy.jitterRatio == 0.1)
        #expect(policy.maxRetryAfter == 36_000)
    }

    @Test(arguments: [
        (0, 3.0), (1, 10), (2, 180), (3, 1800), (4, 3600), (5, 10_800), (6, 18_000), (7, 36_000),
        (8, 36_000), (15, 36_000), (23, 36_000), (-1, 3),
    ])
    func baseDelayFollowsScheduleAndRepeatsLastStep(retryCount: Int, expected: Double) {
        #expect(RetryPolicy().baseDelay(afterRetryCount: retryCount) == expected)
    }

    @Test(arguments: [(0, 3.0), (1, 10), (2, 180), (7, 36_000), (23, 36_000)])
    func nextDelayWithoutJitterIsTheBase(retryCount: Int, expected: Double) {
        #expect(Self.noJitter.nextDelay(afterRetryCount: retryCount, unitRandom: 0.123) == expected)
    }

    @Test(arguments: [24, 25, 100])
    func nextDelayIsNilOnceRetriesAreExhausted(retryCount: Int) {
        #expect(RetryPolicy().nextDelay(afterRetryCount: retryCount, unitRandom: 0.5) == nil)
        #expect(RetryPolicy().nextDelay(afterRetryCount: retryCount, retryAfter: 60, unitRandom: 0.5) == nil)
    }

    @Test func maxRetriesBoundsTheLastRetry() {
        let policy = RetryPolicy(maxRetries: 2, jitterRatio: 0)
        #expect(policy.nextDelay(afterRetryCount: 0, unitRandom: 0) == 3)
        #expect(policy.nextDelay(afterRetryCount: 1, unitRandom: 0) == 10)
        #expect(policy.nextDelay(afterRetryCount: 2, unitRandom: 0) == nil)
        #expect(RetryPolicy(maxRetries: 0).nextDelay(afterRetryCount: 0, unitRandom: 0.5) == nil)
    }

    @Test(arguments: [(0.0, 1620.0), (0.5, 1800), (0.999, 1979.64)])
    func jitterScalesWithinRatio(unitRandom: Double, expected: Double) {
        #expect(close(RetryPolicy().nextDelay(afterRetryCount: 3, unitRandom: unitRandom), expected))
    }

    @Test func jitterStaysWithinBounds() throws {
        let policy = RetryPolicy(jitterRatio: 0.25)
        for step in 0..<100 {
            let unitRandom = Double(step) / 100
            let delay = try #require(policy.nextDelay(afterRetryCount: 4, unitRandom: unitRandom))
            #expect(delay >= 3600 * 0.75 - 1e-9)
            #expect(delay < 3600 * 1.25)
        }
    }

    @Test func initClampsOutOfRangeValues() {
        let policy = RetryPolicy(schedule: [], maxRetries: -3, jitterRatio: 5, maxRetryAfter: -1)
        #expect(policy.schedule == RetryPolicy.defaultSchedule)
        #expect(policy.maxRetries == 0)
        #expect(policy.jitterRatio == 1)
        #expect(policy.maxRetryAfter == 0)
        #expect(RetryPolicy(jitterRatio: -0.5).jitterRatio == 0)
    }

    @Test(arguments: [
        (120.0, 120.0),  // longer hint wins
        (1, 3),  // shorter hint never shortens the schedule
        (0, 3),  // zero ignored
        (-5, 3),  // negative ignored
        (100_000, 36_000),  // clamped at maxRetryAfter
    ])
    func retryAfterIsMaxOfScheduleAndClampedHint(hint: Double, expected: Double) {
        #expect(Self.noJitter.nextDelay(afterRetryCount: 0, retryAfter: hint, unitRandom: 0.5) == expected)
    }

    @Test func retryAfterClampUsesConfiguredMaximum() {
        let policy = RetryPolicy(jitterRatio: 0, maxRetryAfter: 60)
        #expect(policy.nextDelay(afterRetryCount: 0, retryAfter: 600, unitRandom: 0.5) == 60)
        #expect(policy.nextDelay(afterRetryCount: 2, retryAfter: 600, unitRandom: 0.5) == 180)
    }

    @Test func retryAfterShorterThanJitteredDelayKeepsJitteredDelay() {
        #expect(close(RetryPolicy().nextDelay(afterRetryCount: 0, retryAfter: 2, unitRandom: 0.999), 3.2994))
        #expect(close(RetryPolicy().nextDelay(afterRetryCount: 0, retryAfter: 4, unitRandom: 0.999), 4))
    }

    @Test func parsesDefaultScheduleText() {
        #expect(RetryPolicy.parseSchedule("3s,10s,3m,30m,1h,3h,5h,10h") == RetryPolicy.defaultSchedule)
    }

    @Test(
        arguments: [
            ("250ms", [0.25]),
            ("5", [5]),
            ("1.5m", [90]),
            ("2d", [172_800]),
            (" 3s , 10s ", [3, 10]),
            ("0s,1h", [0, 3600]),
        ] as [(String, [Double])])
    func parsesScheduleUnits(text: String, expected: [Double]) {
        #expect(RetryPolicy.parseSchedule(text) == expected)
    }

    @Test(arguments: ["", ",", "abc", "3x", "-3s", "3s,bad", "inf", "nan", "3 s", "ms"])
    func rejectsBadSchedule(text: String) {
        #expect(RetryPolicy.parseSchedule(text) == nil)
    }

    @Test(arguments: [
        (3.0, "3s"), (10, "10s"), (180, "3m"), (1800, "30m"), (3600, "1h"), (36_000, "10h"), (86_400, "24h"),
        (90, "90s"), (5400, "90m"), (0.25, "250ms"), (1.5, "1500ms"), (0, "0s"),
    ])
    func formatsDurations(seconds: Double, expected: String) {
        #expect(DurationText.format(seconds) == expected)
    }

    @Test(arguments: ["3s", "10s", "3m", "30m", "1h", "10h", "250ms"])
    func formattedDurationParsesBack(text: String) throws {
        let seconds = try #require(DurationText.seconds(text))
        #expect(DurationText.format(seconds) == text)
    }
}
