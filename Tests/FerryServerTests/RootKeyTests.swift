import AsyncHTTPClient
import Biscuit
import FerryCore
import FerryTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The Biscuit root key: generated on first start and kept in the database (so a restart publishes the same public
/// key), or taken from `FERRY_BISCUIT_PRIVATE_KEY`.
@Suite(.serialized) struct RootKeyTests {
    static func publishedKey(_ ferry: FerryProcess, _ client: HTTPClient) async throws -> String {
        let instance = try await ferry.request(client, .GET, "/api/v1/instance")
        #expect(instance.status == 200)
        return instance.json.string("biscuit_public_key") ?? ""
    }

    @Test func aGeneratedRootKeySurvivesARestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let first = FerryProcess(databasePath: directory.path + "/ferry.sqlite")
        try await first.start(client: client)
        let published = try await Self.publishedKey(first, client)
        #expect(published.count == 64 && published.allSatisfy(\.isHexDigit))
        #expect(await first.terminate() == 0)
        let second = FerryProcess(databasePath: directory.path + "/ferry.sqlite")
        try await second.start(client: client)
        #expect(try await Self.publishedKey(second, client) == published)
        #expect(await second.terminate() == 0)
        try await client.shutdown()
    }

    @Test func aConfiguredRootKeyIsTheOnePublished() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = PrivateKey(generating: .ed25519)
        let hex = key.bytes.map { String(format: "%02x", $0) }.joined()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ferry = FerryProcess(
            databasePath: directory.path + "/ferry.sqlite", extraEnvironment: ["FERRY_BISCUIT_PRIVATE_KEY": hex])
        try await ferry.start(client: client)
        #expect("ed25519/" + (try await Self.publishedKey(ferry, client)) == key.publicKey.description)
        #expect(await ferry.terminate() == 0)
        let refused = FerryProcess(
            databasePath: directory.path + "/other.sqlite", extraEnvironment: ["FERRY_BISCUIT_PRIVATE_KEY": "abc"])
        await #expect(throws: (any Error).self) { try await refused.start(client: client) }
        #expect(refused.readOutput().contains("FERRY_BISCUIT_PRIVATE_KEY"))
        try await client.shutdown()
    }
}
