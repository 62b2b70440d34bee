import FerryCore
import Foundation
import Testing

/// The rules of the daily tallies: UTC day numbers, latency buckets of two significant digits, nearest-rank
/// percentiles over the buckets.
@Suite struct DailyTallyTests {
    @Test(arguments: [
        (0, 0), (-1, -1), (86_399_999_999, 0), (86_400_000_000, 1), (-86_400_000_000, -1), (-86_400_000_001, -2),
        (1_636_936_200_000_000, 18_946),
    ])
    func daysAreWholeUTCDaysSinceTheEpoch(micros: Int64, day: Int) {
        let date = Timestamp.date(microseconds: micros)
        #expect(DailyTally.day(of: date) == day)
        #expect(DailyTally.start(ofDay: day) <= date)
        #expect(DailyTally.start(ofDay: day + 1) > date)
    }

    @Test(arguments: [
        (-3, 0), (0, 0), (7, 7), (99, 99), (100, 100), (101, 110), (999, 1_000), (1_000, 1_000), (1_001, 1_100),
        (1_234, 1_300), (15_000, 15_000), (15_001, 16_000), (123_456, 130_000),
    ])
    func latenciesAreRoundedUpToTwoSignificantDigits(milliseconds: Int, bucket: Int) {
        #expect(DailyTally.latencyBucket(milliseconds: milliseconds) == bucket)
    }

    @Test func bucketsAreAtMostTenPercentAboveTheLatency() {
        for milliseconds in stride(from: 100, through: 200_000, by: 7) {
            let bucket = DailyTally.latencyBucket(milliseconds: milliseconds)
            #expect(bucket >= milliseconds && Double(bucket) <= Double(milliseconds) * 1.1, "\(milliseconds)")
        }
    }

    @Test func percentilesAreNearestRankOverTheBuckets() {
        // Sorted: 10, 20, 20, 30, 1300 (five values): the median is the 3rd, the 95th percentile the 5th.
        let buckets = [20: 2, 1_300: 1, 10: 1, 30: 1]
        #expect(DailyTally.percentile(50, of: buckets) == 20)
        #expect(DailyTally.percentile(95, of: buckets) == 1_300)
        #expect(DailyTally.percentile(0, of: buckets) == 10)
        #expect(DailyTally.percentile(100, of: buckets) == 1_300)
        #expect(DailyTally.percentile(50, of: [:]) == nil)
        #expect(DailyTally.percentile(50, of: [40: 0]) == nil)
    }
}
