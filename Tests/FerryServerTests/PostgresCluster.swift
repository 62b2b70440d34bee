import Foundation

/// A PostgreSQL cluster of the test's own (scripts/postgres with its own directory and port), for tests that
/// stop and restart the server without disturbing the shared test cluster.
struct PostgresCluster {
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/postgres").path
    }

    let directory: String
    let port: Int

    /// Starts a fresh cluster and returns it with the URL of its `postgres` database.
    static func start(port: Int) async throws -> (PostgresCluster, String) {
        let cluster = PostgresCluster(
            directory: NSTemporaryDirectory() + "ferry-pg-\(UUID().uuidString.prefix(8))", port: port)
        let output = try await cluster.run("start")
        guard let url = output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") else {
            throw FerryProcessError(message: "scripts/postgres start printed no URL: \(output)")
        }
        return (cluster, url)
    }

    /// Stops the server, keeping its data.
    func pause() async throws { try await run("pause") }

    /// Starts the stopped server again.
    func resume() async throws { try await run("resume") }

    /// Stops the server.
    func stop() async { _ = try? await run("stop") }

    /// Runs the script through a shell that records its exit status in a file, and polls for that file:
    /// output goes to files (the server pg_ctl starts would inherit a pipe), and the test does not depend on
    /// Foundation noticing the child's exit.
    @discardableResult
    private func run(_ action: String) async throws -> String {
        let outputPath = "\(directory).\(action).out"
        let statusPath = "\(directory).\(action).status"
        try? FileManager.default.removeItem(atPath: statusPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            "-c", "bash \"$0\" \"$1\" >\"$2\" 2>/dev/null; echo $? >\"$3\"", Self.script, action, outputPath,
            statusPath,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["FERRY_PG_DIR"] = directory
        environment["FERRY_PG_PORT"] = String(port)
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let status = try? String(contentsOfFile: statusPath, encoding: .utf8),
                status.hasSuffix("\n")
            {
                let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                guard status.trimmingCharacters(in: .whitespacesAndNewlines) == "0" else {
                    throw FerryProcessError(message: "scripts/postgres \(action) failed: \(output)")
                }
                return output
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FerryProcessError(message: "scripts/postgres \(action) did not finish")
    }
}
