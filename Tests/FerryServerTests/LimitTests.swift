import AsyncHTTPClient
import FerryCore
import FerryTestSupport
import Foundation
import HTTPTypes
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Limits on what a client controls, against the real binary with small limits: each is answered with a clear
/// 4xx (or the connection is closed) and nothing is stored, and the server keeps serving afterwards.
@Suite(.serialized) struct LimitTests {
    static let environment = [
        "FERRY_MASTER_API_KEY": ProcessTests.masterKey, "FERRY_MAX_REQUEST_BODY": "4096",
        "FERRY_REQUEST_BODY_TIMEOUT": "1s", "FERRY_IDLE_TIMEOUT": "2s", "FERRY_MAX_CONNECTIONS": "4",
    ]

    @Test func everyClientControlledLimitHolds() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(databasePath: directory.path + "/ferry.sqlite", extraEnvironment: Self.environment)
        try await ferry.start(client: client)
        try await client.shutdown()
        let port = ferry.port
        let authorization = "Authorization: Bearer \(ProcessTests.masterKey)\r\n"

        // A body over the limit: 400 JsonPayload (as Hook0), and no organization was created.
        let big = #"{"name":""# + String(repeating: "x", count: 5000) + #""}"#
        let tooLarge = try RawHTTP.exchange(
            port: port,
            "POST /api/v1/organizations HTTP/1.1\r\nHost: t\r\n\(authorization)Content-Type: application/json\r\n"
                + "Content-Length: \(big.utf8.count)\r\n\r\n\(big)")
        #expect(tooLarge.hasPrefix("HTTP/1.1 400"), "\(tooLarge.prefix(200))")
        #expect(tooLarge.contains(#""id":"JsonPayload""#))
        #expect(tooLarge.contains("Body is too big (maximum is 4096 bytes)"))

        // A body that stalls: 408 after the body timeout, then the connection is closed.
        let stalled = try RawHTTP.connect(port: port)
        defer { close(stalled) }
        try RawHTTP.send(
            stalled,
            "POST /api/v1/organizations HTTP/1.1\r\nHost: t\r\n\(authorization)Content-Type: application/json\r\n"
                + "Content-Length: 100\r\n\r\n{\"name\":")
        let clock = ContinuousClock()
        let stalledAt = clock.now
        let slowAnswer = RawHTTP.readUntilClosed(stalled, timeout: 6)
        #expect(slowAnswer.hasPrefix("HTTP/1.1 408"), "\(slowAnswer.prefix(200))")
        #expect(clock.now - stalledAt < .seconds(5))

        // Headers and URLs far beyond any sane size are refused without a 500, and the server still answers.
        let hugeHeader = try RawHTTP.exchange(
            port: port,
            "GET /api/v1/instance HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 200_000))\r\n\r\n")
        #expect(!hugeHeader.hasPrefix("HTTP/1.1 2") && !hugeHeader.hasPrefix("HTTP/1.1 5"), "\(hugeHeader.prefix(80))")
        let hugeURL = try RawHTTP.exchange(
            port: port, "GET /api/v1/instance?\(String(repeating: "q", count: 200_000)) HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(!hugeURL.hasPrefix("HTTP/1.1 2") && !hugeURL.hasPrefix("HTTP/1.1 5"), "\(hugeURL.prefix(80))")

        // The refused bodies stored nothing.
        let organizations = try RawHTTP.exchange(
            port: port, "GET /api/v1/organizations HTTP/1.1\r\nHost: t\r\n\(authorization)Connection: close\r\n\r\n")
        #expect(organizations.hasPrefix("HTTP/1.1 200"))
        #expect(!organizations.contains(String(repeating: "x", count: 100)), "the oversized organization was stored")

        // An idle keep-alive connection is closed by the server after the idle timeout.
        let idle = try RawHTTP.connect(port: port)
        defer { close(idle) }
        let idleStarted = clock.now
        #expect(RawHTTP.readUntilClosed(idle, timeout: 6).isEmpty)
        #expect(clock.now - idleStarted < .seconds(5))

        // At the connection limit a further connection waits; it is served once another one closes.
        var held = try (0..<4).map { _ in try RawHTTP.connect(port: port) }
        try await Task.sleep(for: .milliseconds(200))
        let waiting = try RawHTTP.connect(port: port)
        defer { close(waiting) }
        try RawHTTP.send(waiting, "GET /api/v1/instance HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(RawHTTP.readUntilClosed(waiting, timeout: 0.7).isEmpty, "served beyond the connection limit")
        for socket in held { close(socket) }
        held = []
        let served = RawHTTP.readUntilClosed(waiting, timeout: 5)
        #expect(served.hasPrefix("HTTP/1.1 200"), "\(served.prefix(80))")

        #expect(await ferry.terminate() == 0)
    }

    /// 100 silent sockets from one address neither hold the connection cap nor stay open: the address's share is
    /// capped (the rest are closed at once), another client is answered at once, and the silent ones are closed at
    /// the request-head timeout, long before the idle timeout (issue 13, item 4).
    @Test func silentSocketsFromOneAddressDoNotStarveAnotherClient() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(
            databasePath: directory.path + "/ferry.sqlite",
            extraEnvironment: [
                "FERRY_MAX_CONNECTIONS": "50", "FERRY_MAX_CONNECTIONS_PER_CLIENT": "20",
                "FERRY_REQUEST_HEAD_TIMEOUT": "3s", "FERRY_IDLE_TIMEOUT": "60s",
            ])
        try await ferry.start(client: client)
        try await client.shutdown()
        let port = ferry.port
        let clock = ContinuousClock()

        let silent = try (0..<100).map { _ in try RawHTTP.connect(port: port, from: "127.0.0.1") }
        defer { for socket in silent { close(socket) } }
        try await Task.sleep(for: .milliseconds(300))
        let askedAt = clock.now
        let other = try RawHTTP.connect(port: port, from: "127.0.0.2")
        defer { close(other) }
        try RawHTTP.send(other, "GET /api/v1/instance HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let answer = RawHTTP.readUntilClosed(other, timeout: 2.5)
        let answeredIn = clock.now - askedAt
        #expect(answer.hasPrefix("HTTP/1.1 200"), "another client was not answered: \(answer.prefix(80))")
        #expect(answeredIn < .seconds(2))

        // Past the per-address share the sockets were closed at once; the rest close at the request-head timeout.
        var closedAtOnce = 0
        for socket in silent {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 0) > 0 { closedAtOnce += 1 }
        }
        #expect(closedAtOnce == 80, "expected 80 of 100 closed at once, got \(closedAtOnce)")
        let held = silent.filter { socket in
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            return poll(&descriptor, 1, 0) == 0
        }
        let heldAt = clock.now
        for socket in held { _ = RawHTTP.readUntilClosed(socket, timeout: 8) }
        let allClosedIn = clock.now - heldAt
        #expect(allClosedIn < .seconds(5), "silent sockets stayed open \(allClosedIn)")

        // A client that trickles its request head is closed at the same timeout.
        let trickling = try RawHTTP.connect(port: port, from: "127.0.0.3")
        defer { close(trickling) }
        try RawHTTP.send(trickling, "GET /api/v1/instance HTTP/1.1\r\nHost: t\r\n")
        let tricklingAt = clock.now
        #expect(RawHTTP.readUntilClosed(trickling, timeout: 8).isEmpty)
        #expect(clock.now - tricklingAt < .seconds(5))
        print(
            "connection guard: other client answered in \(answeredIn), \(closedAtOnce)/100 silent sockets closed at "
                + "once, the rest \(allClosedIn) later (request-head timeout 3 s, idle timeout 60 s)")
        #expect(await ferry.terminate() == 0)
    }

