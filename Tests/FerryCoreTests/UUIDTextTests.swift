import FerryCore
import Foundation
import Testing

@Suite struct UUIDTextTests {
    @Test func lowercasedMatchesFoundationsTextInLowerCase() {
        for _ in 0..<200 {
            let uuid = UUID()
            #expect(uuid.lowercased == uuid.uuidString.lowercased())
        }
        let fixed = UUID(uuidString: "0189ABCD-EF01-7A2B-8C3D-4E5F60718293")
        #expect(fixed?.lowercased == "0189abcd-ef01-7a2b-8c3d-4e5f60718293")
    }

    @Test func version7IdsCarryTheirMillisecondVersionAndVariant() throws {
        let instant = Date(timeIntervalSince1970: 1_795_000_000.123)
        let ids = (0..<100).map { _ in UUIDv7.make(at: instant) }
        #expect(Set(ids).count == 100)
        for id in ids {
            let text = id.lowercased
            #expect(text.hasPrefix(String(1_795_000_000_123, radix: 16).leftPadded(to: 12).chunked()))
            #expect(Array(text)[14] == "7")
            #expect("89ab".contains(Array(text)[19]))
        }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }

    /// The first 12 hex digits as they appear in the hyphenated form (`xxxxxxxx-xxxx`).
    fileprivate func chunked() -> String {
        String(prefix(8)) + "-" + String(dropFirst(8).prefix(4))
    }
}
