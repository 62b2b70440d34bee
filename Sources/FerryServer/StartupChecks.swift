import FerryPostgres
import Foundation
import NIOCore
import NIOPosix

/// Why a process cannot start, in words that say what to do.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What a starting process checks before it changes anything, so that a server that cannot start says why and
/// leaves no half-done first start behind.
enum StartupChecks {
    /// Binds `address` and lets it go again: a port in use is reported before the first start creates and prints
    /// credentials for a server that would not run; `hint` says how to choose another. Port 0 (any free port) is
    /// not checked.
    static func listenable(_ address: ListenAddress, hint: String) async throws {
        guard address.port != 0 else { return }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        do {
            let channel = try await bootstrap.bind(host: address.host, port: address.port).get()
            try await channel.close()
        } catch let error as IOError {
            switch error.errnoCode {
            case EADDRINUSE: throw StartupError("\(address) is already in use \(hint)")
            case EACCES:
                throw StartupError("\(address) may not be used by this user (ports below 1024 need privileges) \(hint)")
            case EADDRNOTAVAIL: throw StartupError("\(address.host) is not an address of this machine \(hint)")
            default: throw StartupError("cannot listen on \(address): \(Self.reason(errno: error.errnoCode)) \(hint)")
            }
        } catch let error as SocketAddressError {
            throw StartupError("cannot listen on \(address): \(error) \(hint)")
        }
    }

    /// Whether the SQLite file at `path` can be opened (or created): its folder exists and may be written.
    static func sqliteOpenable(_ path: String) throws {
        let files = FileManager.default
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        let hint = "(set FERRY_DATABASE_URL=sqlite:PATH or --database-url)"
        if files.fileExists(atPath: path, isDirectory: &isFolder) {
            if isFolder.boolValue {
                throw StartupError("cannot open the SQLite database \(path): it is a folder \(hint)")
            }
            guard files.isReadableFile(atPath: path), files.isWritableFile(atPath: path) else {
                throw StartupError("cannot open the SQLite database \(path): permission denied for this user \(hint)")
            }
            guard files.isWritableFile(atPath: folder) else {
                throw StartupError(
                    "cannot open the SQLite database \(path): its folder \(folder) is not writable by this user "
                        + "(SQLite keeps its journal files beside the database) \(hint)")
            }
            return
        }
        guard files.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw StartupError("cannot create the SQLite database \(path): the folder \(folder) does not exist \(hint)")
        }
        guard files.isWritableFile(atPath: folder) else {
            throw StartupError(
                "cannot create the SQLite database \(path): the folder \(folder) is not writable by this user \(hint)")
        }
    }

    /// Waits until the PostgreSQL server of `url` accepts connections, trying for at most `timeout`; throws what
    /// the last try met (connection refused, unknown host, …) when it never does.
    static func reachable(postgresURL url: String, within timeout: Duration) async throws {
        guard let components = URLComponents(string: url) else { return }
        let port = components.port ?? 5432
        let socketFolder = components.queryItems?.first { $0.name == "host" }?.value.flatMap {
            $0.hasPrefix("/") ? $0 : nil
        }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var lastReason = "no answer"
        while true {
            let attempt = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(2))
            do {
                let channel =
                    if let socketFolder {
                        try await attempt.connect(unixDomainSocketPath: "\(socketFolder)/.s.PGSQL.\(port)").get()
                    } else {
                        try await attempt.connect(host: host, port: port).get()
                    }
                try await channel.close()
                return
            } catch {
                lastReason = Self.reason(error)
            }
            guard clock.now + .milliseconds(500) < deadline else { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw StartupError(
            "cannot reach PostgreSQL at \(PostgresURL.endpoint(url)): \(lastReason) (tried for "
                + "\(Settings.databaseConnectTimeout.kind.format?(timeout) ?? "\(timeout)"); "
                + "FERRY_DATABASE_CONNECT_TIMEOUT sets how long)")
    }

    /// A connection failure in words: `connection refused`, `cannot resolve host db.example`, ….
    static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return reason(errno: io.errnoCode) }
        if let connection = error as? NIOConnectionError {
            if connection.dnsAError != nil || connection.dnsAAAAError != nil, connection.connectionErrors.isEmpty {
                return "cannot resolve host \(connection.host)"
            }
            if let first = connection.connectionErrors.first { return reason(first.error) }
            return "cannot resolve host \(connection.host)"
        }
        if error is ChannelError { return "no answer in time" }
        return String(describing: error)
    }

    private static func reason(errno code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}
