/// A block of a token, decoded: its Datalog and what the signature chain says about it.
public struct TokenBlock: Sendable {
    /// The block's Datalog (facts, rules, checks, scopes, context).
    public let content: BlockContent
    /// The Datalog format version the block declares (3 to 6).
    public let version: UInt32
    /// For a third-party block, the key that signed it.
    public let externalKey: PublicKey?
    /// The block's signature, which identifies it in revocation lists.
    public let signature: [UInt8]

    /// The revocation id: the signature in lowercase hexadecimal.
    public var revocationID: String { Hex.encode(signature) }
}

/// Limits on what a token may be before it is parsed.
public struct TokenLimits: Hashable, Sendable {
    /// Largest serialized token accepted, in bytes.
    public var maxBytes: Int
    /// Most blocks accepted (authority included).
    public var maxBlocks: Int

    /// Limits; by default 1 MiB and 256 blocks.
    public init(maxBytes: Int = 1 << 20, maxBlocks: Int = 256) {
        self.maxBytes = maxBytes
        self.maxBlocks = maxBlocks
    }
}

/// URL-safe base64 (`-` and `_`), written with padding and read with or without it (standard `+` and `/` are read
/// too, and a `biscuit:` prefix is ignored).
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        table[Int(UInt8(ascii: "+"))] = 62
        table[Int(UInt8(ascii: "/"))] = 63
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var chunk = UInt32(bytes[index]) << 16
            if count > 1 { chunk |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { chunk |= UInt32(bytes[index + 2]) }
            for position in 0..<4 {
                if position <= count {
                    out.append(alphabet[Int(chunk >> UInt32(18 - 6 * position) & 0x3f)])
                } else {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `text`, or a `.format` error.
    static func bytes(_ text: String) throws(BiscuitError) -> [UInt8] {
        guard let bytes = decode(text) else { throw BiscuitError(.format, "not URL-safe base64") }
        return bytes
    }

    static func decode(_ text: String) -> [UInt8]? {
        var input = Array(text.utf8)
        if input.starts(with: "biscuit:".utf8) { input.removeFirst("biscuit:".utf8.count) }
        while let last = input.last, last == UInt8(ascii: "=") || last == 0x0A || last == 0x0D || last == 0x20 {
            input.removeLast()
        }
        guard input.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for char in input {
            let value = values[Int(char)]
            guard value != 0xff else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
