import Foundation
import NIOCore
import PostgresNIO

/// A `timestamptz` bind rounded to the nearest microsecond. postgres-nio truncates `Date`s, which can store a
/// value 1 µs below what Ferry formats (and returns) for the same instant; rounding keeps them equal.
struct PostgresTimestamp: PostgresNonThrowingEncodable, PostgresArrayEncodable {
    private static let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)

    let date: Date

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }
    static var psqlArrayType: PostgresDataType { .timestamptzArray }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded() - 946_684_800 * 1_000_000
        byteBuffer.writeInteger(Int64(micros))
    }
}

extension Date {
    /// This instant as a microsecond-rounded PostgreSQL bind.
    var postgres: PostgresTimestamp { PostgresTimestamp(date: self) }
}
