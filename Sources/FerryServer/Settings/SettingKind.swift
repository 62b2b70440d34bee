import Biscuit
import FerryCore
import Foundation
import Logging

/// What a setting's text was refused for, in words that never repeat the text (it may be a secret).
public struct SettingRefusal: Error, Sendable, Equatable {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }
}

/// How one kind of setting's text becomes its value, and a value the text Ferry accepts back (so `ferry config`
/// prints what can be fed to Ferry again).
public struct SettingKind<Value: Sendable>: Sendable {
    /// Reads the text (already trimmed of surrounding spaces).
    public let parse: @Sendable (String) -> Result<Value, SettingRefusal>
    /// Writes a value back as text in the syntax `parse` reads; nil keeps the text as given.
    public let format: (@Sendable (Value) -> String)?

    public init(
        parse: @escaping @Sendable (String) -> Result<Value, SettingRefusal>,
        format: (@Sendable (Value) -> String)? = nil
    ) {
        self.parse = parse
        self.format = format
    }

    /// Any text, as given.
    public static var text: SettingKind<String> { SettingKind<String>(parse: { .success($0) }, format: { $0 }) }

    /// Text that is nil when empty (an unset setting).
    public static var optionalText: SettingKind<String?> {
        SettingKind<String?>(parse: { .success($0.isEmpty ? nil : $0) }, format: { $0 ?? "" })
    }

    /// `true` or `false` (also `1`/`0`, `yes`/`no`).
    public static var flag: SettingKind<Bool> {
        SettingKind<Bool>(
            parse: { text in
                switch text.lowercased() {
                case "true", "1", "yes": .success(true)
                case "false", "0", "no": .success(false)
                default: .failure(SettingRefusal("expected true or false"))
                }
            }, format: { String($0) })
    }

    /// A whole number within `range`.
    public static func wholeNumber(_ range: ClosedRange<Int>, _ expectation: String) -> SettingKind<Int> {
        SettingKind<Int>(
            parse: { text in
                guard let number = Int(text), range.contains(number) else {
                    return .failure(SettingRefusal("expected \(expectation)"))
                }
                return .success(number)
            }, format: { String($0) })
    }

    /// A ratio from 0 to 1.
    public static var ratio: SettingKind<Double> {
        SettingKind<Double>(
            parse: { text in
                guard let ratio = Double(text), (0...1).contains(ratio) else {
                    return .failure(SettingRefusal("expected a ratio between 0 and 1"))
                }
                return .success(ratio)
            }, format: { String($0) })
    }

    /// A duration above zero like `250ms`, `5s`, `3m` or `1h`.
    public static var duration: SettingKind<Duration> {
        SettingKind<Duration>(
            parse: { text in
                guard let seconds = DurationText.seconds(text), seconds > 0 else {
                    return .failure(SettingRefusal("expected a duration like 5s or 250ms"))
                }
                return .success(.milliseconds(Int64((seconds * 1000).rounded())))
            },
            format: { duration in DurationText.format(duration) })
    }

    /// A duration like `5d` or `12h`, or `0` for never (nil).
    public static var durationOrNever: SettingKind<Duration?> {
        SettingKind<Duration?>(
            parse: { text in
                guard let seconds = DurationText.seconds(text) else {
                    return .failure(SettingRefusal("expected a duration like 5d or 12h, or 0 for never"))
                }
                return .success(seconds == 0 ? nil : .milliseconds(Int64((seconds * 1000).rounded())))
            },
            format: { duration in duration.map(DurationText.format) ?? "0" })
    }

    /// `BURST/PERIOD` (`20/100ms`: 20 requests at once, then one more each 100 ms), or `off`.
    public static var rateLimit: SettingKind<RateLimit?> {
        SettingKind<RateLimit?>(
            parse: { text in
                if text.lowercased() == "off" { return .success(nil) }
                let parts = text.split(separator: "/", maxSplits: 1)
                guard parts.count == 2, let burst = Int(parts[0]), burst >= 1,
                    let seconds = DurationText.seconds(String(parts[1])), seconds > 0
                else { return .failure(SettingRefusal("expected BURST/PERIOD like 20/100ms, or off")) }
                return .success(RateLimit(burst: burst, period: seconds))
            },
            format: { limit in
                limit.map { "\($0.burst)/" + DurationText.format(.microseconds(Int64(($0.period * 1e6).rounded()))) }
                    ?? "off"
            })
    }

    /// `auto`, `on` or `off`.
    public static var rateLimitMode: SettingKind<RateLimitMode> {
        SettingKind<RateLimitMode>(
            parse: { text in
                guard let mode = RateLimitMode(rawValue: text.lowercased()) else {
                    return .failure(SettingRefusal("expected auto, on or off"))
                }
                return .success(mode)
            }, format: { $0.rawValue })
    }

    /// `host:port` (an IPv6 host in brackets).
    public static var address: SettingKind<ListenAddress> {
        SettingKind<ListenAddress>(
            parse: { text in
                guard let address = ListenAddress(text) else {
                    return .failure(SettingRefusal("expected host:port, e.g. 127.0.0.1:8080"))
                }
                return .success(address)
            }, format: { $0.description })
    }