    /// JSON nested far deeper than any real payload is a 400, as a request body and as an event payload.
    @Test(arguments: StoreBackend.available)
    func deeplyNestedJSONIsRefused(backend: StoreBackend) async throws {
        try await APIClient.with(backend: backend) { api, _ in
            let (_, application, token) = try await api.tenant()
            let depth = 100_000
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let asBody = try await api.call(
                .post, "/api/v1/organizations", token: APIClient.masterKey, rawBody: nested)
            #expect(asBody.status == 400)
            #expect(asBody.string("id") == "JsonPayload")
            _ = try await api.call(
                .post, "/api/v1/event_types", token: token,
                body: [
                    "application_id": .string(application), "service": "billing", "resource_type": "invoice",
                    "verb": "paid",
                ])
            var event = APIClient.eventBody(application: application)
            if case .object(var fields) = event {
                fields["payload"] = .string(String(repeating: "[", count: 500_000) + String(repeating: "]", count: 1))
                event = .object(fields)
            }
            let asPayload = try await api.call(.post, "/api/v1/event", token: token, body: event)
            #expect(asPayload.status == 400)
            #expect(asPayload.string("id") == "EventInvalidJsonPayload")
            let events = try await api.call(.get, "/api/v1/events?application_id=\(application)", token: token)
            #expect(events.array.isEmpty)
        }
    }
}

/// Plain-socket HTTP for the cases an HTTP client library will not produce (stalled bodies, huge headers).
enum RawHTTP {
    struct Failure: Error {
        let message: String
    }

    /// Connects to 127.0.0.1:`port`, from the loopback address `source` (any of 127.0.0.0/8; Linux answers them
    /// all), so one test can play several clients.
    static func connect(port: Int, from source: String = "127.0.0.1") throws -> Int32 {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(socketDescriptor)
            throw Failure(message: "bind to \(source) failed: \(errno)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(socketDescriptor)
            throw Failure(message: "connect failed: \(errno)")
        }
        return socketDescriptor
    }

    /// Sends all of `text`; a peer that closed early is not an error (its answer is read afterwards).
    static func send(_ socket: Int32, _ text: String) throws {
        var bytes = Array(text.utf8)
        while !bytes.isEmpty {
            let sent = Glibc.send(socket, bytes, bytes.count, Int32(MSG_NOSIGNAL))
            if sent <= 0 { return }
            bytes.removeFirst(sent)
        }
    }

    /// Reads until the peer closes or `timeout` seconds pass without it closing; returns what arrived.
    static func readUntilClosed(_ socket: Int32, timeout: Double) -> String {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&descriptor, 1, remaining) > 0 else { break }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Sends a request on a fresh connection and reads the answer until the server closes it (or 5 s pass).
    static func exchange(port: Int, _ request: String) throws -> String {
        let socket = try connect(port: port)
        defer { close(socket) }
        var text = request
        if !text.contains("Connection: close") {
            text = text.replacingOccurrences(of: "Host: t\r\n", with: "Host: t\r\nConnection: close\r\n")
        }
        try send(socket, text)
        return readUntilClosed(socket, timeout: 5)
    }
}
