import FerryStorage
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where and how to reach the SMTP server, from `FERRY_SMTP_URL`: `smtp://[user:password@]host[:port]` (port 25 by
/// default; STARTTLS when the server offers it, `?tls=required` to insist on it, `?tls=none` never) or
/// `smtps://…` (TLS from the first byte, port 465 by default).
public struct SMTPEndpoint: Sendable, Equatable {
    /// When the connection is encrypted.
    public enum Security: Sendable, Equatable {
        /// TLS from the first byte (`smtps`).
        case implicitTLS
        /// STARTTLS if the server offers it, plain text otherwise.
        case opportunisticStartTLS
        /// STARTTLS, or no mail is sent.
        case requiredStartTLS
        /// Never TLS (a relay on the same machine).
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?

    public init(url text: String) throws(SMTPError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { throw SMTPError("not an smtp://host:port or smtps://host:port URL") }
        let tls = components.queryItems?.first { $0.name == "tls" }?.value?.lowercased()
        switch (scheme, tls) {
        case ("smtps", _): security = .implicitTLS
        case ("smtp", nil), ("smtp", "opportunistic"): security = .opportunisticStartTLS
        case ("smtp", "required"): security = .requiredStartTLS
        case ("smtp", "none"): security = .none
        case ("smtp", let other?): throw SMTPError("tls=\(other) is not one of required, opportunistic, none")
        default: throw SMTPError("the scheme is \(scheme), not smtp or smtps")
        }
        self.host = host
        port = components.port ?? (scheme == "smtps" ? 465 : 25)
        username = components.user?.removingPercentEncoding
        password = components.password?.removingPercentEncoding
    }
}

/// Why a mail could not be sent over SMTP.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Sends mail over SMTP (RFC 5321) on SwiftNIO: EHLO, STARTTLS when offered or required (swift-nio-ssl, the
/// server's certificate verified), AUTH PLAIN when the URL has credentials, one message per connection, all
/// within `timeout`. The message is plain UTF-8 text, base64-encoded, its subject an RFC 2047 encoded word, so no
/// value can inject a header or end the DATA section early.
public struct SMTPTransport: MailTransport {
    let endpoint: SMTPEndpoint
    let timeout: Duration
    let group: any EventLoopGroup
    let tlsConfiguration: TLSConfiguration

    public init(
        endpoint: SMTPEndpoint, timeout: Duration = .seconds(10),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tlsConfiguration: TLSConfiguration = .makeClientConfiguration()
    ) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.group = group
        self.tlsConfiguration = tlsConfiguration
    }

    public func send(_ mail: OutboundMail, from sender: String) async throws {
        let timeout = timeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await deliver(mail, from: sender) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SMTPError("the SMTP server did not finish within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func deliver(_ mail: OutboundMail, from sender: String) async throws {
        let session = try await SMTPSession.connect(
            endpoint: endpoint, group: group, tlsContext: try NIOSSLContext(configuration: tlsConfiguration))
        do {
            try await withTaskCancellationHandler {
                try await converse(session, mail, from: sender)
            } onCancel: {
                session.close()
            }
            session.close()
        } catch {
            session.close()
            throw error
        }
    }

    private func converse(_ session: SMTPSession, _ mail: OutboundMail, from sender: String) async throws {
        try await session.expect(220)
        var extensions = try await session.command("EHLO ferry", expecting: 250).lines
        if endpoint.security != .implicitTLS && endpoint.security != .none {
            let offered = extensions.contains { $0.uppercased().hasPrefix("STARTTLS") }
            if offered {
                try await session.command("STARTTLS", expecting: 220)
                try await session.startTLS(serverHostname: endpoint.host)
                extensions = try await session.command("EHLO ferry", expecting: 250).lines
            } else if endpoint.security == .requiredStartTLS {
                throw SMTPError("the SMTP server does not offer STARTTLS, which tls=required asks for")
            }
        }
        if let username = endpoint.username {
            let credentials = Array("\0\(username)\0\(endpoint.password ?? "")".utf8)
            try await session.command("AUTH PLAIN " + Data(credentials).base64EncodedString(), expecting: 235)
        }
        try await session.command("MAIL FROM:<\(Self.address(sender))>", expecting: 250)
        try await session.command("RCPT TO:<\(Self.address(mail.recipient))>", expecting: 250, 251)
        try await session.command("DATA", expecting: 354)
        try await session.command(Self.message(mail, from: sender, at: Date()) + ".", expecting: 250)
        _ = try? await session.command("QUIT", expecting: 221)
    }

    /// The address inside `Name <address>`, or the whole value; refused if it could break the command line.
    public static func address(_ value: String) throws -> String {
        var address = value
        if let open = value.lastIndex(of: "<"), let close = value.lastIndex(of: ">"), open < close {
            address = String(value[value.index(after: open)..<close])
        }
        guard !address.isEmpty, address.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0 != "<" && $0 != ">" })
        else { throw SMTPError("\(value) is not a mail address") }
        return address
    }

    /// The message as sent after DATA: headers, a blank line, the base64 body, every line ending in CRLF.
    public static func message(_ mail: OutboundMail, from sender: String, at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let domain = (try? address(sender))?.split(separator: "@").last.map(String.init) ?? "ferry.invalid"
        let body = Data(
            mail.body.replacingOccurrences(of: "\r\n", with: "\n")
                .replacingOccurrences(of: "\n", with: "\r\n").utf8
        ).base64EncodedString(
            options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let headers = [
            "From: \(headerSafe(sender))", "To: \(headerSafe(mail.recipient))",
            "Subject: \(encodedWords(mail.subject))", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(mail.id.uuidString.lowercased())@\(domain)>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64",
        ]
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + body + "\r\n"
    }

    /// A header value with line breaks and other control characters removed.
    static func headerSafe(_ value: String) -> String {
        String(value.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
    }

    /// `=?UTF-8?B?…?=` words of at most 45 bytes of text each (RFC 2047), so any subject is one safe header line.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk = ""
        for character in headerSafe(text) {
            if chunk.utf8.count + String(character).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty || words.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }
}

/// One reply of an SMTP server: its code and its text lines.
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]
}

