import FerryCore
import FerryDelivery
import FerryStorage
import FerryTestSupport
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Receivers that misbehave in every way a network peer can: each attempt is recorded truthfully, the worker
/// never wedges, and a well-behaved subscription is not held up by the others beyond their own timeout.
@Suite struct ReceiverChaosTests {
    /// What each path of the chaos receiver does, and what Ferry must record for it.
    static let expectations: [(path: String, status: Int?, error: ResponseErrorName?)] = [
        ("/fail", 500, .http), ("/gone", 410, .http), ("/hang", nil, .timeout), ("/reset", nil, .connection),
        ("/drip", nil, .timeout), ("/big", 200, nil), ("/garbage", nil, .connection),
        ("/huge-headers", nil, .connection), ("/redirect", 302, .http),
    ]

    @Test(arguments: StoreBackend.available)
    func everyMisbehaviourIsRecordedTruthfully(backend: StoreBackend) async throws {
        let receiver = try await ChaosReceiver.start()
        // Generous, so that a busy machine cannot push a quick answer past it; the healthy receiver must still
        // be served well before the hanging ones give up.
        let timeout = Duration.seconds(8)
        try await DeliveryHarness.run(
            backend: backend, url: receiver.url("/ok"),
            configure: {
                $0.totalTimeout = timeout
                $0.retryPolicy = RetryPolicy(schedule: [0.2], maxRetries: 0)
            }
        ) { harness in
            var pathOfSubscription: [UUID: String] = [harness.subscription.id: "/ok"]
            for expectation in Self.expectations {
                let subscription = try await harness.store.createSubscription(
                    Fixtures.draft(applicationID: harness.application.id, url: receiver.url(expectation.path)),
                    secret: UUID())
                pathOfSubscription[subscription.id] = expectation.path
            }
            let sent = Date()
            try await harness.send()
            let attempts = try await harness.waitForAttempts(timeout: .seconds(30)) { attempts in
                attempts.count == pathOfSubscription.count
                    && attempts.allSatisfy { $0.failedAt != nil || $0.succeededAt != nil }
            }
            let okArrival = try #require(receiver.arrivals["/ok"])
            #expect(okArrival.timeIntervalSince(sent) < 4.0, "the healthy receiver waited on the others")

            var report: [String] = []
            for attempt in attempts {
                let path = pathOfSubscription[attempt.subscriptionID] ?? "?"
                let responseID = try #require(attempt.responseID, "\(path) has no response")
                let response = try #require(
                    try await harness.store.response(id: responseID, applicationID: harness.application.id))
                report.append("\(path): \(response.httpCode.map(String.init) ?? response.errorName?.rawValue ?? "?")")
                if path == "/ok" {
                    #expect(attempt.succeededAt != nil && response.httpCode == 200)
                    continue
                }
                let expected = try #require(Self.expectations.first { $0.path == path })
                #expect(response.httpCode == expected.status, "\(path)")
                #expect(response.errorName == expected.error, "\(path)")
                let elapsed = response.elapsedMilliseconds ?? -1
                if expected.error == .timeout {
                    // The attempt ends at the total timeout, not at a shorter internal one.
                    #expect(elapsed >= 7900 && elapsed < 10_000, "\(path) elapsed \(elapsed) ms")
                } else {
                    #expect(elapsed >= 0 && elapsed < 7900, "\(path) elapsed \(elapsed) ms")
                }
                switch path {
                case "/big":
                    #expect(attempt.succeededAt != nil)
                    #expect(response.bodyTruncated && response.body?.count == DeliveryConfiguration().responseBodyLimit)
                case "/fail": #expect(response.body == Array("boom".utf8) && attempt.failedAt != nil)
                default: #expect(attempt.failedAt != nil, "\(path)")
                }
            }
            print("receiver chaos on \(backend): " + report.sorted().joined(separator: ", "))
            #expect(receiver.arrivals["/redirected"] == nil, "a redirect was followed")

            // The worker is not wedged: the next event reaches the healthy receiver at once.
            receiver.reset()
            let again = Date()
            try await harness.send()
            let deadline = Date().addingTimeInterval(7)
            while receiver.arrivals["/ok"] == nil && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let second = try #require(receiver.arrivals["/ok"])
            #expect(second.timeIntervalSince(again) < 4.0)
        }
        try await receiver.close()
    }
}

