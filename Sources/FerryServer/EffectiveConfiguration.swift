import Configuration
import Foundation

/// The effective configuration as `ferry config` prints it: one `FERRY_…=value` line per setting, each value in
/// the syntax Ferry reads (so the output can be kept as an environment file), an unset one empty, a secret
/// `********` and a URL's password masked.
public enum EffectiveConfiguration {
    public static func describe(reader: ConfigReader) -> String {
        FerrySetting.all.map { setting in
            let text =
                reader.string(forKey: ConfigKey(stringLiteral: setting.key), isSecret: setting.display != .plain)
                ?? setting.defaultValue
            let normalized = (try? setting.normalize(text).get()) ?? text
            return "\(setting.environmentVariable)=\(setting.shown(normalized))"
        }.joined(separator: "\n")
    }
}

/// Database URLs as shown to people: the password replaced by `********`, also in a URL too broken to parse.
enum DatabaseURLText {
    static func masked(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@"),
            let colon = rest[..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<rest.index(after: colon)]) + "********" + String(url[at...])
    }
}
