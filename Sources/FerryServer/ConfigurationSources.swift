import Configuration

/// Builds the provider chain: flags given on the command line, then `FERRY_*` environment variables.
/// (Defaults come from `Settings`.)
public enum ConfigurationSources {
    /// A reader over explicit overrides (setting name → value) and an environment.
    public static func reader(
        overrides: [String: String], environment: [String: String]
    ) -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, value) in overrides {
            let isSecret = FerrySetting.all.first { $0.name == name }.map { $0.display != .plain } ?? false
            values[AbsoluteConfigKey(["ferry", name])] = ConfigValue(.string(value), isSecret: isSecret)
        }
        return ConfigReader(providers: [
            InMemoryProvider(name: "command line", values: values),
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .specific(
                    Set(FerrySetting.all.filter { $0.display != .plain }.map(\.environmentVariable)))),
        ])
    }
}
