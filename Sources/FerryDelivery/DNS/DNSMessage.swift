import FerryCore

/// The two record types a delivery target's name is resolved to.
enum DNSRecordType: UInt16, Sendable {
    case a = 1
    case aaaa = 28
}

/// What a name server said about one question (RFC 1035 §4), reduced to what the target guard needs.
enum DNSAnswer: Equatable, Sendable {
    /// Addresses, and the smallest TTL among them in seconds.
    case addresses([IPAddress], ttl: UInt32)
    /// The name has no record of that type or does not exist; the TTL the zone allows for remembering that.
    case none(nameExists: Bool, ttl: UInt32?)
    /// The server failed (SERVFAIL, REFUSED, a truncated or unreadable reply).
    case failure
}

/// Writes DNS queries and reads the answers, without I/O.
enum DNSMessage {
    /// A recursive query for `name` (ASCII, at most 253 bytes); nil when the name cannot be put on the wire.
    static func query(id: UInt16, name: String, type: DNSRecordType) -> [UInt8]? {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        guard !trimmed.isEmpty, trimmed.utf8.count <= 253, trimmed.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return nil
        }
        for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...63).contains(label.utf8.count) else { return nil }
            bytes.append(UInt8(label.utf8.count))
            bytes.append(contentsOf: label.utf8)
        }
        bytes.append(0)
        bytes.append(contentsOf: [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1])
        return bytes
    }

    /// The id of a reply, to match it with its query.
    static func id(of reply: [UInt8]) -> UInt16? {
        reply.count >= 12 ? UInt16(reply[0]) << 8 | UInt16(reply[1]) : nil
    }

    /// Reads a reply to a query of `type`.
    static func answer(from reply: [UInt8], type: DNSRecordType) -> DNSAnswer {
        var reader = Reader(bytes: reply)
        guard let header = reader.header(), header.isResponse, !header.isTruncated else { return .failure }
        switch header.responseCode {
        case 0: break
        case 3: return .none(nameExists: false, ttl: negativeTTL(&reader, header: header))
        default: return .failure
        }
        for _ in 0..<header.questions {
            guard reader.skipName(), reader.skip(4) else { return .failure }
        }
        var addresses: [IPAddress] = []
        var smallestTTL = UInt32.max
        for _ in 0..<header.answers {
            guard let record = reader.record() else { return .failure }
            if record.type == DNSRecordType.a.rawValue, type == .a, record.data.count == 4 {
                addresses.append(.v4(record.data))
                smallestTTL = min(smallestTTL, record.ttl)
            } else if record.type == DNSRecordType.aaaa.rawValue, type == .aaaa, record.data.count == 16 {
                addresses.append(.v6(record.data))
                smallestTTL = min(smallestTTL, record.ttl)
            }
        }
        if !addresses.isEmpty { return .addresses(addresses, ttl: smallestTTL) }
        return .none(nameExists: true, ttl: negativeTTL(&reader, header: header, answersRead: true))
    }

    /// RFC 2308: a negative answer may be remembered for the smaller of the SOA record's TTL and its MINIMUM.
    private static func negativeTTL(_ reader: inout Reader, header: Header, answersRead: Bool = false) -> UInt32? {
        if !answersRead {
            for _ in 0..<header.questions {
                guard reader.skipName(), reader.skip(4) else { return nil }
            }
            for _ in 0..<header.answers {
                guard reader.record() != nil else { return nil }
            }
        }
        for _ in 0..<header.authorities {
            guard let record = reader.record() else { return nil }
            guard record.type == 6 else { continue }
            var soa = Reader(bytes: reader.bytes, offset: record.dataOffset)
            guard soa.skipName(), soa.skipName(), soa.skip(16), let minimum = soa.uint32() else { return nil }
            return min(record.ttl, minimum)
        }
        return nil
    }

    struct Header {
        var isResponse: Bool
        var isTruncated: Bool
        var responseCode: UInt8
        var questions: Int
        var answers: Int
        var authorities: Int
    }

    struct Record {
        var type: UInt16
        var ttl: UInt32
        var data: [UInt8]
        var dataOffset: Int
    }

    /// A bounds-checked cursor over a reply.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func header() -> Header? {
            guard bytes.count >= 12 else { return nil }
            let flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
            func count(_ at: Int) -> Int { Int(UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])) }
            offset = 12
            return Header(
                isResponse: flags & 0x8000 != 0, isTruncated: flags & 0x0200 != 0,
                responseCode: UInt8(flags & 0x000F), questions: count(4), answers: count(6), authorities: count(8))
        }

        mutating func skip(_ count: Int) -> Bool {
            guard offset + count <= bytes.count else { return false }
            offset += count
            return true
        }

        mutating func uint16() -> UInt16? {
            guard offset + 2 <= bytes.count else { return nil }
            defer { offset += 2 }
            return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        }

        mutating func uint32() -> UInt32? {
            guard let high = uint16(), let low = uint16() else { return nil }
            return UInt32(high) << 16 | UInt32(low)
        }

        /// Skips a possibly compressed name: labels up to a zero byte or a two-byte pointer.
        mutating func skipName() -> Bool {
            var labels = 0
            while offset < bytes.count, labels < 128 {
                let length = bytes[offset]
                if length == 0 { return skip(1) }
                if length & 0xC0 == 0xC0 { return skip(2) }
                guard length & 0xC0 == 0, skip(1 + Int(length)) else { return false }
                labels += 1
            }
            return false
        }

        mutating func record() -> Record? {
            guard skipName(), let type = uint16(), uint16() != nil, let ttl = uint32(), let length = uint16() else {
                return nil
            }
            let start = offset
            guard skip(Int(length)) else { return nil }
            // RFC 2181 §8: a TTL with the top bit set is read as zero.
            return Record(
                type: type, ttl: ttl & 0x8000_0000 == 0 ? ttl : 0, data: Array(bytes[start..<offset]),
                dataOffset: start)
        }
    }
}
