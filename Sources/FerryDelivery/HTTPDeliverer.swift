import AsyncHTTPClient
import FerryCore
import FerryStorage
import Foundation
import NIOCore
import NIOHTTP1

/// Sends delivery requests over HTTP(S) with connection reuse, no redirects, and bounded time and body size,
/// and reports what happened as an `AttemptObservation`.
public struct HTTPDeliverer: Sendable {
    private let client: HTTPClient
    private let pinnedClients: PinnedClients
    private let targetGuard: TargetGuard
    private let configuration: DeliveryConfiguration

    /// Uses `client` (configured by `makeClient`) and checks every target with `targetGuard`; `https` targets
    /// named by host go through clients pinned to the vetted address, which `shutdown()` closes.
    public init(client: HTTPClient, targetGuard: TargetGuard, configuration: DeliveryConfiguration) {
        self.client = client
        self.pinnedClients = PinnedClients(configuration: Self.clientConfiguration(configuration))
        self.targetGuard = targetGuard
        self.configuration = configuration
    }

    /// Closes the clients this deliverer made for pinned `https` targets (not the shared `client`).
    public func shutdown() async {
        await pinnedClients.shutdown()
    }

    /// An HTTP client set up for deliveries: redirects off, connect timeout, pooled keep-alive connections.
    public static func makeClient(configuration: DeliveryConfiguration) -> HTTPClient {
        HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration(configuration))
    }

    static func clientConfiguration(_ configuration: DeliveryConfiguration) -> HTTPClient.Configuration {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.timeout = .init(
            connect: TimeAmount(configuration.connectTimeout), read: TimeAmount(configuration.totalTimeout))
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, configuration.concurrency))
        clientConfiguration.decompression = .disabled
        return clientConfiguration
    }

    /// Vets the target, sends the request, and reads the answer up to the body limit, all within the total timeout.
    /// At the timeout it returns `E_TIMEOUT` at once, whatever the work is stuck in; the abandoned work is cancelled
    /// and sends nothing after that, so a later attempt cannot overlap it. `tenant` is the application delivering.
    public func deliver(_ request: DeliveryRequest, tenant: UUID? = nil) async -> AttemptObservation {
        let started = ContinuousClock.now
        @Sendable func elapsed() -> Int {
            let duration = ContinuousClock.now - started
            return Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
        let outcome = await Deadline.run(within: configuration.totalTimeout) {
            await self.perform(request, tenant: tenant, elapsed: elapsed)
        }
        return (outcome ?? nil) ?? .failed(.timeout, elapsedMilliseconds: elapsed())
    }

    private func perform(_ request: DeliveryRequest, tenant: UUID?, elapsed: @Sendable () -> Int) async
        -> AttemptObservation?
    {
        let vetted: TargetGuard.VettedTarget
        switch await targetGuard.vet(request.url, tenant: tenant) {
        case .success(let target): vetted = target
        case .failure(let name): return .failed(name, elapsedMilliseconds: elapsed())
        }
        // Past the deadline the attempt has been answered `E_TIMEOUT`: sending now could deliver it twice.
        if Task.isCancelled { return nil }
        var httpRequest = HTTPClientRequest(url: vetted.requestURL)
        httpRequest.method = HTTPMethod(rawValue: request.method)
        for header in request.headers {
            httpRequest.headers.replaceOrAdd(name: header.name, value: header.value)
        }
        if let hostHeader = vetted.hostHeader {
            httpRequest.headers.replaceOrAdd(name: "host", value: hostHeader)
        }
        httpRequest.body = .bytes(ByteBuffer(bytes: request.body))
        let request = httpRequest
        do {
            if let pin = vetted.pin {
                return try await pinnedClients.withClient(for: pin) { client in
                    try await exchange(request, over: client, elapsed: elapsed)
                }
            }
            return try await exchange(request, over: client, elapsed: elapsed)
        } catch {
            if Task.isCancelled { return nil }
            return .failed(Self.classify(error), elapsedMilliseconds: elapsed())
        }
    }

    /// Sends the request and reads the answer, keeping at most the body limit.
    private func exchange(_ request: HTTPClientRequest, over client: HTTPClient, elapsed: @Sendable () -> Int)
        async throws -> AttemptObservation
    {
        let response = try await client.execute(request, timeout: TimeAmount(configuration.totalTimeout))
        var body: [UInt8] = []
        var truncated = false
        for try await chunk in response.body {
            let room = configuration.responseBodyLimit - body.count
            if chunk.readableBytes > room {
                body.append(contentsOf: chunk.readableBytesView.prefix(max(0, room)))
                truncated = true
                break
            }
            body.append(contentsOf: chunk.readableBytesView)
        }
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return .answered(
            status: Int(response.status.code), headers: headers, body: body, truncated: truncated,
            elapsedMilliseconds: elapsed(),
            retryAfterSeconds: RetryAfter.seconds(response.headers.first(name: "retry-after")))
    }

    /// Maps a transport error to Hook0's error names.
    static func classify(_ error: any Error) -> ResponseErrorName {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout, .readTimeout, .deadlineExceeded, .writeTimeout: return .timeout
            case .invalidURL, .emptyHost, .emptyScheme: return .invalidTarget
            default: return .connection
            }
        }
        if error is IOError || error is ChannelError { return .connection }
        if error is HTTPParserError { return .connection }
        return .unknown
    }
}

/// Reads a `Retry-After` header: delay seconds or an HTTP date.
public enum RetryAfter {
    /// The delay the header asks for, in seconds from `now`, or nil when it is absent or unreadable.
    public static func seconds(_ value: String?, now: Date = Date()) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}

extension TimeAmount {
    /// The same span as a NIO time amount, to the nanosecond.
    init(_ duration: Duration) {
        let parts = duration.components
        self = .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }
}
