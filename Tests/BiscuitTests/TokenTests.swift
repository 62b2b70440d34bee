import Foundation
import SwiftProtobuf
import Testing

@testable import Biscuit

/// Tokens: building, attenuating, sealing, serializing, verifying, and refusing anything tampered with.
@Suite struct TokenTests {
    @Test(arguments: [Algorithm.ed25519, .secp256r1])
    func aTokenSurvivesSerializationAndVerification(algorithm: Algorithm) throws {
        let root = PrivateKey(generating: algorithm)
        let token = try Biscuit.build(
            rootKey: root, source: #"right("invoices", "read");"#, rootKeyID: 7, nextKeyAlgorithm: algorithm
        )
        .appending(source: "check if operation($op), $op == \"read\";")
        .appending(
            DatalogParser.parseBlock("check if time($t), $t < 2100-01-01T00:00:00Z;"), nextKeyAlgorithm: algorithm)
        let text = try token.base64()
        let parsed = try Biscuit(base64: text, rootKey: root.publicKey)
        #expect(parsed.rootKeyID == 7)
        #expect(parsed.blocks.count == 3)
        #expect(parsed.revocationIDs == token.revocationIDs)
        #expect(Set(parsed.revocationIDs).count == 3)
        #expect(parsed.blocks.map(\.content) == token.blocks.map(\.content))
        #expect(try parsed.base64() == text)
        var authorizer = try Authorizer(#"operation("read"); allow if right("invoices", "read");"#)
        authorizer.setTime(Date())
        #expect(try authorizer.authorize(parsed).policyIndex == 0)
    }

    @Test func theRootKeyIsChosenByKeyID() throws {
        let keys = [PrivateKey(generating: .ed25519), PrivateKey(generating: .secp256r1)]
        let token = try Biscuit.build(rootKey: keys[1], source: "a(1);", rootKeyID: 1)
        let bytes = try token.serialized()
        let parsed = try Biscuit(bytes: bytes, rootKeys: { id in id.map { keys[Int($0)].publicKey } })
        #expect(parsed.blocks[0].content.facts == [Fact("a", [.integer(1)])])
        #expect(throws: BiscuitError(.unknownRootKey)) { try Biscuit(bytes: bytes, rootKeys: { _ in nil }) }
        #expect(throws: BiscuitError.invalidSignature) { try Biscuit(bytes: bytes, rootKey: keys[0].publicKey) }
    }

    @Test func anyChangedByteIsRefused() throws {
        let root = PrivateKey(generating: .ed25519)
        let bytes = try Biscuit.build(rootKey: root, source: #"right("a"); check if b(1);"#)
            .appending(source: "check if c(2);").serialized()
        var refused = 0
        for index in stride(from: 0, to: bytes.count, by: 3) {
            var tampered = bytes
            tampered[index] ^= 0x01
            if (try? Biscuit(bytes: tampered, rootKey: root.publicKey)) == nil { refused += 1 }
        }
        #expect(refused == (bytes.count + 2) / 3)
    }

    @Test func reorderingOrDroppingBlocksIsRefused() throws {
        let root = PrivateKey(generating: .ed25519)
        let token = try Biscuit.build(rootKey: root, source: "a(1);").appending(source: "check if b(1);")
            .appending(source: "check if c(1);")
        var wire = try Biscuit_Wire_Token(serializedBytes: try token.serialized())
        wire.blocks.swapAt(0, 1)
        #expect(throws: BiscuitError.invalidSignature) {
            try Biscuit(bytes: try wire.serializedBytes(), rootKey: root.publicKey)
        }
        var truncated = try Biscuit_Wire_Token(serializedBytes: try token.serialized())
        truncated.blocks.removeLast()
        #expect(throws: BiscuitError.invalidSignature) {
            try Biscuit(bytes: try truncated.serializedBytes(), rootKey: root.publicKey)
        }
    }

