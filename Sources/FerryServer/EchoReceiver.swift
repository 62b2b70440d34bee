import FerryCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `ferry receiver`: a webhook receiver for trying Ferry out. It prints each request it gets (method, path, the
/// event's id and type, whether both signatures match the subscription's secret, and the body, pretty when it is
/// JSON) and answers with a fixed status, so a first subscription has somewhere to deliver on this machine.
public struct EchoReceiver: Sendable {
    public var address: ListenAddress
    /// The subscription's secret, to check `X-Hook0-Signature` and the Standard Webhooks signature; nil prints
    /// that they were not checked.
    public var secret: String?
    /// The status every request is answered with.
    public var status: Int
    /// Where each request's report goes.
    public var print: @Sendable (String) -> Void

    public init(address: ListenAddress, secret: String?, status: Int, print: @escaping @Sendable (String) -> Void) {
        self.address = address
        self.secret = secret
        self.status = status
        self.print = print
    }

    /// Serves until SIGINT or SIGTERM.
    public func run() async throws {
        var logger = Logger(label: "ferry-receiver")
        logger.logLevel = .warning
        let router = Router()
        let receiver = self
        for method in [HTTPRequest.Method.post, .put, .patch, .get, .delete] {
            router.on("/{path*}", method: method) { request, _ in try await receiver.answer(request) }
            router.on("/", method: method) { request, _ in try await receiver.answer(request) }
        }
        try await StartupChecks.listenable(address, hint: "(choose another with --port)")
        let application = Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? receiver.address.port
                receiver.print(
                    "ferry receiver listening on http://\(receiver.address.host):\(port)/ — answering "
                        + "\(receiver.status) to every request"
                        + (receiver.secret == nil ? "; give --secret to check signatures" : "") + ". Ctrl-C stops it.")
            }, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    func answer(_ request: Request) async throws -> Response {
        var request = request
        let body = Array(try await request.collectBody(upTo: 16 * 1024 * 1024).readableBytesView)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        print(report(method: request.method.rawValue, path: request.uri.description, headers: headers, body: body))
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"received":true}"#)))
    }

    /// The lines printed for one request.
    public func report(method: String, path: String, headers: [String: String], body: [UInt8], now: Date = Date())
        -> String
    {
        var lines = ["── \(Timestamp.format(now)) \(method) \(path) → \(status)"]
        if let type = headers["x-event-type"] { lines.append("   event type:  \(type)") }
        if let id = headers["x-event-id"] { lines.append("   event id:    \(id)") }
        if let secret {
            let hook0 = SignatureCheck.hook0(
                header: headers["x-hook0-signature"], headers: headers, body: body, secret: secret, now: now)
            let standard = SignatureCheck.standardWebhooks(headers: headers, body: body, secret: secret, now: now)
            lines.append("   X-Hook0-Signature:  \(hook0.summary)")
            lines.append("   webhook-signature:  \(standard.summary)")
        } else {
            lines.append("   signatures: not checked (start the receiver with --secret SUBSCRIPTION_SECRET)")
        }
        let text = String(decoding: body, as: UTF8.self)
        if let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        {
            lines.append(contentsOf: String(decoding: pretty, as: UTF8.self).split(separator: "\n").map { "   " + $0 })
        } else if !body.isEmpty {
            lines.append(
                "   " + (String(validating: body, as: UTF8.self) != nil ? text : "(\(body.count) bytes, not text)"))
        }
        return lines.joined(separator: "\n")
    }
}
