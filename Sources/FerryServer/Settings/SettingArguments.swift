import Foundation

/// The settings given on a command line (`--name value` or `--name=value`), read against the flags of one command.
/// Every setting's flag comes from `FerrySetting.all`, so a new setting is a flag of the commands it is meant for
/// without another declaration.
public enum SettingArguments {
    /// The settings `command` takes.
    public static func settings(of command: SettingCommand) -> [FerrySetting] {
        FerrySetting.all.filter { $0.audience.includes(command) }
    }

    /// Setting name → value for each flag in `arguments`; a value may start with `-` (`--max-retries -1` reaches
    /// the setting, which says what it expects).
    public static func parse(_ arguments: [String], for command: SettingCommand) throws(SettingArgumentError)
        -> [String: String]
    {
        let accepted = settings(of: command)
        var values: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else {
                throw SettingArgumentError(unexpected: argument, command: command)
            }
            let flag = String(argument.prefix { $0 != "=" })
            guard let setting = accepted.first(where: { $0.flag == flag }) else {
                throw SettingArgumentError(unknownFlag: flag, command: command)
            }
            if argument.count > flag.count {
                values[setting.name] = String(argument.dropFirst(flag.count + 1))
            } else if index < arguments.count {
                values[setting.name] = arguments[index]
                index += 1
            } else {
                throw SettingArgumentError(
                    message:
                        "\(flag) needs a value, e.g. \(flag) \(setting.example.isEmpty ? "VALUE" : setting.example)")
            }
        }
        return values
    }

    /// The options part of `ferry COMMAND --help`: each of the command's settings with its flag, environment
    /// variable, default and meaning.
    public static func help(for command: SettingCommand) -> String {
        var lines = [
            "Settings (each flag overrides its environment variable; `ferry config` prints the effective values):"
        ]
        for setting in settings(of: command) {
            let defaultText = setting.defaultValue.isEmpty ? "unset" : "default \(setting.defaultValue)"
            lines.append("  \(setting.flag) <value>  (\(setting.environmentVariable), \(defaultText))")
            lines.append("      " + setting.meaning.replacingOccurrences(of: "`", with: ""))
        }
        return lines.joined(separator: "\n")
    }
}

/// A command line naming a flag or argument a command does not take.
public struct SettingArgumentError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public var description: String { message }

    init(message: String) {
        self.message = message
    }

    init(unknownFlag flag: String, command: SettingCommand) {
        if let setting = FerrySetting.all.first(where: { $0.flag == flag }) {
            let takers = SettingCommand.allCases.filter { $0 != .config && setting.audience.includes($0) }
            message =
                "`ferry \(command.rawValue)` does not use \(flag) (it is a setting of "
                + takers.map { "ferry \($0.rawValue)" }.joined(separator: ", ") + ")"
            return
        }
        let flags = SettingArguments.settings(of: command).map(\.flag)
        let nearest = flags.min { Self.distance($0, flag) < Self.distance($1, flag) }
        let suggestion = nearest.flatMap { Self.distance($0, flag) <= 3 ? " Did you mean \($0)?" : nil } ?? ""
        message =
            "unknown option \(flag) for `ferry \(command.rawValue)`.\(suggestion) See `ferry \(command.rawValue) --help`."
    }

    init(unexpected argument: String, command: SettingCommand) {
        let commands = [
            "serve", "api", "worker", "migrate", "users", "config", "receiver", "events", "attempts", "subscriptions",
            "replay", "profile", "version",
        ]
        let nearest = commands.min { Self.distance($0, argument) < Self.distance($1, argument) }
        let suggestion =
            nearest.flatMap { Self.distance($0, argument) <= 2 ? " Did you mean `ferry \($0)`?" : nil } ?? ""
        message =
            "`\(argument)` is not a command or option of `ferry \(command.rawValue)`. Ferry's commands: "
            + commands.joined(separator: ", ") + ".\(suggestion) See `ferry --help`."
    }

    /// Edit distance (insertions, deletions, substitutions).
    static func distance(_ first: String, _ second: String) -> Int {
        let a = Array(first)
        let b = Array(second)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
