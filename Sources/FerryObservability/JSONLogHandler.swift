import FerryCore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-log handler writing one JSON object per line (`FERRY_LOG_FORMAT=json`), for log collectors:
/// `timestamp` (RFC 3339, UTC), `level`, `logger`, `message`, then the metadata as keys of their own.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let output: @Sendable (String) -> Void

    /// A handler for `label` that hands each finished line (ending in a newline) to `write`.
    public init(label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.logLevel = level
        self.output = write
    }

    /// A handler writing to standard error.
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { line in
            // One write(2) per line, so lines from different threads never interleave.
            let bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { buffer in
                    Glibc.write(STDERR_FILENO, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: JSONValue] = [:]
        for (key, value) in metadata { object[key] = Self.json(value) }
        for (key, value) in event.metadata ?? [:] { object[key] = Self.json(value) }
        object["timestamp"] = .string(Timestamp.format(Date()))
        object["level"] = .string(event.level.rawValue)
        object["logger"] = .string(label)
        object["message"] = .string(event.message.description)
        output(String(decoding: JSONValue.object(object).encoded(), as: UTF8.self) + "\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let values): return .array(values.map(json))
        case .dictionary(let values): return .object(values.mapValues(json))
        }
    }
}
