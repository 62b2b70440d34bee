import NIOCore
import NIOPosix
import Synchronization

/// A DNS server on 127.0.0.1 for resolver tests, answering by the first label of the name asked:
/// `stall…` never answers, `late…` answers 127.0.0.1 after `lateDelay`, `nx…` answers NXDOMAIN with a SOA whose
/// minimum is `negativeTTL`, anything else answers 127.0.0.1 with `positiveTTL` (and no IPv6 address).
final class FakeNameServer: Sendable {
    private let channel: any Channel
    private let log: QueryLog
    let port: Int

    private init(channel: any Channel, log: QueryLog, port: Int) {
        self.channel = channel
        self.log = log
        self.port = port
    }

    /// How many queries (A and AAAA counted apart) each name received.
    func queries(for name: String) -> Int { log.counts.withLock { $0[name, default: 0] } }

    /// Every query received.
    var totalQueries: Int { log.counts.withLock { $0.values.reduce(0, +) } }

    static func start(
        positiveTTL: UInt32 = 60, negativeTTL: UInt32 = 10, lateDelay: Duration = .seconds(2)
    ) async throws -> FakeNameServer {
        let log = QueryLog()
        let behaviour = Behaviour(positiveTTL: positiveTTL, negativeTTL: negativeTTL, lateDelay: lateDelay)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.pipeline.addHandler(Handler(log: log, behaviour: behaviour))
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeNameServer(channel: channel, log: log, port: channel.localAddress?.port ?? 0)
    }

    func stop() async throws {
        try await channel.close()
    }

    private final class QueryLog: Sendable {
        let counts = Mutex<[String: Int]>([:])
    }

    private struct Behaviour: Sendable {
        let positiveTTL: UInt32
        let negativeTTL: UInt32
        let lateDelay: Duration
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let log: QueryLog
        let behaviour: Behaviour

        init(log: QueryLog, behaviour: Behaviour) {
            self.log = log
            self.behaviour = behaviour
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let query = Array(envelope.data.readableBytesView)
            guard let (name, questionEnd) = Self.question(in: query) else { return }
            log.counts.withLock { $0[name, default: 0] += 1 }
            let type = UInt16(query[questionEnd - 4]) << 8 | UInt16(query[questionEnd - 3])
            let reply: [UInt8]
            if name.hasPrefix("stall") {
                return
            } else if name.hasPrefix("nx") {
                reply = Self.reply(to: query, questionEnd: questionEnd, code: 3, soaMinimum: behaviour.negativeTTL)
            } else {
                let answer: [UInt8]? = type == 1 ? [127, 0, 0, 1] : nil
                reply = Self.reply(to: query, questionEnd: questionEnd, address: answer, ttl: behaviour.positiveTTL)
            }
            let out = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply))
            if name.hasPrefix("late") {
                let (seconds, attoseconds) = behaviour.lateDelay.components
                let delay = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
                let channel = context.channel
                context.eventLoop.scheduleTask(in: delay) { channel.writeAndFlush(out, promise: nil) }
            } else {
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        }

        /// The lowercase name asked and the offset just past the question.
        static func question(in query: [UInt8]) -> (String, Int)? {
            var offset = 12
            var labels: [String] = []
            while offset < query.count {
                let length = Int(query[offset])
                if length == 0 { break }
                guard offset + 1 + length <= query.count else { return nil }
                labels.append(String(decoding: query[(offset + 1)...(offset + length)], as: UTF8.self))
                offset += 1 + length
            }
            let end = offset + 5
            guard end <= query.count else { return nil }
            return (labels.joined(separator: ".").lowercased(), end)
        }

        static func reply(
            to query: [UInt8], questionEnd: Int, code: UInt8 = 0, address: [UInt8]? = nil, ttl: UInt32 = 0,
            soaMinimum: UInt32? = nil
        ) -> [UInt8] {
            func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
            func be32(_ value: UInt32) -> [UInt8] {
                [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            }
            var bytes = Array(query[0..<2]) + [0x81, 0x80 | code] + be16(1)
            bytes += be16(address == nil ? 0 : 1) + be16(soaMinimum == nil ? 0 : 1) + be16(0)
            bytes += query[12..<questionEnd]
            if let address {
                bytes += [0xC0, 0x0C] + be16(1) + be16(1) + be32(ttl) + be16(address.count) + address
            }
            if let soaMinimum {
                let rdata: [UInt8] = [0, 0] + be32(1) + be32(3600) + be32(600) + be32(86400) + be32(soaMinimum)
                bytes += [0xC0, 0x0C] + be16(6) + be16(1) + be32(3600) + be16(rdata.count) + rdata
            }
            return bytes
        }
    }
}
