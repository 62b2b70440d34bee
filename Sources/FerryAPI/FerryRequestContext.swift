import Hummingbird
import NIOCore

/// Per-request context: Hummingbird's core storage plus the peer address (recorded as an event's `ip`).
public struct FerryRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text, or an empty string when unknown (e.g. router tests).
    var clientIP: String { remoteAddress?.ipAddress ?? "" }
}
