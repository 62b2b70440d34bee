import Foundation

/// Keys the server generates once and keeps in the database, so that every process sharing it, and every restart,
/// agrees on them (the Biscuit root key when `FERRY_BISCUIT_PRIVATE_KEY` is not set).
public protocol ServerKeyStore: Sendable {
    /// The key stored under `name`, storing `candidate` first if there is none; when several processes race, all
    /// get the one that was stored first.
    func serverKey(named name: String, storingIfAbsent candidate: [UInt8]) async throws -> [UInt8]
}
