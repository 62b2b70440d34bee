import Foundation
import SwiftProtobuf

/// What a token holder sends a third party so it can sign a block for this token only: the signature of the
/// token's last block.
public struct ThirdPartyRequest: Hashable, Sendable {
    /// The signature the third-party block is bound to.
    public let previousSignature: [UInt8]

    init(previousSignature: [UInt8]) {
        self.previousSignature = previousSignature
    }

    /// A request from its bytes.
    public init(bytes: [UInt8]) throws(BiscuitError) {
        let wire: Biscuit_Wire_ThirdPartyBlockRequest
        do {
            wire = try Biscuit_Wire_ThirdPartyBlockRequest(serializedBytes: bytes)
        } catch {
            throw BiscuitError(.format, "not a third-party block request: \(error)")
        }
        guard !wire.hasLegacyPreviousKey, wire.legacyPublicKeys.isEmpty else {
            throw BiscuitError(.format, "a third-party block request from an outdated implementation")
        }
        previousSignature = Array(wire.previousSignature)
    }

    /// A request in URL-safe base64.
    public init(base64: String) throws(BiscuitError) {
        try self.init(bytes: try Base64URL.bytes(base64))
    }

    /// The request's bytes.
    public func serialized() throws(BiscuitError) -> [UInt8] {
        var wire = Biscuit_Wire_ThirdPartyBlockRequest()
        wire.previousSignature = Data(previousSignature)
        do {
            return try wire.serializedBytes()
        } catch {
            throw BiscuitError(.format, "\(error)")
        }
    }

    /// The request in URL-safe base64.
    public func base64() throws(BiscuitError) -> String { Base64URL.encode(try serialized()) }

    /// The third party's answer: `source` (facts, rules, checks) as a block signed with `signingKey`. The block
    /// has its own symbol table, so the third party never needs the token.
    public func createBlock(
        signingKey: PrivateKey, source: String, parameters: [String: Term] = [:], keys: [String: PublicKey] = [:]
    ) throws(BiscuitError) -> ThirdPartyBlock {
        try createBlock(
            signingKey: signingKey, content: try BlockContent.parseBlock(source, parameters: parameters, keys: keys))
    }

    /// The third party's answer for `content`.
    public func createBlock(signingKey: PrivateKey, content: BlockContent) throws(BiscuitError) -> ThirdPartyBlock {
        var encoder = WireBlockEncoder(table: SymbolTable())
        let (data, _) = try encoder.serialize(content, thirdParty: true)
        let signature = try signingKey.sign(
            SignaturePayload.external(data: data, previousSignature: previousSignature))
        return ThirdPartyBlock(payload: data, signature: signature, publicKey: signingKey.publicKey)
    }
}

/// A block signed by a third party, ready to be appended to the token whose request it answers.
public struct ThirdPartyBlock: Hashable, Sendable {
    /// The serialized block.
    public let payload: [UInt8]
    /// The third party's signature.
    public let signature: [UInt8]
    /// The third party's public key (what `trusting` scopes name).
    public let publicKey: PublicKey

    init(payload: [UInt8], signature: [UInt8], publicKey: PublicKey) {
        self.payload = payload
        self.signature = signature
        self.publicKey = publicKey
    }

    /// A third-party block from its bytes.
    public init(bytes: [UInt8]) throws(BiscuitError) {
        let wire: Biscuit_Wire_ThirdPartyBlockContents
        do {
            wire = try Biscuit_Wire_ThirdPartyBlockContents(serializedBytes: bytes)
        } catch {
            throw BiscuitError(.format, "not a third-party block: \(error)")
        }
        payload = Array(wire.payload)
        signature = Array(wire.externalSignature.signature)
        publicKey = try SignatureChain.publicKey(wire.externalSignature.publicKey)
    }

    /// A third-party block in URL-safe base64.
    public init(base64: String) throws(BiscuitError) {
        try self.init(bytes: try Base64URL.bytes(base64))
    }

    /// The block's bytes.
    public func serialized() throws(BiscuitError) -> [UInt8] {
        var wire = Biscuit_Wire_ThirdPartyBlockContents()
        wire.payload = Data(payload)
        wire.externalSignature.signature = Data(signature)
        wire.externalSignature.publicKey = WireBlockEncoder.wireKey(publicKey)
        do {
            return try wire.serializedBytes()
        } catch {
            throw BiscuitError(.format, "\(error)")
        }
    }

    /// The block in URL-safe base64.
    public func base64() throws(BiscuitError) -> String { Base64URL.encode(try serialized()) }
}

extension Biscuit {
    /// The request a third party needs to sign a block for this token. Fails if the token is sealed.
    public func thirdPartyRequest() throws(BiscuitError) -> ThirdPartyRequest {
        guard !isSealed, let last = links.last else { throw BiscuitError(.sealed, "the token is sealed") }
        return ThirdPartyRequest(previousSignature: last.signature)
    }

    /// The token with a third-party block appended. Throws if the block was not signed for this token (or not by
    /// `expectedKey`, when given).
    public func appending(_ block: ThirdPartyBlock, expectedKey: PublicKey? = nil) throws(BiscuitError) -> Biscuit {
        guard case .nextSecret(let secret) = proof, let last = links.last else {
            throw BiscuitError(.sealed, "the token is sealed")
        }
        if let expectedKey, expectedKey != block.publicKey {
            throw BiscuitError(.invalidSignature, "the block was signed by \(block.publicKey), not \(expectedKey)")
        }
        let payload = SignaturePayload.external(data: block.payload, previousSignature: last.signature)
        guard block.publicKey.verifies(block.signature, of: payload) else {
            throw BiscuitError(.invalidSignature, "the third-party block was not signed for this token")
        }
        let (wire, keys) = try SignatureChain.readBlock(block.payload, name: "the third-party block")
        let table = try SymbolTable().extended(symbols: wire.symbols, publicKeys: keys)
        return try appending(
            data: block.payload, wire: wire, external: (block.signature, block.publicKey), table: table,
            tokenSymbols: symbols, secret: secret, nextKeyAlgorithm: .ed25519)
    }
}
