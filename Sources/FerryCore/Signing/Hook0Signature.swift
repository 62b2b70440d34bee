import Crypto

/// The `X-Hook0-Signature` header value: HMAC-SHA256 in lowercase hex over the timestamp, covered headers and body.
public struct Hook0Signature: Sendable {
    /// Which signature versions to include.
    public enum Version: String, Sendable, CaseIterable {
        /// `t.body`, kept for old receivers.
        case v0
        /// `t.header-names.header-values.body`, the default.
        case v1
    }

    private let key: SymmetricKey

    /// A signer keyed by the subscription secret string's UTF-8 bytes.
    public init(secret: String) {
        key = SymmetricKey(data: Array(secret.utf8))
    }

    /// Builds the header value, e.g. `t=1636936200,h=content-type x-event-id x-event-type,v1=<hex>`.
    /// - Parameters:
    ///   - timestamp: Unix seconds at send time.
    ///   - headers: every header to cover (names are lower-cased and sorted here).
    ///   - body: the raw request body.
    ///   - versions: the versions to emit, `v0` before `v1`.
    public func headerValue(
        timestamp: Int64, headers: [(name: String, value: String)], body: [UInt8],
        versions: Set<Version> = [.v1]
    ) -> String {
        var parts = ["t=\(timestamp)"]
        if versions.contains(.v0) {
            parts.append("v0=\(v0(timestamp: timestamp, body: body))")
        }
        if versions.contains(.v1) {
            let sorted = headers.map { (name: $0.name.lowercased(), value: $0.value) }.sorted { $0.name < $1.name }
            parts.append("h=\(sorted.map(\.name).joined(separator: " "))")
            parts.append("v1=\(v1(timestamp: timestamp, sortedHeaders: sorted, body: body))")
        }
        return parts.joined(separator: ",")
    }

    /// The v0 code: HMAC of `"{t}.{body}"`.
    public func v0(timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        return Self.hex(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    /// The v1 code: HMAC of `"{t}.{names joined by space}.{values joined by dot}.{body}"`, headers already sorted.
    public func v1(timestamp: Int64, sortedHeaders: [(name: String, value: String)], body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: sortedHeaders.map(\.name).joined(separator: " ").utf8)
        message.append(UInt8(ascii: "."))
        message.append(contentsOf: sortedHeaders.map(\.value).joined(separator: ".").utf8)
        message.append(UInt8(ascii: "."))
        message.append(contentsOf: body)
        return Self.hex(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    /// Whether every covered header value is visible ASCII (tab allowed, as Hook0's HTTP library allows it),
    /// which the signature format requires.
    public static func canCover(_ headers: [(name: String, value: String)]) -> Bool {
        headers.allSatisfy { header in header.value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 < 0x7F) } }
    }

    private static func hex(_ code: HashedAuthenticationCode<SHA256>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output = [UInt8]()
        output.reserveCapacity(64)
        for byte in code {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
