import Foundation

/// Where the command-line client sends its requests: a Ferry API's base URL, a bearer token and the application
/// its commands are about. Given by flags, else `FERRY_URL`, `FERRY_TOKEN` and `FERRY_APPLICATION_ID`, else a saved
/// profile (`ferry profile save`; the one `--profile` or `FERRY_PROFILE` names, `default` otherwise).
public struct ClientProfile: Codable, Sendable, Equatable {
    public var url: String
    public var token: String
    public var application: String?

    public init(url: String, token: String, application: String?) {
        self.url = url
        self.token = token
        self.application = application
    }

    /// The file profiles are kept in: `$XDG_CONFIG_HOME/ferry/profiles.json`, or `~/.config/ferry/profiles.json`.
    public static func file(environment: [String: String]) -> URL {
        let base =
            environment["XDG_CONFIG_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config")
        return base.appendingPathComponent("ferry/profiles.json")
    }

    /// The saved profiles by name.
    public static func saved(environment: [String: String]) throws -> [String: ClientProfile] {
        let file = file(environment: environment)
        guard FileManager.default.fileExists(atPath: file.path) else { return [:] }
        do {
            return try JSONDecoder().decode([String: ClientProfile].self, from: Data(contentsOf: file))
        } catch {
            throw ClientError("cannot read the profiles in \(file.path): \(error)")
        }
    }

    /// Saves `profile` under `name`, in a file only its owner may read (it holds a token).
    public static func save(_ profile: ClientProfile, as name: String, environment: [String: String]) throws -> URL {
        var profiles = try saved(environment: environment)
        profiles[name] = profile
        let file = file(environment: environment)
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(profiles).write(to: file, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        return file
    }

    /// The profile the flags, the environment and the saved profiles give, flags first.
    public static func resolve(
        url: String?, token: String?, application: String?, profile: String?, environment: [String: String]
    ) throws -> ClientProfile {
        let name = profile ?? environment["FERRY_PROFILE"]
        let saved = try saved(environment: environment)
        let stored = saved[name ?? "default"]
        if let name, stored == nil {
            throw ClientError("no profile named \(name) (save one with `ferry profile save \(name) --url … --token …`)")
        }
        guard let resolvedURL = url ?? environment["FERRY_URL"] ?? stored?.url else {
            throw ClientError(
                "no API to talk to: give --url http://127.0.0.1:8080/api/v1 (or FERRY_URL, or a saved profile)")
        }
        guard let resolvedToken = token ?? environment["FERRY_TOKEN"] ?? stored?.token else {
            throw ClientError("no token: give --token (a service token or an access token; or FERRY_TOKEN)")
        }
        return ClientProfile(
            url: apiURL(resolvedURL), token: resolvedToken,
            application: application ?? environment["FERRY_APPLICATION_ID"] ?? stored?.application)
    }

    /// The API's base URL from a server's (`http://host:8080` → `http://host:8080/api/v1`).
    public static func apiURL(_ url: String) -> String {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        return trimmed.hasSuffix("/api/v1") ? trimmed : trimmed + "/api/v1"
    }

    /// The application its commands are about, or why there is none.
    public func requireApplication() throws -> String {
        guard let application else {
            throw ClientError(
                "no application: give --application ID (or FERRY_APPLICATION_ID, or save it in a profile)")
        }
        return application
    }
}

/// A client command that cannot do what it was asked, in words.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
