import NIOPosix

/// Where password hashing runs: two threads of its own. scrypt holds a thread for a few hundred milliseconds and
/// 32 MiB; on the event loops or Swift's cooperative threads it would stall requests and deliveries, and on NIO's
/// shared blocking pool it would delay everything else queued there (`getaddrinfo` among them). Two threads bound
/// the memory and CPU that a burst of sign-ins can take.
public enum PasswordWork {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    /// Runs `body` on the password threads.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
