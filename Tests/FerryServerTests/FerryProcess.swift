import AsyncHTTPClient
import FerryCore
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// The real `ferry` binary run as a child process on a free loopback port, for crash and lifecycle tests.
final class FerryProcess: @unchecked Sendable {
    // @unchecked: `process` and the output pipe are only touched from the test that owns this object.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["FERRY_BIN"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/ferry").path
    }

    let port: Int
    let environment: [String: String]
    private var process: Process?
    private(set) var output = ""
    private let outputFile: String

    let command: String

    /// A `ferry serve` on a SQLite file.
    convenience init(databasePath: String, extraEnvironment: [String: String] = [:]) {
        self.init(
            command: "serve", databaseURL: "sqlite:\(databasePath)", outputFile: databasePath + ".out",
            extraEnvironment: extraEnvironment)
    }

    /// A `ferry <command>` (serve, api, worker) on any database URL, logging into `outputFile`.
    init(command: String, databaseURL: String, outputFile: String, extraEnvironment: [String: String] = [:]) {
        self.command = command
        port = Self.freePort()
        self.outputFile = outputFile
        var environment = ProcessInfo.processInfo.environment
        environment["FERRY_LISTEN"] = "127.0.0.1:\(port)"
        environment["FERRY_DATABASE_URL"] = databaseURL
        environment["FERRY_LOG_LEVEL"] = "warning"
        // Cheap password hashes: the first start hashes the administrator's password.
        environment["FERRY_PASSWORD_HASH_COST"] = "10"
        for (key, value) in extraEnvironment { environment[key] = value }
        self.environment = environment
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the server and waits until it answers `readinessPath` (by default `GET /api/v1/instance`).
    func start(client: HTTPClient, readinessPath: String = "/api/v1/instance") async throws {
        FileManager.default.createFile(atPath: outputFile, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [command]
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        if command == "worker" {
            try await Task.sleep(for: .milliseconds(500))
            guard process.isRunning else { throw FerryProcessError(message: "worker exited: \(readOutput())") }
            return
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let answer = try? await request(client, .GET, readinessPath), answer.status == 200 { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FerryProcessError(message: "ferry did not start: \(readOutput())")
    }

    /// The service token and application id the first start printed.
    func firstStartCredentials() throws -> (token: String, application: String) {
        let output = readOutput()
        func printed(_ label: String) throws -> String {
            guard let line = output.split(separator: "\n").first(where: { $0.contains(label) }),
                let value = line.split(separator: " ").last
            else { throw FerryProcessError(message: "no `\(label)` in the first start's output: \(output)") }
            return String(value)
        }
        return (try printed("service token:"), try printed("application_id:"))
    }

    /// Everything the process printed so far.
    func readOutput() -> String {
        (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
    }

    /// Kills the process with SIGKILL (no chance to clean up) and waits until it is gone.
    func killHard() async {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        _ = await process.exitStatus(within: .seconds(10))
    }

    /// Sends SIGTERM and returns at once.
    func signalTerminate() {
        guard let process else { return }
        kill(process.processIdentifier, SIGTERM)
    }

    /// Whether the child is still running.
    var isRunning: Bool { process?.isRunning ?? false }

    /// Waits up to 30 s for the child to exit and returns its status (-2 if it did not; it is then killed).
    func waitForExit() async -> Int32 {
        guard let process else { return -1 }
        if let status = await process.exitStatus(within: .seconds(30)) { return status }
        kill(process.processIdentifier, SIGKILL)
        _ = await process.exitStatus(within: .seconds(10))
        return -2
    }

    /// Sends SIGTERM and returns the exit status (-2 if it had not exited after 30 s; it is then killed).
    func terminate() async -> Int32 {
        guard let process else { return -1 }
        return await process.stop()
    }

    /// Sends SIGTERM and leaves the waiting to a thread of its own: for a test's `defer`, which cannot wait.
    func terminateInBackground() {
        process?.stopInBackground()
    }

    /// A JSON request to the server.
    func request(
        _ client: HTTPClient, _ method: HTTPMethod, _ path: String, token: String? = nil, body: JSONValue? = nil
    ) async throws -> (status: Int, json: JSONValue, retryAfter: String?) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.encoded()))
        }
        let response = try await client.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 4 * 1024 * 1024)
        let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))) ?? .null
        return (Int(response.status.code), json, response.headers.first(name: "retry-after"))
    }

    /// A request answered as text, with the response headers (for `/metrics` and header checks).
    func rawRequest(
        _ client: HTTPClient, _ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = []
    ) async throws -> (status: Int, headers: HTTPHeaders, text: String) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 4 * 1024 * 1024)
        return (Int(response.status.code), response.headers, String(buffer: buffer))
    }

    static func freePort() -> Int {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketDescriptor, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketDescriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension Process {
    /// Waits, polling without holding a thread, until the process exits or `timeout` passes, and returns its exit
    /// status (128 + the signal's number when a signal ended it), or nil if it still runs. Reaps the child
    /// directly if Foundation has not noticed its end (seen on Linux), so a test can fail but never hang here.
    func exitStatus(within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !isRunning { return terminationStatus }
            var status: Int32 = 0
            if waitpid(processIdentifier, &status, WNOHANG) == processIdentifier {
                return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            }
            do { try await Task.sleep(for: .milliseconds(25)) } catch { usleep(25_000) }
        }
        return nil
    }

    /// Sends SIGTERM and returns the exit status, or -2 if it had not exited after `grace` (it is then killed).
    func stop(grace: Duration = .seconds(30)) async -> Int32 {
        guard isRunning else { return terminationStatus }
        kill(processIdentifier, SIGTERM)
        if let status = await exitStatus(within: grace) { return status }
        kill(processIdentifier, SIGKILL)
        _ = await exitStatus(within: .seconds(10))
        return -2
    }

    /// Sends SIGTERM and returns at once; a thread of its own kills the process if it still runs after 30 s.
    /// For a test's `defer`, which cannot wait, without blocking one of the few threads async tests share.
    func stopInBackground() {
        guard isRunning else { return }
        kill(processIdentifier, SIGTERM)
        let process = UncheckedProcess(process: self)
        Thread.detachNewThread {
            let deadline = Date().addingTimeInterval(30)
            while process.process.isRunning, Date() < deadline { usleep(50_000) }
            if process.process.isRunning { kill(process.process.processIdentifier, SIGKILL) }
        }
    }
}

