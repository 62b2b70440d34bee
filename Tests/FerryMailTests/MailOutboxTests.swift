import FerryMail
import FerryStorage
import FerryTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

/// The outbox keeps a mail through an SMTP outage and sends it once the server can be reached; the message format
/// cannot be broken by the values it carries.
@Suite struct MailOutboxTests {
    static let logger = Logger(label: "mail-test")

    /// A port on loopback that nothing listens on (bound, then released).
    static func closedPort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 1
        try channel.close().wait()
        return port
    }

    @Test(arguments: StoreBackend.available)
    func aMailSurvivesAnSMTPOutageAndIsSentOnceAfterIt(backend: StoreBackend) async throws {
        try await backend.withStore { store in try await Self.outage(store) }
    }

    static func outage(_ store: some IdentityStore) async throws {
        let mail = OutboundMail(recipient: "grace@example.com", subject: "Hello", body: "Link: http://x/?token=1")
        let start = Date()
        try await store.enqueueMail(mail, at: start)
        let down = SMTPTransport(
            endpoint: try SMTPEndpoint(url: "smtp://127.0.0.1:\(try closedPort())"), timeout: .seconds(5))
        let failing = MailOutboxService(
            store: store, transport: down, sender: "ferry@example.com", interval: .seconds(1), logger: logger)
        #expect(await failing.drain(at: { start }) == 0)
        // Deferred by the first retry delay (30 s), not lost, and not due before it.
        #expect(try await store.claimDueMails(limit: 10, lease: .seconds(1), at: start.addingTimeInterval(29)).isEmpty)
        let sender = MailOutboxService(
            store: store, transport: LogMailTransport(logger: logger), sender: "ferry@example.com",
            interval: .seconds(1), logger: logger)
        #expect(await sender.drain(at: { start.addingTimeInterval(31) }) == 1)
        #expect(await sender.drain(at: { start.addingTimeInterval(3600) }) == 0)
    }

    @Test func smtpURLsAreReadWithTheirSecurityAndCredentials() throws {
        let plain = try SMTPEndpoint(url: "smtp://user%40corp:p%3Ass@mail.example.com:587")
        #expect(plain.host == "mail.example.com" && plain.port == 587 && plain.security == .opportunisticStartTLS)
        #expect(plain.username == "user@corp" && plain.password == "p:ss")
        #expect(try SMTPEndpoint(url: "smtps://mail.example.com").port == 465)
        #expect(try SMTPEndpoint(url: "smtps://mail.example.com").security == .implicitTLS)
        #expect(try SMTPEndpoint(url: "smtp://relay?tls=required").security == .requiredStartTLS)
        #expect(try SMTPEndpoint(url: "smtp://relay?tls=none").port == 25)
        #expect(throws: SMTPError.self) { try SMTPEndpoint(url: "http://mail.example.com") }
        #expect(throws: SMTPError.self) { try SMTPEndpoint(url: "smtp://relay?tls=maybe") }
    }

    @Test func noValueCanInjectAHeaderOrEndTheMessage() throws {
        let mail = OutboundMail(
            recipient: "grace@example.com", subject: "Join \"Évil\r\nBcc: victim@example.com\" now",
            body: "line one\n.\nQUIT\r\n.")
        let message = SMTPTransport.message(mail, from: "Ferry <ferry@example.com>", at: Date())
        let (head, body) = try #require(
            message.range(of: "\r\n\r\n").map { (message[..<$0.lowerBound], message[$0.upperBound...]) })
        #expect(!head.contains("Bcc:") && !head.contains("\n\n"))
        #expect(head.split(separator: "\r\n").allSatisfy { !$0.hasPrefix(".") })
        #expect(body.split(separator: "\r\n").allSatisfy { !$0.hasPrefix(".") })
        let encoded = try #require(
            head.split(separator: "\r\n").first { $0.hasPrefix("Subject: ") }.map { String($0.dropFirst(9)) })
        let words = encoded.split(separator: " ").map { $0.dropFirst(10).dropLast(2) }
        let decoded = words.compactMap { Data(base64Encoded: String($0)).flatMap { String(data: $0, encoding: .utf8) } }
            .joined()
        #expect(decoded == "Join \"ÉvilBcc: victim@example.com\" now")
        #expect(throws: SMTPError.self) { try SMTPTransport.address("victim@example.com>\r\nRCPT TO:<x@y.z") }
    }
}
