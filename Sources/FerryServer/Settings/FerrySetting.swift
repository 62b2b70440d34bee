import FerryAPI
import Foundation

/// The commands of `ferry` that read settings; each takes the flags of the settings meant for it.
public enum SettingCommand: String, Sendable, CaseIterable {
    case serve, api, worker, migrate, users, config
}

/// Which commands take a setting's flag (every process reads its environment variable).
public struct SettingAudience: OptionSet, Sendable {
    public let rawValue: Int

    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    /// `ferry serve` and `ferry api`: the HTTP API.
    public static let api = SettingAudience(rawValue: 1)
    /// `ferry serve` and `ferry worker`: delivery, retention and mail.
    public static let worker = SettingAudience(rawValue: 2)
    /// `ferry users`: account administration.
    public static let users = SettingAudience(rawValue: 4)
    /// `ferry migrate`.
    public static let migrate = SettingAudience(rawValue: 8)
    /// Every long-running process.
    public static let servers: SettingAudience = [.api, .worker]
    /// Every command that opens the database.
    public static let everyCommand: SettingAudience = [.api, .worker, .users, .migrate]

    /// Whether `command` takes the flag (`ferry config` takes every one).
    public func includes(_ command: SettingCommand) -> Bool {
        switch command {
        case .serve: !isDisjoint(with: .servers)
        case .api: contains(.api)
        case .worker: contains(.worker)
        case .migrate: contains(.migrate)
        case .users: contains(.users)
        case .config: true
        }
    }
}

/// How a setting's value may be shown to people.
public enum SettingDisplay: Sendable {
    case plain
    /// Never shown: `ferry config` prints `********` when it is set.
    case secret
    /// A URL whose password is replaced by `********`.
    case urlWithCredentials
}

/// One setting, typed: its name (`worker_concurrency` ↔ `FERRY_WORKER_CONCURRENCY` ↔ `--worker-concurrency` ↔
/// `ferry.worker_concurrency`), default, meaning, audience, how it is shown, and how its text is read. The flags,
/// the configuration, `ferry config` and `docs/configuration.md` all come from these (`Settings`).
public struct Setting<Value: Sendable>: Sendable {
    public let name: String
    public let defaultText: String
    public let meaning: String
    public let group: String
    public let audience: SettingAudience
    public let display: SettingDisplay
    /// A valid value other than the default (tests pass it to every flag).
    public let example: String
    public let kind: SettingKind<Value>

    init(
        _ name: String, _ defaultText: String, _ kind: SettingKind<Value>, group: String, for audience: SettingAudience,
        display: SettingDisplay = .plain, example: String, _ meaning: String
    ) {
        self.name = name
        self.defaultText = defaultText
        self.kind = kind
        self.group = group
        self.audience = audience
        self.display = display
        self.example = example
        self.meaning = meaning
    }

    /// Reads `text` (surrounding spaces ignored).
    public func parse(_ text: String) -> Result<Value, SettingRefusal> {
        kind.parse(text.trimmingCharacters(in: .whitespaces))
    }

    /// The setting without its type, as lists, flags and `ferry config` use it.
    public var described: FerrySetting {
        let kind = kind
        return FerrySetting(
            name: name, defaultValue: defaultText, meaning: meaning, group: group, audience: audience,
            display: display, example: example,
            normalize: { text in
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                return kind.parse(trimmed).map { value in kind.format?(value) ?? trimmed }
            })
    }
}

/// One setting without its value's type. `FerrySetting.all` lists every setting Ferry reads.
public struct FerrySetting: Sendable {
    /// The dotted key after `ferry.`, e.g. `worker_concurrency`.
    public let name: String
    public let defaultValue: String
    public let meaning: String
    /// The part of Ferry the setting tunes (`server`, `database`, `delivery`, `retention`, `observability`,
    /// `accounts`).
    public let group: String
    public let audience: SettingAudience
    public let display: SettingDisplay
    public let example: String
    /// The text in the syntax Ferry reads back (`5.0 seconds` never: `5s`), or why it is refused.
    public let normalize: @Sendable (String) -> Result<String, SettingRefusal>

    public var isSecret: Bool { display == .secret }
    /// The environment variable, e.g. `FERRY_WORKER_CONCURRENCY`.
    public var environmentVariable: String { "FERRY_" + name.uppercased() }
    /// The command-line flag, e.g. `--worker-concurrency`.
    public var flag: String { "--" + name.replacingOccurrences(of: "_", with: "-") }
    /// The configuration key, e.g. `ferry.worker_concurrency`.
    public var key: String { "ferry." + name }
    /// How to change it, for messages: `(set FERRY_LISTEN or --listen)`.
    public var hint: String { "(set \(environmentVariable) or \(flag))" }

    /// `text` as it may be shown: secrets masked, a URL's password masked.
    public func shown(_ text: String) -> String {
        switch display {
        case .plain: text
        case .secret: text.isEmpty ? "" : "********"
        case .urlWithCredentials: DatabaseURLText.masked(text)
        }
    }

    /// Every setting Ferry reads.
    public static let all: [FerrySetting] = Settings.all

    /// The markdown table of every setting that `docs/configuration.md` shows (`ferry config --reference`).
    public static var referenceTable: String {
        var lines = ["| variable | flag | default | meaning |", "|---|---|---|---|"]
        for setting in all {
            let defaultText = setting.defaultValue.isEmpty ? "(unset)" : "`\(setting.defaultValue)`"
            let secret = setting.isSecret ? " Secret: masked by `ferry config`, never logged." : ""
            lines.append(
                "| `\(setting.environmentVariable)` | `\(setting.flag)` | \(defaultText) | \(setting.meaning)\(secret) |"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// An environment file (for systemd's `EnvironmentFile=` or `docker --env-file`) naming every setting, each
    /// commented out at its default under its meaning: uncomment a line to change it.
    public static var environmentFileTemplate: String {
        var lines = [
            "# Ferry's settings (`ferry config --environment-file`). Each line is commented out at its default;",
            "# uncomment and change what this installation needs. See docs/configuration.md.",
        ]
        var groups: [String] = []
        for setting in all where !groups.contains(setting.group) { groups.append(setting.group) }
        for group in groups {
            lines += ["", "# --- \(group) ---"]
            for setting in all where setting.group == group {
                lines += entry(setting)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One setting's lines in the environment file.
    private static func entry(_ setting: FerrySetting) -> [String] {
        let meaning = setting.meaning.replacingOccurrences(of: "`", with: "")
        var lines = [""] + wrapped(meaning, width: 100).map { "# " + $0 }
        if setting.isSecret { lines.append("# Secret: keep this file readable by Ferry's user only.") }
        lines.append("#\(setting.environmentVariable)=\(setting.defaultValue)")
        return lines
    }

    private static func wrapped(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + word.count + 1 > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// The setting as `GET /api/v1/environment_variables` lists it (no setting is required: each has a default).
    public var documented: DocumentedSetting {
        DocumentedSetting(
            name: name, environmentVariable: environmentVariable, description: meaning,
            defaultValue: defaultValue.isEmpty ? nil : defaultValue, isSensitive: isSecret || display != .plain,
            isRequired: false, group: group)
    }
}
