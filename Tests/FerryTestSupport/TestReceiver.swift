import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A real HTTP receiver on 127.0.0.1 (random port) that records every request it gets and answers as told.
public final class TestReceiver: Sendable {
    /// One request as the receiver saw it.
    public struct RecordedRequest: Sendable {
        public var method: String
        public var path: String
        /// Header names lower-cased; the last value wins.
        public var headers: [String: String]
        public var body: [UInt8]
        public var receivedAt: Date
    }

    /// What to answer: status, headers and body, and an optional delay before answering.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
        public var delay: Duration

        public init(
            status: Int = 200, headers: [String: String] = [:], body: [UInt8] = Array("ok".utf8),
            delay: Duration = .zero
        ) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }
    }

    private let recorded = Mutex<[RecordedRequest]>([])
    private let reply: @Sendable (RecordedRequest, Int) -> Reply
    public let port: Int

    private init(port: Int, reply: @escaping @Sendable (RecordedRequest, Int) -> Reply) {
        self.port = port
        self.reply = reply
    }

    /// The receiver's URL for `path`.
    public func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every request received so far.
    public var requests: [RecordedRequest] { recorded.withLock { $0 } }

    /// Waits until at least `count` requests arrived or `timeout` passed; returns what arrived.
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(10)) async -> [RecordedRequest] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = requests
            if current.count >= count { return current }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return requests
    }

    fileprivate func record(_ request: RecordedRequest) -> Reply {
        let number = recorded.withLock { list in
            list.append(request)
            return list.count
        }
        return reply(request, number)
    }

    /// Runs `body` with a receiver listening, then stops it.
    /// - Parameter reply: decides the answer from the request and its 1-based arrival number.
    public static func with<T: Sendable>(
        reply: @escaping @Sendable (RecordedRequest, Int) -> Reply = { _, _ in Reply() },
        _ body: @Sendable (TestReceiver) async throws -> T
    ) async throws -> T {
        let portBox = ReceiverBox()
        let ready = AsyncStream<Int>.makeStream()
        let router = Router()
        router.on("/{path*}", method: .post, use: { request, context in try await handle(request, portBox) })
        for method in [HTTPRequest.Method.get, .put, .patch, .delete, .options, .head] {
            router.on("/{path*}", method: method, use: { request, context in try await handle(request, portBox) })
        }
        var logger = Logger(label: "test-receiver")
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                ready.continuation.yield(channel.localAddress?.port ?? 0)
                ready.continuation.finish()
            }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let runner = Task { try await group.run() }
        var port = 0
        for await value in ready.stream { port = value }
        let receiver = TestReceiver(port: port, reply: reply)
        portBox.value.withLock { $0 = receiver }
        defer { runner.cancel() }
        do {
            let result = try await body(receiver)
            await group.triggerGracefulShutdown()
            _ = await runner.result
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = await runner.result
            throw error
        }
    }

    private static func handle(_ request: Request, _ box: ReceiverBox) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 16 * 1024 * 1024)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        if let authority = request.head.authority { headers["host"] = authority }
        let recorded = RecordedRequest(
            method: request.method.rawValue, path: request.uri.path, headers: headers,
            body: Array(buffer.readableBytesView), receivedAt: Date())
        guard let receiver = box.value.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
        let reply = receiver.record(recorded)
        if reply.delay > .zero { try? await Task.sleep(for: reply.delay) }
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}

/// Hands the receiver to request handlers created before it exists.
private final class ReceiverBox: Sendable {
    let value = Mutex<TestReceiver?>(nil)
}
