import AsyncHTTPClient
import FerryCore
import FerryDelivery
import FerryStorage
import FerryTestSupport
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The target guard: refusal of non-global addresses however they are spelled or resolved, exemptions, and
/// pinning of the vetted address so a second DNS answer cannot redirect the connection.
@Suite struct TargetGuardTests {
    static let loopback = [CIDR("127.0.0.0/8")].compactMap { $0 }

    /// A resolver that knows only the names given (the system resolver knows none of them).
    static func resolver(_ names: [String: [IPAddress]]) -> HostResolver {
        HostResolver { host in names[host].map { .success($0) } ?? .failure(.dns) }
    }

    @Test(arguments: [
        "http://127.0.0.1/hook", "http://localhost:8080/x", "http://LOCALHOST./x", "http://10.0.0.5/",
        "http://[::1]/", "http://169.254.169.254/latest", "http://[::ffff:192.168.0.1]/", "http://0.0.0.0/",
        "ftp://example.com/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.0.0.1/", "http://127.1/",
        "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:c0a8:101::1]/",
    ])
    func refusesNonGlobalTargets(url: String) async {
        let guardian = TargetGuard(policy: TargetPolicy())
        let result = await guardian.vet(url)
        #expect(result == .failure(.invalidTarget))
    }

    @Test func refusesANameWhenAnyOfItsAddressesIsNotGlobal() async {
        let guardian = TargetGuard(
            policy: TargetPolicy(),
            resolver: Self.resolver(["mixed.test": [.v4([93, 184, 216, 34]), .v4([10, 0, 0, 1])]]))
        #expect(await guardian.vet("https://mixed.test/hook") == .failure(.invalidTarget))
    }

