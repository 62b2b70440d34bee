import FerryCore
import FerryStorage
import NIOCore
import NIOPosix

/// What one resolution found, with how long it may be remembered.
enum Resolution: Equatable, Sendable {
    /// The name's addresses (IPv4 and IPv6) and the smallest TTL in seconds.
    case addresses([IPAddress], ttl: UInt32)
    /// The name does not exist or has no address; the zone's negative TTL when it gave one.
    case notFound(ttl: UInt32?)
    /// No server gave a usable answer in time; not remembered.
    case failed
}

/// A DNS stub resolver on NIO's event loops: A and AAAA queries over UDP to the configured name servers, each
/// bounded by the query timeout. Nothing blocks a thread, and cancelling the calling task ends the lookup at once
/// (the C library's `getaddrinfo` can do neither, and a name server that never answers held one of NIO's two
/// blocking-pool threads for its whole timeout).
struct StubResolver: Sendable {
    let configuration: ResolverConfiguration

    /// Resolves `name` (lowercase, without a trailing dot).
    func resolve(_ name: String) async -> Resolution {
        if let addresses = configuration.staticAddresses(of: name) { return .addresses(addresses, ttl: 300) }
        // RFC 6761 §6.4: `.invalid` names never exist; no server is asked.
        if name == "invalid" || name.hasSuffix(".invalid") { return .notFound(ttl: nil) }
        var outcome = Resolution.failed
        for candidate in configuration.candidates(for: name) {
            outcome = await resolveCandidate(candidate)
            if case .notFound = outcome { continue }
            return outcome
        }
        return outcome
    }

    private func resolveCandidate(_ name: String) async -> Resolution {
        for server in configuration.nameServers {
            for _ in 0..<configuration.attempts {
                if Task.isCancelled { return .failed }
                guard let answers = await ask(server, name) else { continue }
                switch (answers.a, answers.aaaa) {
                case (.addresses(let v4, let ttl4), .addresses(let v6, let ttl6)):
                    return .addresses(v4 + v6, ttl: min(ttl4, ttl6))
                case (.addresses(let found, let ttl), _), (_, .addresses(let found, let ttl)):
                    return .addresses(found, ttl: ttl)
                case (.none(_, let ttl4), .none(_, let ttl6)):
                    return .notFound(ttl: [ttl4, ttl6].compactMap { $0 }.min())
                default:
                    continue
                }
            }
        }
        return .failed
    }

    /// Both answers from one server, or nil when it failed to give them within the query timeout.
    private func ask(_ server: ResolverConfiguration.NameServer, _ name: String) async -> (
        a: DNSAnswer, aaaa: DNSAnswer
    )? {
        let idA = UInt16.random(in: 0...UInt16.max)
        let idAAAA = idA &+ 1
        guard let queryA = DNSMessage.query(id: idA, name: name, type: .a),
            let queryAAAA = DNSMessage.query(id: idAAAA, name: name, type: .aaaa),
            let address = try? SocketAddress(ipAddress: server.host, port: server.port)
        else { return nil }
        let timeout = configuration.queryTimeout
        do {
            let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                            wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                for query in [queryA, queryAAAA] {
                    try await outbound.write(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: query)))
                }
                return try await withThrowingTaskGroup(of: (a: DNSAnswer, aaaa: DNSAnswer)?.self) { group in
                    group.addTask {
                        var answerA: DNSAnswer?
                        var answerAAAA: DNSAnswer?
                        for try await envelope in inbound {
                            let reply = Array(envelope.data.readableBytesView)
                            switch DNSMessage.id(of: reply) {
                            case idA?: answerA = DNSMessage.answer(from: reply, type: .a)
                            case idAAAA?: answerAAAA = DNSMessage.answer(from: reply, type: .aaaa)
                            default: continue
                            }
                            if let answerA, let answerAAAA { return (answerA, answerAAAA) }
                        }
                        return nil
                    }
                    group.addTask {
                        await CancellableSleep.sleep(for: timeout)
                        return nil
                    }
                    let first = try await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
            }
        } catch {
            return nil
        }
    }
}
