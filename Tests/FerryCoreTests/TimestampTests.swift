import Foundation
import Testing

@testable import FerryCore

@Suite struct TimestampTests {
    /// 2021-11-15T00:30:00Z.
    static let base: Int64 = 1_636_936_200_000_000

    @Test(arguments: [
        (base + 123_456, "2021-11-15T00:30:00.123456Z"),
        (base, "2021-11-15T00:30:00.000000Z"),
        (0, "1970-01-01T00:00:00.000000Z"),
        (-500_000, "1969-12-31T23:59:59.500000Z"),
        (951_868_799_999_999, "2000-02-29T23:59:59.999999Z"),
        (1_709_164_800_000_001, "2024-02-29T00:00:00.000001Z"),
    ])
    func formatsMicrosecondsInUTC(micros: Int64, text: String) {
        #expect(Timestamp.format(Timestamp.date(microseconds: micros)) == text)
    }

    @Test(arguments: [
        ("2021-11-15T00:30:00Z", base),
        ("2021-11-15T00:30:00z", base),
        ("2021-11-15t00:30:00Z", base),
        ("2021-11-15 00:30:00Z", base),
        ("2021-11-15T00:30:00+00:00", base),
        ("2021-11-15T00:30:00-00:00", base),
        ("2021-11-15T02:30:00+02:00", base),
        ("2021-11-14T19:00:00-05:30", base),
        ("2021-11-15T00:30:00", base),
        ("2021-11-15T00:30:00.5Z", base + 500_000),
        ("2021-11-15T00:30:00.123456Z", base + 123_456),
        ("2021-11-15T00:30:00.123456789Z", base + 123_456),
        ("2021-11-15T02:30:00.123456789+02:00", base + 123_456),
        ("2021-11-15T00:30:00.000001", base + 1),
        ("1970-01-01T00:00:00Z", 0),
        ("2000-02-29T23:59:59.999999Z", 951_868_799_999_999),
    ])
    func parsesRFC3339(text: String, micros: Int64) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(Timestamp.microseconds(date) == micros)
    }

    @Test(arguments: [
        "", "garbage", "2021-11-15", "2021-11-15T00:30Z", "2021-13-01T00:00:00Z", "2021-00-01T00:00:00Z",
        "2021-11-32T00:00:00Z", "2021-11-15T24:00:00Z", "2021-11-15T00:60:00Z", "2021-11-15T00:30:00.Z",
        "2021-11-15T00:30:00.1234567891Z", "2021-11-15T00:30:00+0200", "2021-11-15T00:30:00+02",
        "2021-11-15T00:30:00+24:00", "2021-11-15T00:30:00Zjunk", "2021-11-15T00:30:00 Z", "21-11-15T00:30:00Z",
        "2021/11/15T00:30:00Z", "2021-11-15X00:30:00Z", " 2021-11-15T00:30:00Z",
    ])
    func rejectsGarbage(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test(arguments: [base + 123_456, 0, -500_000, 1, 4_102_444_800_000_000, 951_868_799_999_999] as [Int64])
    func formatThenParseRoundTrips(micros: Int64) throws {
        let text = Timestamp.format(Timestamp.date(microseconds: micros))
        let parsed = try #require(Timestamp.parse(text))
        #expect(Timestamp.microseconds(parsed) == micros)
        #expect(Timestamp.format(parsed) == text)
    }

    @Test func microsecondsRoundToNearest() {
        #expect(Timestamp.microseconds(Date(timeIntervalSince1970: 1.0000004)) == 1_000_000)
        #expect(Timestamp.microseconds(Date(timeIntervalSince1970: 1.0000006)) == 1_000_001)
        #expect(Timestamp.date(microseconds: 1_500_000).timeIntervalSince1970 == 1.5)
    }

    @Test(arguments: [
        ("1970-01-01", 0.0), ("2024-02-29", 1_709_164_800), ("1900-03-01", -2_203_891_200),
        ("2021-11-15", 1_636_934_400),
    ])
    func parsesDayAsMidnightUTC(text: String, seconds: Double) throws {
        #expect(try #require(Timestamp.parseDay(text)).timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "", "2024-2-29", "2024-02-9", "24-02-29", "2024-13-01", "2024-00-10", "2024-02-00", "2024-02-32",
        "20240229", "2024-02-29T00:00:00Z", "yyyy-mm-dd",
    ])
    func rejectsBadDay(text: String) {
        #expect(Timestamp.parseDay(text) == nil)
    }

    @Test(arguments: [
        (0.0, "1970-01-01"), (-1, "1969-12-31"), (1_636_936_200.5, "2021-11-15"), (1_709_164_799.999, "2024-02-28"),
        (1_709_164_800, "2024-02-29"), (-2_203_891_200, "1900-03-01"),
    ])
    func formatsDayInUTC(seconds: Double, text: String) {
        #expect(Timestamp.formatDay(Date(timeIntervalSince1970: seconds)) == text)
    }
}