    /// `host:port`, or empty for none.
    public static var optionalAddress: SettingKind<ListenAddress?> {
        SettingKind<ListenAddress?>(
            parse: { text in
                if text.isEmpty { return .success(nil) }
                guard let address = ListenAddress(text) else {
                    return .failure(SettingRefusal("expected host:port, e.g. 127.0.0.1:9464, or nothing"))
                }
                return .success(address)
            }, format: { $0?.description ?? "" })
    }

    /// A list of durations like `3s,10s,3m`.
    public static var durations: SettingKind<[Double]> {
        SettingKind<[Double]>(
            parse: { text in
                guard let schedule = RetryPolicy.parseSchedule(text) else {
                    return .failure(SettingRefusal("expected durations like 3s,10s,3m"))
                }
                return .success(schedule)
            }, format: { $0.map(DurationText.format).joined(separator: ",") })
    }

    /// Comma-separated CIDRs, possibly none.
    public static var networks: SettingKind<[CIDR]> {
        SettingKind<[CIDR]>(
            parse: { text in
                var networks: [CIDR] = []
                for part in text.split(separator: ",") {
                    let trimmed = part.trimmingCharacters(in: .whitespaces)
                    if trimmed.isEmpty { continue }
                    guard let cidr = CIDR(trimmed) else {
                        return .failure(SettingRefusal("`\(trimmed)` is not a CIDR like 10.0.0.0/8"))
                    }
                    networks.append(cidr)
                }
                return .success(networks)
            }, format: { $0.map(\.description).joined(separator: ",") })
    }

    /// `APPLICATION_ID=CIDR,CIDR;APPLICATION_ID=CIDR`, possibly empty.
    public static var networksByApplication: SettingKind<[UUID: [CIDR]]> {
        SettingKind<[UUID: [CIDR]]>(
            parse: { text in
                switch TargetPolicy.parseNetworksByApplication(text) {
                case .success(let byApplication): return .success(byApplication)
                case .failure(let failure):
                    return .failure(
                        SettingRefusal(
                            "`\(failure.entry)` is not APPLICATION_ID=CIDR[,CIDR…] (entries separated by `;`)"))
                }
            },
            format: { byApplication in
                byApplication.sorted { $0.key.uuidString < $1.key.uuidString }
                    .map { "\($0.key.lowercased)=\($0.value.map(\.description).joined(separator: ","))" }
                    .joined(separator: ";")
            })
    }

    /// A UUID, or nothing.
    public static var optionalUUID: SettingKind<String?> {
        SettingKind<String?>(
            parse: { text in
                if text.isEmpty { return .success(nil) }
                guard let uuid = UUID(uuidString: text) else { return .failure(SettingRefusal("expected a UUID")) }
                return .success(uuid.lowercased)
            }, format: { $0 ?? "" })
    }

    /// 32 bytes as 64 hexadecimal characters, or nothing.
    public static var optionalKey: SettingKind<[UInt8]?> {
        SettingKind<[UInt8]?>(
            parse: { text in
                if text.isEmpty { return .success(nil) }
                guard let bytes = Hex.decode(text), bytes.count == 32 else {
                    return .failure(SettingRefusal("expected 64 hexadecimal characters (an Ed25519 private key)"))
                }
                return .success(bytes)
            }, format: { $0.map(Hex.encode) ?? "" })
    }

    /// One of an enumeration's cases by its raw text (case-insensitive).
    public static func oneOf<Choice: RawRepresentable & CaseIterable & Sendable>(_ type: Choice.Type)
        -> SettingKind<Choice> where Choice.RawValue == String
    {
        SettingKind<Choice>(
            parse: { text in
                guard let choice = Choice(rawValue: text.lowercased()) else {
                    return .failure(SettingRefusal("expected " + settingAlternatives(Choice.allCases.map(\.rawValue))))
                }
                return .success(choice)
            }, format: { $0.rawValue })
    }

    /// A comma-separated subset of a fixed set of words, at least one.
    public static func choices(_ words: [String]) -> SettingKind<Set<String>> {
        SettingKind<Set<String>>(
            parse: { text in
                var chosen = Set<String>()
                for part in text.split(separator: ",") {
                    let word = part.trimmingCharacters(in: .whitespaces).lowercased()
                    guard words.contains(word) else {
                        return .failure(SettingRefusal("expected " + settingAlternatives(words) + " or several"))
                    }
                    chosen.insert(word)
                }
                guard !chosen.isEmpty else {
                    return .failure(SettingRefusal("expected " + settingAlternatives(words) + " or several"))
                }
                return .success(chosen)
            }, format: { $0.sorted().joined(separator: ",") })
    }

    /// An e-mail address.
    public static var emailAddress: SettingKind<String> {
        SettingKind<String>(
            parse: { text in
                EmailAddress.isValid(text) ? .success(text) : .failure(SettingRefusal("expected an e-mail address"))
            }, format: { $0 })
    }

}

/// `a, b or c`.
private func settingAlternatives(_ words: [String]) -> String {
    words.count < 2 ? words.joined() : words.dropLast().joined(separator: ", ") + " or " + (words.last ?? "")
}

/// A `host:port` address to listen on.
/// Whether the API applies its rate limits: `auto` does unless it listens on a loopback address only and trusts no
/// proxy (the embedded default's tour and tests; behind a reverse proxy `trusted_proxies` is set), `on` and `off`
/// decide outright.
public enum RateLimitMode: String, Sendable, Equatable {
    case auto, on, off
}

public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `host:port`, `[ipv6]:port`; nil when it is not one.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
