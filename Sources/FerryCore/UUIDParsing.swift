import Foundation

extension UUID {
    /// Parses the hyphenated form (`8-4-4-4-12` hexadecimal digits, either case), the only form
    /// `UUID(uuidString:)` accepts, without Foundation's scanner (which costs a `sscanf` per call).
    public init?(hyphenated text: String) {
        var text = text
        guard
            let bytes = text.withUTF8({ utf8 -> uuid_t? in
                guard utf8.count == 36 else { return nil }
                var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
                let complete = withUnsafeMutableBytes(of: &value) { output -> Bool in
                    var position = 0
                    for index in 0..<16 {
                        if position == 8 || position == 13 || position == 18 || position == 23 {
                            guard utf8[position] == UInt8(ascii: "-") else { return false }
                            position += 1
                        }
                        guard let high = Self.nibble(utf8[position]), let low = Self.nibble(utf8[position + 1]) else {
                            return false
                        }
                        output[index] = high << 4 | low
                        position += 2
                    }
                    return true
                }
                return complete ? value : nil
            })
        else { return nil }
        self.init(uuid: bytes)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