/// A process handed to the thread that waits for its end.
private struct UncheckedProcess: @unchecked Sendable {
    // @unchecked: the thread only reads `isRunning` and the pid, which Foundation guards itself.
    let process: Process
}

/// The child process misbehaved.
struct FerryProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension JSONValue {
    /// The string at `key` of an object, if any.
    func string(_ key: String) -> String? {
        if case .object(let object) = self, case .string(let value)? = object[key] { return value }
        return nil
    }
}

/// A blocking TCP connection to 127.0.0.1, for requests sent in pieces.
final class LoopbackConnection {
    private let descriptor: Int32

    /// Connects, or throws when the port refuses.
    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // The deinitializer closes the descriptor, also when this initializer throws: closing it here too could
        // close a descriptor another test opened in between.
        guard connected == 0 else { throw FerryProcessError(message: "connection to port \(port) refused") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws { try send(bytes: Array(text.utf8)) }

    func send(bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer in
                Glibc.send(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset, 0)
            }
            guard sent > 0 else { throw FerryProcessError(message: "send failed") }
            offset += sent
        }
    }

    /// Reads until the peer closes or 10 s pass without data, and returns what came as text.
    func receive() throws -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += chunk[0..<count]
            if let text = String(bytes: received, encoding: .utf8), Self.isComplete(text) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// A response is complete once its head and `Content-Length` bytes of body arrived.
    private static func isComplete(_ text: String) -> Bool {
        guard let headEnd = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<headEnd.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return text[headEnd.upperBound...].utf8.count >= length
    }
}
