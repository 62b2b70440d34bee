import FerryIdentity
import Foundation
import NIOPosix
import Testing

/// scrypt hashes: PHC strings with their own parameters, salted, verified in constant time, never matching a
/// malformed hash, and telling when a stored hash was made with other parameters.
@Suite struct PasswordHasherTests {
    static let cheap = PasswordHasher(cost: .init(logN: 10, blockSize: 8, parallelism: 1))

    /// At the standard cost (seconds of CPU in a debug build), run on a thread of its own as Ferry runs it, so
    /// neither the cooperative threads nor NIO's shared blocking pool, which other tests use, are held.
    @Test func theStandardCostHashVerifiesTheRightPasswordOnly() async throws {
        let hasher = PasswordHasher()
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        defer { thread.shutdownGracefully { _ in } }
        let (hash, right, wrong) = try await thread.runIfActive {
            let hash = try hasher.hash("tangerine-orbit-73")
            return (
                hash, hasher.verify("tangerine-orbit-73", against: hash),
                hasher.verify("tangerine-orbit-74", against: hash)
            )
        }
        #expect(hash.hasPrefix("$scrypt$ln=15,r=8,p=3$"))
        #expect(right && !wrong)
        #expect(!hasher.needsRehash(hash))
    }

    @Test func hashesAreSaltedAndCarryTheirParameters() throws {
        let first = try Self.cheap.hash("same password")
        let second = try Self.cheap.hash("same password")
        #expect(first != second)
        #expect(Self.cheap.verify("same password", against: second))
        // A hasher with another cost still verifies the old hash, and says it should be replaced.
        let stronger = PasswordHasher(cost: .init(logN: 11, blockSize: 8, parallelism: 1))
        #expect(stronger.verify("same password", against: first))
        #expect(stronger.needsRehash(first) && !Self.cheap.needsRehash(first))
    }

    @Test func malformedHashesNeverMatch() {
        for stored in [
            "", "plain", "$scrypt$ln=10,r=8,p=1$c2FsdA$", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaA", "$scrypt$ln=x,r=8,p=1$c2FsdA$aGFzaA",
        ] {
            #expect(!Self.cheap.verify("", against: stored), "\(stored)")
            #expect(!Self.cheap.verify("plain", against: stored), "\(stored)")
        }
    }

    /// RFC 7914's second test vector (password "password", salt "NaCl", N = 1024, r = 8, p = 16), its first 32
    /// bytes, which CPython's `hashlib.scrypt` also computes: the hashes are standard scrypt, checkable elsewhere.
    @Test func theKeyIsRFC7914Scrypt() {
        let stored = "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI"
        #expect(Self.cheap.verify("password", against: stored))
        #expect(!Self.cheap.verify("Password", against: stored))
    }
}
