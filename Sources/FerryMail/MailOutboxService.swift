import FerryStorage
import Foundation
import Logging
import ServiceLifecycle

/// Sends one mail.
public protocol MailTransport: Sendable {
    /// Delivers `mail` from `sender`; throws when it was not accepted (it is then retried).
    func send(_ mail: OutboundMail, from sender: String) async throws
}

/// The transport when no SMTP server is configured (the embedded default): each mail, link included, is written
/// to the log, so a lone operator can follow it — or use `ferry users verify` / `reset-password` instead.
public struct LogMailTransport: MailTransport {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func send(_ mail: OutboundMail, from sender: String) async throws {
        logger.notice(
            "mail (no SMTP server configured; set FERRY_SMTP_URL to send it)",
            metadata: ["to": "\(mail.recipient)", "subject": "\(mail.subject)", "body": "\(mail.body)"])
    }
}

/// Drains the durable mail outbox: mails are stored with the change they tell of, claimed here with a lease (so
/// several processes never send one twice while all are alive), sent, and marked sent; a failed send is retried
/// with a growing delay (30 s doubling to at most an hour), so an SMTP outage delays mail but loses none.
public struct MailOutboxService<Store: IdentityStore>: Service {
    let store: Store
    let transport: any MailTransport
    let sender: String
    let interval: Duration
    let logger: Logger

    /// How long a claimed mail is held before another process may try it.
    static var lease: Duration { .seconds(300) }

    public init(store: Store, transport: any MailTransport, sender: String, interval: Duration, logger: Logger) {
        self.store = store
        self.transport = transport
        self.sender = sender
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await drain()
                await CancellableSleep.sleep(for: interval)
            }
        }
    }

    /// Sends every due mail once; returns how many were sent.
    @discardableResult
    public func drain(at now: @Sendable () -> Date = { Date() }) async -> Int {
        var sent = 0
        do {
            while !Task.isCancelled {
                let batch = try await store.claimDueMails(limit: 20, lease: Self.lease, at: now())
                for mail in batch {
                    do {
                        try await transport.send(mail, from: sender)
                        try await store.markMailSent(id: mail.id, at: now())
                        sent += 1
                    } catch {
                        let delay = Self.retryDelay(afterFailures: mail.failedAttempts + 1)
                        logger.warning(
                            "sending a mail failed; it stays in the outbox",
                            metadata: [
                                "to": "\(mail.recipient)", "error": "\(error)", "retry_in_s": "\(delay)",
                            ])
                        try await store.deferMail(
                            id: mail.id, until: now().addingTimeInterval(delay), error: "\(error)")
                    }
                }
                if batch.count < 20 { break }
            }
        } catch {
            logger.warning("reading the mail outbox failed", metadata: ["error": "\(error)"])
        }
        return sent
    }

    /// 30 s after the first failure, doubling, at most an hour.
    static func retryDelay(afterFailures failures: Int) -> TimeInterval {
        min(3600, 30 * pow(2, Double(max(0, failures - 1))))
    }
}