    @Test func httpsOnlyRefusesPlainHTTPAtDeliveryToo() async {
        let guardian = TargetGuard(
            policy: TargetPolicy(httpsOnly: true), resolver: Self.resolver(["public.test": [.v4([93, 184, 216, 34])]]))
        #expect(await guardian.vet("http://public.test/") == .failure(.invalidTarget))
        #expect(
            await guardian.vet("https://public.test/")
                == .success(
                    .init(
                        requestURL: "https://public.test/", hostHeader: nil,
                        pin: .init(host: "public.test", address: "93.184.216.34"))))
    }

    @Test func allowedNetworksExemptLoopbackAndPinTheAddress() async throws {
        let guardian = TargetGuard(policy: TargetPolicy(allowedNetworks: Self.loopback))
        let vetted = try await guardian.vet("http://127.0.0.1:9000/hook?x=1").get()
        #expect(vetted.requestURL == "http://127.0.0.1:9000/hook?x=1")
        #expect(vetted.hostHeader == "127.0.0.1:9000")
        let named = try await guardian.vet("http://localhost:9000/hook").get()
        #expect(named.requestURL == "http://127.0.0.1:9000/hook")
        #expect(named.hostHeader == "localhost:9000")
        let decimal = try await guardian.vet("http://2130706433:9000/hook").get()
        #expect(decimal.requestURL == "http://127.0.0.1:9000/hook")
    }

    @Test func aPrivateRangeOpenedForOneApplicationStaysClosedForTheOthers() async throws {
        let customer = UUID()
        let policy = TargetPolicy(allowedNetworksByApplication: [customer: [try #require(CIDR("10.20.0.0/16"))]])
        let guardian = TargetGuard(policy: policy, resolver: Self.resolver(["crm.internal": [.v4([10, 20, 0, 7])]]))
        let forCustomer = try await guardian.vet("http://crm.internal/hook", tenant: customer).get()
        #expect(forCustomer.requestURL == "http://10.20.0.7/hook")
        #expect(await guardian.vet("http://crm.internal/hook", tenant: UUID()) == .failure(.invalidTarget))
        #expect(await guardian.vet("http://crm.internal/hook") == .failure(.invalidTarget))
        #expect(await guardian.vet("http://10.21.0.1/hook", tenant: customer) == .failure(.invalidTarget))
    }

    @Test func azuresWireServerIsRefusedThoughGloballyRoutable() async {
        let guardian = TargetGuard(
            policy: TargetPolicy(), resolver: Self.resolver(["wire.test": [.v4([168, 63, 129, 16])]]))
        #expect(await guardian.vet("http://168.63.129.16/machine") == .failure(.invalidTarget))
        #expect(await guardian.vet("http://wire.test/machine") == .failure(.invalidTarget))
    }

    @Test func unresolvableHostIsADNSError() async {
        let guardian = TargetGuard(policy: TargetPolicy())
        #expect(await guardian.vet("http://no-such-host.invalid/") == .failure(.dns))
    }

    /// `rebind.test` exists only for the guard's resolver: the request can reach the receiver only if the
    /// connection goes to the address the guard vetted instead of being resolved again.
    @Test func plainHTTPConnectsToTheVettedAddressWithTheNameAsHost() async throws {
        try await TestReceiver.with { receiver in
            let observation = try await Self.deliver(
                try Self.request(to: "http://rebind.test:\(receiver.port)/hook"),
                resolver: Self.resolver(["rebind.test": [.v4([127, 0, 0, 1])]]))
            #expect(observation.httpStatus == 200, "\(observation)")
            #expect(receiver.requests.first?.headers["host"] == "rebind.test:\(receiver.port)")
        }
    }

    /// For `https` the connection must go to the vetted address while TLS still names the host (SNI), so the
    /// certificate is checked against the name. A plain TCP listener records the TLS ClientHello it receives.
    @Test func httpsConnectsToTheVettedAddressAndSendsTheNameInTLS() async throws {
        let listener = try await ClientHelloListener.start()
        let observation = try await Self.deliver(
            try Self.request(to: "https://rebind.test:\(listener.port)/hook"),
            resolver: Self.resolver(["rebind.test": [.v4([127, 0, 0, 1])]]))
        let hello = listener.received
        try await listener.close()
        #expect(observation.httpStatus == nil)
        #expect(String(decoding: hello, as: UTF8.self).contains("rebind.test"), "ClientHello: \(hello.count) bytes")
    }

    /// Delivers `request` with a deliverer using `resolver`, then closes its clients.
    static func deliver(_ request: DeliveryRequest, resolver: HostResolver) async throws -> AttemptObservation {
        var configuration = DeliveryConfiguration()
        configuration.allowedTargetNetworks = loopback
        // Long enough for a TLS handshake to begin on a machine loaded by the whole suite (the listener never
        // answers, so the https test always takes this long).
        configuration.totalTimeout = .seconds(8)
        let client = HTTPDeliverer.makeClient(configuration: configuration)
        let deliverer = HTTPDeliverer(
            client: client, targetGuard: TargetGuard(policy: configuration.targetPolicy, resolver: resolver),
            configuration: configuration)
        let observation = await deliverer.deliver(request)
        await deliverer.shutdown()
        try await client.shutdown()
        return observation
    }

    static func request(to url: String) throws -> DeliveryRequest {
        let job = DeliveryJob(
            attemptID: UUID(), claimToken: UUID(), applicationID: UUID(), eventID: UUID(),
            eventType: "billing.invoice.paid", payload: Array("{}".utf8), payloadContentType: "application/json",
            subscriptionID: UUID(), secret: UUID(), target: HTTPTarget(method: "POST", url: url, headers: [:]),
            retryCount: 0)
        return try DeliveryRequest.build(
            for: job, at: Date(timeIntervalSince1970: 1_700_000_000), signatureVersions: [.v1]
        ).get()
    }
}

/// A TCP listener on 127.0.0.1 that keeps the first bytes each connection sends and never answers.
final class ClientHelloListener: Sendable {
    private let channel: any Channel
    private let recorder: Recorder
    let port: Int

    private init(channel: any Channel, recorder: Recorder, port: Int) {
        self.channel = channel
        self.recorder = recorder
        self.port = port
    }

    /// Everything received so far.
    var received: [UInt8] { recorder.bytes.withLock { $0 } }

    static func start() async throws -> ClientHelloListener {
        let sink = Recorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.pipeline.addHandler(sink.handler()) }
            .bind(host: "127.0.0.1", port: 0).get()
        return ClientHelloListener(channel: channel, recorder: sink, port: channel.localAddress?.port ?? 0)
    }

    func close() async throws {
        try await channel.close()
    }

    /// Collects inbound bytes from every accepted connection.
    private final class Recorder: Sendable {
        let bytes = Mutex<[UInt8]>([])

        func handler() -> RecordingHandler { RecordingHandler(recorder: self) }
    }

    private final class RecordingHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let recorder: Recorder

        init(recorder: Recorder) {
            self.recorder = recorder
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            recorder.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
    }
}