/// A TCP server on 127.0.0.1 that reads an HTTP request and then misbehaves according to its path.
final class ChaosReceiver: Sendable {
    private let channel: any Channel
    private let log: ArrivalLog
    let port: Int

    private init(channel: any Channel, arrivals: ArrivalLog, port: Int) {
        self.channel = channel
        self.log = arrivals
        self.port = port
    }

    /// When each path was first requested since the last reset.
    var arrivals: [String: Date] { log.first.withLock { $0 } }

    func reset() {
        log.first.withLock { $0 = [:] }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    static func start() async throws -> ChaosReceiver {
        let log = ArrivalLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ChaosHandler(log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ChaosReceiver(channel: channel, arrivals: log, port: channel.localAddress?.port ?? 0)
    }

    func close() async throws {
        try await channel.close()
    }

    /// First arrival time per path.
    final class ArrivalLog: Sendable {
        let first = Mutex<[String: Date]>([:])
    }

    /// Collects one request, then answers (or does not) as its path says.
    private final class ChaosHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let log: ArrivalLog
        private var received: [UInt8] = []
        private var answered = false

        init(log: ArrivalLog) {
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received.append(contentsOf: unwrapInboundIn(data).readableBytesView)
            guard !answered, let request = Self.completeRequest(received) else { return }
            answered = true
            received = []
            log.first.withLock { arrivals in
                if arrivals[request] == nil { arrivals[request] = Date() }
            }
            act(on: request, context: context)
        }

        private func act(on path: String, context: ChannelHandlerContext) {
            switch path {
            case "/ok":
                send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", context)
                answered = false
            case "/fail":
                send("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom", context)
                answered = false
            case "/redirect":
                send("HTTP/1.1 302 Found\r\nLocation: /redirected\r\nContent-Length: 0\r\n\r\n", context)
                answered = false
            case "/redirected":
                send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", context)
                answered = false
            case "/gone":
                send("HTTP/1.1 410 Gone\r\nContent-Length: 4\r\n\r\ngone", context)
                answered = false
            case "/reset":
                send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", context)
                context.close(promise: nil)
            case "/drip":
                send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", context)
                let channel = context.channel
                channel.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) {
                    task in
                    guard channel.isActive else { return task.cancel() }
                    channel.writeAndFlush(ByteBuffer(string: "x"), promise: nil)
                }
            case "/big":
                let size = 10 * 1024 * 1024
                var buffer = context.channel.allocator.buffer(capacity: size + 100)
                buffer.writeString("HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\n\r\n")
                buffer.writeRepeatingByte(UInt8(ascii: "b"), count: size)
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            case "/huge-headers":
                send(
                    "HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "h", count: 1_048_576))\r\nContent-Length: 2\r\n\r\nok",
                    context)
            case "/garbage":
                send("SSH-2.0-NotHTTP\r\n\u{0}\u{1}\u{2}garbage\r\n\r\n", context)
                context.close(promise: nil)
            default: break
            }
        }

        private func send(_ text: String, _ context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        }

        /// The path of the request once its head and declared body have fully arrived.
        private static func completeRequest(_ bytes: [UInt8]) -> String? {
            let text = String(decoding: bytes, as: UTF8.self)
            guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
            let head = text[..<headEnd.lowerBound]
            let lines = head.split(separator: "\r\n")
            guard let requestLine = lines.first else { return nil }
            let parts = requestLine.split(separator: " ")
            guard parts.count >= 2 else { return nil }
            var length = 0
            for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
                length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            let bodyBytes = text.utf8.count - text[..<headEnd.upperBound].utf8.count
            return bodyBytes >= length ? String(parts[1]) : nil
        }
    }
}
