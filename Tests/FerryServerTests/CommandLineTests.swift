import FerryCore
import FerryServer
import FerryTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a newcomer meets on the command line: every message a start-up mistake used to give unclearly, replaced by
/// one that says what to do, each checked on the real binary with its exit status.
@Suite struct CommandLineTests {
    /// Runs `ferry arguments…` to its end (killed after `timeout`), in a clean environment plus `environment`.
    static func ferry(
        _ arguments: [String], environment: [String: String] = [:], in directory: TemporaryDirectory? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FerryProcess.binary)
        process.arguments = arguments
        var base = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin", "FERRY_PASSWORD_HASH_COST": "10",
        ]
        if let directory {
            base["FERRY_DATABASE_URL"] = "sqlite:\(directory.path)/ferry.sqlite"
            process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        }
        process.environment = base.merging(environment) { _, given in given }
        let outputPath = NSTemporaryDirectory() + "ferry-cli-\(UUID().uuidString).out"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(25)) }
        if process.isRunning {
            process.interrupt()
            try await Task.sleep(for: .milliseconds(500))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let status = await process.exitStatus(within: .seconds(10)) ?? -2
        try handle.close()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (status, output)
    }

    @Test func versionAndUnknownCommandsAndValuesLikeMinusOneSayWhatTheyMean() async throws {
        let version = try await Self.ferry(["--version"])
        #expect(version.status == 0 && version.output.contains(FerryVersion.current), "\(version.output)")

        let start = try await Self.ferry(["start"])
        #expect(start.status != 0)
        #expect(start.output.contains("`start` is not a command"), "\(start.output)")
        #expect(
            start.output.contains(
                "serve, api, worker, migrate, users, config, receiver, events, attempts, subscriptions, replay, profile, version"
            ), "\(start.output)")

        let typo = try await Self.ferry(["serve", "--lisen", "127.0.0.1:1"])
        #expect(typo.status != 0 && typo.output.contains("Did you mean --listen?"), "\(typo.output)")

        let negative = try await Self.ferry(["config", "--max-retries", "-1"])
        #expect(negative.status != 0)
        #expect(negative.output.contains("FERRY_MAX_RETRIES"), "\(negative.output)")
        #expect(negative.output.contains("expected a whole number ≥ 0"), "\(negative.output)")

        let missing = try await Self.ferry(["config", "--max-retries"])
        #expect(missing.status != 0 && missing.output.contains("--max-retries needs a value"), "\(missing.output)")

        let wrongCommand = try await Self.ferry(["migrate", "--listen", "127.0.0.1:1"])
        #expect(wrongCommand.status != 0)
        #expect(wrongCommand.output.contains("`ferry migrate` does not use --listen"), "\(wrongCommand.output)")
    }

    @Test func eachCommandsHelpListsItsOwnSettingsWithDefaults() async throws {
        let migrate = try await Self.ferry(["migrate", "--help"])
        #expect(migrate.output.contains("--database-url <value>  (FERRY_DATABASE_URL, default sqlite:ferry.sqlite)"))
        #expect(!migrate.output.contains("--listen"), "\(migrate.output)")
        #expect(!migrate.output.contains("--worker-concurrency"))
        let worker = try await Self.ferry(["worker", "--help"])
        #expect(worker.output.contains("--worker-concurrency <value>  (FERRY_WORKER_CONCURRENCY, default 64)"))
        #expect(!worker.output.contains("--listen "), "\(worker.output)")
        let api = try await Self.ferry(["api", "--help"])
        #expect(api.output.contains("--listen <value>"))
        #expect(!api.output.contains("--worker-concurrency"))
    }

    /// Every setting's flag reaches the configuration: `ferry config` given each one's example prints it back in
    /// the syntax Ferry reads, and that output, fed back as the environment, gives the same configuration.
    @Test func everyFlagReachesTheConfigurationAndConfigOutputCanBeFedBack() async throws {
        var arguments = ["config"]
        for setting in FerrySetting.all {
            arguments += [setting.flag, setting.example]
        }
        let printed = try await Self.ferry(arguments)
        #expect(printed.status == 0, "\(printed.output)")
        let lines = printed.output.split(separator: "\n").map(String.init)
        for setting in FerrySetting.all {
            let expected = setting.shown((try? setting.normalize(setting.example).get()) ?? "?")
            #expect(lines.contains("\(setting.environmentVariable)=\(expected)"), "\(setting.flag): \(printed.output)")
            if setting.isSecret { #expect(!printed.output.contains(setting.example), "\(setting.name) shown") }
        }
        #expect(lines.count == FerrySetting.all.count)

        // The defaults' output, with durations as `5s`, is valid input.
        let defaults = try await Self.ferry(["config"])
        #expect(defaults.output.contains("FERRY_CONNECT_TIMEOUT=5s"), "\(defaults.output)")
        #expect(defaults.output.contains("FERRY_MASTER_API_KEY=\n"), "unset values print empty")
        var environment: [String: String] = [:]
        for line in defaults.output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, !parts[1].isEmpty { environment[String(parts[0])] = String(parts[1]) }
        }
        let again = try await Self.ferry(["config"], environment: environment)
        #expect(again.status == 0, "\(again.output)")
        #expect(again.output == defaults.output)
    }

    @Test func aSettingsSourceDefinesEachSettingOnce() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/FerryServer/Settings/Settings.swift")
        let text = try String(contentsOf: source, encoding: .utf8)
        let declared = text.components(separatedBy: "public static let ").count - 1
        #expect(declared == FerrySetting.all.count, "a setting is declared but missing from Settings.all")
        #expect(Set(FerrySetting.all.map(\.name)).count == FerrySetting.all.count)
    }

    @Test func passwordsInDatabaseURLsAreNeverPrintedAndTheProblemIsNamed() async throws {
        let url = "postgres://ferry:hunter2-secret@db.example:54x32/ferry"
        let config = try await Self.ferry(["config"], environment: ["FERRY_DATABASE_URL": url])
        #expect(config.status != 0)
        #expect(!config.output.contains("hunter2-secret"), "\(config.output)")
        #expect(config.output.contains("its port `54x32` is not a number"), "\(config.output)")
        let serve = try await Self.ferry(["serve", "--database-url", url])
        #expect(serve.status != 0 && !serve.output.contains("hunter2-secret"), "\(serve.output)")
        #expect(serve.output.contains("its port `54x32` is not a number"), "\(serve.output)")
        let valid = try await Self.ferry(
            ["config"], environment: ["FERRY_DATABASE_URL": "postgres://ferry:hunter2-secret@127.0.0.1:5432/ferry"])
        #expect(valid.output.contains("FERRY_DATABASE_URL=postgres://ferry:********@127.0.0.1:5432/ferry"))
        #expect(!valid.output.contains("hunter2-secret"))
    }

    @Test func aPortInUseIsReportedBeforeTheFirstStartCreatesAnything() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let port = FerryProcess.freePort()
        // Closed once, in the middle: a second close could hit a descriptor another test opened since.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var holderOpen = true
        defer { if holderOpen { close(holder) } }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(bound == 0 && listen(holder, 1) == 0)
        let refused = try await Self.ferry(["serve"], environment: ["FERRY_LISTEN": "127.0.0.1:\(port)"], in: directory)
        #expect(refused.status != 0)
        #expect(
            refused.output.contains("127.0.0.1:\(port) is already in use (set FERRY_LISTEN or --listen)"),
            "\(refused.output)")
        #expect(!refused.output.contains("service token"), "credentials printed for a server that never ran")
        #expect(!refused.output.contains("errno"))
        // Nothing was bootstrapped: a start on a free port is still the first one and prints the credentials.
        close(holder)
        holderOpen = false
        let environment = ["FERRY_LISTEN": "127.0.0.1:\(FerryProcess.freePort())"]
        let first = try await Self.ferry(["serve"], environment: environment, in: directory, timeout: .seconds(8))
        #expect(first.output.contains("service token"), "\(first.output)")
    }

    @Test func anUnopenableSQLiteFileIsNamedWithTheReason() async throws {
        let missing = try await Self.ferry(["migrate", "--database-url", "sqlite:/nonexistent-ferry-folder/x.sqlite"])
        #expect(missing.status != 0)
        #expect(
            missing.output.contains(
                "cannot create the SQLite database /nonexistent-ferry-folder/x.sqlite: the folder "
                    + "/nonexistent-ferry-folder does not exist"), "\(missing.output)")
        #expect(!missing.output.contains("SQLite error 14"))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let migrated = try await Self.ferry(["migrate"], in: directory)
        #expect(migrated.status == 0)
        #expect(migrated.output.contains("ferry.sqlite is at schema version 17, the latest."), "\(migrated.output)")
        let created = try await Self.ferry(
            [
                "users", "create", "person@example.com", "--password", "a-long-enough-password", "--password-hash-cost",
                "10",
            ],
            in: directory)
        #expect(created.status == 0 && created.output.contains("created person@example.com"), "\(created.output)")
    }

    @Test func anUnreachablePostgreSQLStopsTheStartInBoundedTime() async throws {
        let port = FerryProcess.freePort()
        let started = ContinuousClock.now
        let result = try await Self.ferry(
            ["migrate"],
            environment: [
                "FERRY_DATABASE_URL": "postgres://ferry@127.0.0.1:\(port)/ferry",
                "FERRY_DATABASE_CONNECT_TIMEOUT": "2s",
            ], timeout: .seconds(30))
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(result.status != 0)
        #expect(
            result.output.contains("cannot reach PostgreSQL at 127.0.0.1:\(port): connection refused"),
            "\(result.output)")
    }
}