/// An open SMTP connection: commands written, replies read in order.
final class SMTPSession: Sendable {
    private let channel: any Channel
    private let replies: AsyncThrowingStream<SMTPReply, any Error>
    private let iterator: IteratorBox
    private let tlsContext: NIOSSLContext

    /// The reply stream's iterator, used by one task at a time (the conversation is sequential).
    private final class IteratorBox: @unchecked Sendable {
        var iterator: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator

        init(_ iterator: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator) {
            self.iterator = iterator
        }
    }

    private init(channel: any Channel, replies: AsyncThrowingStream<SMTPReply, any Error>, tlsContext: NIOSSLContext) {
        self.channel = channel
        self.replies = replies
        self.iterator = IteratorBox(replies.makeAsyncIterator())
        self.tlsContext = tlsContext
    }

    static func connect(endpoint: SMTPEndpoint, group: any EventLoopGroup, tlsContext: NIOSSLContext) async throws
        -> SMTPSession
    {
        let (stream, continuation) = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
        let implicitTLS = endpoint.security == .implicitTLS
        let host = endpoint.host
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: host))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(continuation: continuation))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port).get()
        return SMTPSession(channel: channel, replies: stream, tlsContext: tlsContext)
    }

    /// Reads the next reply and checks its code.
    @discardableResult
    func expect(_ codes: Int...) async throws -> SMTPReply {
        try await reply(expecting: codes, to: nil)
    }

    /// Writes one command line and reads its reply.
    @discardableResult
    func command(_ line: String, expecting codes: Int...) async throws -> SMTPReply {
        try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n")).get()
        let verb = line.split(separator: " ").first.map(String.init) ?? "DATA"
        return try await reply(expecting: codes, to: String(verb.prefix(8)))
    }

    /// The next reply, if its code is one of `codes`; the error names the command it answered, if any.
    private func reply(expecting codes: [Int], to verb: String?) async throws -> SMTPReply {
        guard let reply = try await iterator.iterator.next() else {
            throw SMTPError("the SMTP server closed the connection")
        }
        guard codes.contains(reply.code) else {
            throw SMTPError(
                "the SMTP server answered \(reply.code) \(reply.lines.joined(separator: " "))"
                    + (verb.map { " to \($0)" } ?? ""))
        }
        return reply
    }

    /// Wraps the connection in TLS after the server accepted STARTTLS.
    func startTLS(serverHostname: String) async throws {
        let tlsContext = tlsContext
        let channel = channel
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname), position: .first)
        }.get()
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Splits the byte stream into SMTP replies (`250-…` lines continue one, `250 …` ends it).
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation
    private var pending: [UInt8] = []
    private var lines: [String] = []

    init(continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            if line.hasSuffix("\r") { line.removeLast() }
            let characters = Array(line)
            guard characters.count >= 3, let code = Int(String(characters[0..<3])) else {
                continuation.finish(throwing: SMTPError("the SMTP server sent \(line.prefix(80))"))
                return
            }
            lines.append(characters.count > 4 ? String(characters[4...]) : "")
            if characters.count == 3 || characters[3] == " " {
                continuation.yield(SMTPReply(code: code, lines: lines))
                lines = []
            }
        }
        if pending.count > 64 * 1024 {
            continuation.finish(throwing: SMTPError("the SMTP server sent an over-long line"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