    @Test func aSealedTokenVerifiesButCannotBeAttenuated() throws {
        let root = PrivateKey(generating: .ed25519)
        let sealed = try Biscuit.build(rootKey: root, source: "a(1);").appending(source: "check if a(1);").sealed()
        let parsed = try Biscuit(bytes: try sealed.serialized(), rootKey: root.publicKey)
        #expect(parsed.isSealed)
        #expect(throws: BiscuitError.sealed) { try parsed.appending(source: "check if b(1);") }
        #expect(throws: BiscuitError.sealed) { try parsed.sealed() }
        #expect(throws: BiscuitError.sealed) { try parsed.thirdPartyRequest() }
        #expect(try Authorizer("allow if true;").authorize(parsed).policyIndex == 0)
    }

    @Test func attenuationNeedsNoKeyAndAnUnverifiedTokenMustBeVerifiedToBeUsed() throws {
        let root = PrivateKey(generating: .ed25519)
        let issued = try Biscuit.build(rootKey: root, source: "a(1);").base64()
        let unverified = try UnverifiedBiscuit(base64: issued)
        let attenuated = try unverified.appending(source: "check if b(1);")
        let verified = try attenuated.verified(rootKey: root.publicKey)
        #expect(verified.blocks.count == 2)
        #expect(throws: BiscuitError.invalidSignature) {
            try attenuated.verified(rootKey: PrivateKey(generating: .ed25519).publicKey)
        }
    }

    @Test func thirdPartyBlocksAreBoundToTheTokenTheyWereRequestedFor() throws {
        let root = PrivateKey(generating: .ed25519)
        let third = PrivateKey(generating: .secp256r1)
        let token = try Biscuit.build(rootKey: root, source: "user(\"alice\");")
        let request = try ThirdPartyRequest(base64: try token.thirdPartyRequest().base64())
        let block = try ThirdPartyBlock(
            base64: try request.createBlock(signingKey: third, source: #"group("admin");"#).base64())
        let extended = try token.appending(block, expectedKey: third.publicKey)
        let parsed = try Biscuit(bytes: try extended.serialized(), rootKey: root.publicKey)
        #expect(parsed.blocks[1].externalKey == third.publicKey)
        #expect(parsed.blocks[1].version >= BlockVersion.datalog32)
        #expect(parsed.blocks[1].content.facts == [Fact("group", [.string("admin")])])

        let other = try Biscuit.build(rootKey: root, source: "user(\"mallory\");")
        #expect(throws: BiscuitError.invalidSignature) { try other.appending(block) }
        #expect(throws: BiscuitError.invalidSignature) {
            try token.appending(block, expectedKey: PrivateKey(generating: .ed25519).publicKey)
        }
        let later = try extended.appending(
            source: "check if group(\"admin\") trusting {k};", keys: ["k": third.publicKey])
        #expect(try Authorizer("allow if true;").authorize(later).policyIndex == 0)
    }

    @Test func canonicallyEquivalentStringsStayDistinctThroughTheSymbolTable() throws {
        let root = PrivateKey(generating: .ed25519)
        var content = BlockContent()
        content.facts = [Fact("a", [.string("\u{E9}")]), Fact("b", [.string("e\u{301}")])]
        let token = try Biscuit(
            bytes: try Biscuit.build(rootKey: root, authority: content).serialized(), rootKey: root.publicKey)
        #expect(token.blocks[0].content.facts == content.facts)
        #expect(throws: BiscuitError.unauthorized) { try Authorizer("allow if a($x), b($x);").authorize(token) }
    }

    @Test func anUnknownCheckKindIsRefusedRatherThanWeakened() throws {
        let root = PrivateKey(generating: .ed25519)
        let token = try Biscuit.build(rootKey: root, source: "check all f($x), $x > 0;")
        var block = try Biscuit_Wire_Block(serializedBytes: token.links[0].data)
        var check = block.checks[0]
        check.clearKind()
        var unknown = try check.serializedBytes() as [UInt8]
        unknown += [0x10, 0x07]
        block.checks[0] = try Biscuit_Wire_CheckData(serializedBytes: unknown)
        #expect(!block.checks[0].hasKind && !block.checks[0].unknownFields.data.isEmpty)
        #expect(throws: BiscuitError.format) {
            try WireBlockDecoder(table: SymbolTable()).decode(block, version: block.version)
        }
    }

    @Test func sizeAndVersionLimitsAreEnforced() throws {
        let root = PrivateKey(generating: .ed25519)
        let bytes = try Biscuit.build(rootKey: root, source: "a(1);").appending(source: "b(2);").serialized()
        #expect(throws: BiscuitError(.tooLarge)) {
            try Biscuit(bytes: bytes, rootKey: root.publicKey, limits: TokenLimits(maxBytes: bytes.count - 1))
        }
        #expect(throws: BiscuitError(.tooLarge)) {
            try Biscuit(bytes: bytes, rootKey: root.publicKey, limits: TokenLimits(maxBlocks: 1))
        }
        #expect(throws: BiscuitError.format) { try Biscuit(bytes: [1, 2, 3], rootKey: root.publicKey) }
        #expect(throws: BiscuitError.format) { try Biscuit(base64: "%%%", rootKey: root.publicKey) }

        var block = Biscuit_Wire_Block()
        block.version = 7
        var link = SignedBlock(
            data: try block.serializedBytes(), nextKey: root.publicKey, signature: [], external: nil,
            signatureVersion: 0)
        link.signature = try root.sign(try SignaturePayload.block(link, previousSignature: nil))
        #expect(throws: BiscuitError(.unsupportedVersion)) {
            try TokenBlock(link: link, wire: block, table: SymbolTable())
        }
    }

    @Test func blockVersionsAreTheOldestThatExpressTheDatalog() throws {
        let root = PrivateKey(generating: .ed25519)
        let cases: [(String, UInt32, UInt32)] = [
            ("a(1); check if a($x), $x > 0;", 3, 0), ("check all a($x), $x > 0;", 4, 0),
            ("b($x) <- a($x) trusting previous;", 4, 0),
            ("check if a($x), $x | 1 == 1;", 6, 1), ("check if a($x), $x === 1;", 3, 0), ("reject if a(1);", 6, 1),
            ("a(null);", 6, 1), ("check if a($x), $x > 0 && $x < 9;", 6, 1),
        ]
        for (source, version, signatureVersion) in cases {
            let token = try Biscuit.build(rootKey: root, source: "ok(1);").appending(source: source)
            #expect(token.blocks[1].version == version, "\(source)")
            #expect(token.links[1].signatureVersion == signatureVersion, "\(source)")
        }
        #expect(throws: BiscuitError.parse) { try Biscuit.build(rootKey: root, source: "allow if true;") }
        var withPolicy = BlockContent()
        withPolicy.policies = [try DatalogParser.parsePolicy("allow if true")]
        #expect(throws: BiscuitError(.invalidBlock)) { try Biscuit.build(rootKey: root, authority: withPolicy) }
    }

    @Test func base64URLMatchesFoundationsEncodingAndReadsEveryVariant() throws {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_")
            #expect(Base64URL.encode(bytes) == expected)
            #expect(Base64URL.decode(expected) == bytes)
            #expect(Base64URL.decode(expected.replacingOccurrences(of: "=", with: "")) == bytes)
            #expect(Base64URL.decode("biscuit:" + Data(bytes).base64EncodedString()) == bytes)
        }
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("ab$c") == nil)
    }

    @Test func keysRoundTripThroughTheirTextForms() throws {
        for algorithm in Algorithm.allCases {
            let key = PrivateKey(generating: algorithm)
            #expect(try PrivateKey(key.secretText).publicKey == key.publicKey)
            #expect(try PublicKey(key.publicKey.description) == key.publicKey)
            #expect(!key.description.contains(Hex.encode(key.bytes)))
            let signature = try key.sign([1, 2, 3])
            #expect(key.publicKey.verifies(signature, of: [1, 2, 3]))
            #expect(!key.publicKey.verifies(signature, of: [1, 2, 4]))
        }
        #expect(throws: BiscuitError(.invalidKey)) { try PublicKey("ed25519/00") }
        #expect(throws: BiscuitError(.invalidKey)) { try PublicKey("rsa/00") }
    }
}
