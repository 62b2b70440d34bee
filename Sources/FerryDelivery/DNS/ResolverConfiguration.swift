import FerryCore
import Foundation

/// Where and how Ferry's own resolver asks: the name servers, the search list and the static hosts, read from
/// `/etc/resolv.conf` and `/etc/hosts` by default, or given by a test (a name server on loopback).
public struct ResolverConfiguration: Sendable {
    /// A name server's address and UDP port.
    public struct NameServer: Sendable, Hashable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int = 53) {
            self.host = host
            self.port = port
        }
    }

    /// Servers asked in order, each `attempts` times.
    public var nameServers: [NameServer]
    /// Domains appended to a single-label name (`search` in resolv.conf).
    public var searchDomains: [String]
    /// Time one query waits for its answer.
    public var queryTimeout: Duration
    /// Tries per server.
    public var attempts: Int
    /// Names answered without asking (lowercase, no trailing dot), as `/etc/hosts` lists them.
    public var staticHosts: [String: [IPAddress]]

    public init(
        nameServers: [NameServer], searchDomains: [String] = [], queryTimeout: Duration = .seconds(2),
        attempts: Int = 2, staticHosts: [String: [IPAddress]] = [:]
    ) {
        self.nameServers = nameServers
        self.searchDomains = searchDomains
        self.queryTimeout = queryTimeout
        self.attempts = max(1, attempts)
        self.staticHosts = staticHosts
    }

    /// The machine's configuration; a missing resolv.conf means a server on 127.0.0.1, as the C library assumes.
    public static func system(
        resolvConf: String = "/etc/resolv.conf", hostsFile: String = "/etc/hosts"
    ) -> ResolverConfiguration {
        let resolv = (try? String(contentsOfFile: resolvConf, encoding: .utf8)) ?? ""
        let hosts = (try? String(contentsOfFile: hostsFile, encoding: .utf8)) ?? ""
        return parse(resolvConf: resolv, hosts: hosts)
    }

    /// Reads the text of a resolv.conf and of a hosts file.
    static func parse(resolvConf: String, hosts: String) -> ResolverConfiguration {
        var servers: [NameServer] = []
        var search: [String] = []
        var timeout = Duration.seconds(2)
        var attempts = 2
        for line in resolvConf.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = words.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
            switch keyword {
            case "nameserver":
                if words.count > 1, IPAddress(words[1]) != nil { servers.append(NameServer(host: words[1])) }
            case "search", "domain":
                search = Array(words.dropFirst())
            case "options":
                for option in words.dropFirst() {
                    if option.hasPrefix("timeout:"), let seconds = Int(option.dropFirst(8)), seconds > 0 {
                        timeout = .seconds(min(seconds, 30))
                    }
                    if option.hasPrefix("attempts:"), let count = Int(option.dropFirst(9)), count > 0 {
                        attempts = min(count, 5)
                    }
                }
            default: continue
            }
        }
        return ResolverConfiguration(
            nameServers: servers.isEmpty ? [NameServer(host: "127.0.0.1")] : servers, searchDomains: search,
            queryTimeout: timeout, attempts: attempts, staticHosts: parseHosts(hosts))
    }

    private static func parseHosts(_ text: String) -> [String: [IPAddress]] {
        var table: [String: [IPAddress]] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count >= 2, let address = IPAddress(words[0]) else { continue }
            for name in words.dropFirst() {
                let key = name.lowercased()
                if table[key]?.contains(address) != true { table[key, default: []].append(address) }
            }
        }
        return table
    }

    /// The addresses `name` has without asking: the hosts table, and `localhost` and its subdomains (RFC 6761).
    func staticAddresses(of name: String) -> [IPAddress]? {
        if let listed = staticHosts[name] { return listed }
        if name == "localhost" || name.hasSuffix(".localhost") {
            return [.v4([127, 0, 0, 1]), .v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])]
        }
        return nil
    }

    /// The names to ask for `name`, in order: a single-label name is tried with each search domain first.
    func candidates(for name: String) -> [String] {
        guard !name.contains(".") else { return [name] }
        return searchDomains.map { name + "." + $0 } + [name]
    }
}
