/// The strings and public keys a token refers to by number: 28 default symbols (indexes 0 to 27), then the
/// symbols the blocks add (from 1024), and a table of public keys used in scopes.
struct SymbolTable: Sendable {
    static let defaults = [
        "read", "write", "resource", "operation", "right", "time", "role", "owner", "tenant", "namespace", "user",
        "team", "service", "admin", "email", "group", "member", "ip_address", "client", "client_ip", "domain", "path",
        "version", "cluster", "node", "hostname", "nonce", "query",
    ]
    static let customOffset = 1024
    private static let defaultIndexes = Dictionary(
        uniqueKeysWithValues: defaults.enumerated().map { (Key($0.element), $0.offset) })

    /// Symbols are told apart byte for byte (two spellings of "é" are two symbols), as in every implementation.
    private struct Key: Hashable {
        let bytes: [UInt8]
        init(_ symbol: String) { bytes = Array(symbol.utf8) }
    }

    private(set) var symbols: [String] = []
    private var indexes: [Key: Int] = [:]
    private(set) var publicKeys: [PublicKey] = []

    init() {}

    /// A table extended by a block's symbols and keys; fails if a symbol or key is already in the table (a block
    /// may repeat one of its own symbols: the first occurrence is the one referred to).
    func extended(symbols added: [String], publicKeys addedKeys: [PublicKey]) throws(BiscuitError) -> SymbolTable {
        var table = self
        for symbol in added {
            let key = Key(symbol)
            guard Self.defaultIndexes[key] == nil, indexes[key] == nil else {
                throw BiscuitError(.format, "the symbol \(Term.quoted(symbol)) is defined twice")
            }
            if table.indexes[key] == nil { table.indexes[key] = table.symbols.count }
            table.symbols.append(symbol)
        }
        for key in addedKeys {
            guard !publicKeys.contains(key) else {
                throw BiscuitError(.format, "the public key \(key) is listed twice")
            }
            table.publicKeys.append(key)
        }
        return table
    }

    /// The number of `symbol`, adding it if new.
    mutating func intern(_ symbol: String) -> UInt64 {
        let key = Key(symbol)
        if let index = Self.defaultIndexes[key] { return UInt64(index) }
        if let index = indexes[key] { return UInt64(Self.customOffset + index) }
        indexes[key] = symbols.count
        symbols.append(symbol)
        return UInt64(Self.customOffset + symbols.count - 1)
    }

    /// The number of `key` in the public key table, adding it if new.
    mutating func intern(_ key: PublicKey) -> Int64 {
        if let index = publicKeys.firstIndex(of: key) { return Int64(index) }
        publicKeys.append(key)
        return Int64(publicKeys.count - 1)
    }

    func symbol(_ index: UInt64) throws(BiscuitError) -> String {
        if index < UInt64(Self.defaults.count) { return Self.defaults[Int(index)] }
        guard index >= UInt64(Self.customOffset), index - UInt64(Self.customOffset) < UInt64(symbols.count) else {
            throw BiscuitError(.format, "unknown symbol \(index)")
        }
        return symbols[Int(index - UInt64(Self.customOffset))]
    }

    func publicKey(_ index: Int64) throws(BiscuitError) -> PublicKey {
        guard index >= 0, index < Int64(publicKeys.count) else {
            throw BiscuitError(.format, "unknown public key \(index)")
        }
        return publicKeys[Int(index)]
    }
}
