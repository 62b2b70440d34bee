import NIOCore
import NIOHTTPTypes
import Synchronization

/// How many connections each client address holds open, shared by every connection of one listener, so that one
/// address cannot take the whole connection cap (`max_connections_per_client`).
final class ClientConnectionCounts: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    /// Most connections one address may hold; 0 means no per-address cap.
    let limitPerClient: Int

    init(limitPerClient: Int) {
        self.limitPerClient = limitPerClient
    }

    /// Counts a new connection from `address`; false (and not counted) when the address is at its cap.
    func admit(_ address: String) -> Bool {
        counts.withLock { counts in
            let current = counts[address, default: 0]
            if limitPerClient > 0 && current >= limitPerClient { return false }
            counts[address] = current + 1
            return true
        }
    }

    /// Forgets one connection of `address`.
    func release(_ address: String) {
        counts.withLock { counts in
            guard let current = counts[address] else { return }
            counts[address] = current > 1 ? current - 1 : nil
        }
    }

    /// Open connections of `address` (for tests and diagnostics).
    func openConnections(of address: String) -> Int {
        counts.withLock { $0[address, default: 0] }
    }
}

/// Guards each accepted connection before any request reaches the router: closes it at once when its client address
/// already holds its share of connections, and closes it when no complete request head arrives within
/// `requestHeadTimeout` of connecting (a silent or trickling client), long before the idle timeout would.
final class ConnectionGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let counts: ClientConnectionCounts
    private let requestHeadTimeout: TimeAmount
    private var admittedAddress: String?
    private var headTimer: Scheduled<Void>?
    private var started = false
    private var sawRequestHead = false

    init(counts: ClientConnectionCounts, requestHeadTimeout: TimeAmount) {
        self.counts = counts
        self.requestHeadTimeout = requestHeadTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !sawRequestHead, case .head = unwrapInboundIn(data) {
            sawRequestHead = true
            headTimer?.cancel()
            headTimer = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard counts.admit(address) else {
            context.close(promise: nil)
            return
        }
        admittedAddress = address
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        headTimer = context.eventLoop.scheduleTask(in: requestHeadTimeout) {
            loopBound.value.close(promise: nil)
        }
    }

    private func finish() {
        headTimer?.cancel()
        headTimer = nil
        if let admittedAddress {
            counts.release(admittedAddress)
            self.admittedAddress = nil
        }
    }
}
