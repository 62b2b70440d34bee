import Foundation
import SwiftProtobuf

extension Biscuit {
    /// Parses and verifies a token: every signature of the chain from `rootKey`, the proof, then each block's
    /// Datalog. Throws `.invalidSignature`, `.invalidKey`, `.format`, `.unsupportedVersion` or `.tooLarge`.
    public init(bytes: [UInt8], rootKey: PublicKey, limits: TokenLimits = TokenLimits()) throws(BiscuitError) {
        try self.init(bytes: bytes, rootKeys: { _ in rootKey }, limits: limits)
    }

    /// Parses and verifies a token whose root key is chosen from its `rootKeyID` hint (nil if it has none);
    /// `rootKeys` returns nil for an unknown id.
    public init(bytes: [UInt8], rootKeys: (UInt32?) -> PublicKey?, limits: TokenLimits = TokenLimits())
        throws(BiscuitError)
    {
        let chain = try SignatureChain(bytes: bytes, limits: limits)
        try chain.verify(rootKeys: rootKeys)
        self = try chain.decoded()
    }

    /// Parses and verifies a token in URL-safe base64 (with or without padding, optionally prefixed `biscuit:`).
    public init(base64: String, rootKey: PublicKey, limits: TokenLimits = TokenLimits()) throws(BiscuitError) {
        try self.init(bytes: try Base64URL.bytes(base64), rootKey: rootKey, limits: limits)
    }

    /// The token's bytes.
    public func serialized() throws(BiscuitError) -> [UInt8] {
        var token = Biscuit_Wire_Token()
        if let rootKeyID { token.rootKeyID = rootKeyID }
        token.authority = Self.wire(links[0])
        token.blocks = links.dropFirst().map(Self.wire)
        switch proof {
        case .nextSecret(let secret): token.proof.nextSecret = Data(secret.bytes)
        case .finalSignature(let signature): token.proof.finalSignature = Data(signature)
        }
        do {
            return try token.serializedBytes()
        } catch {
            throw BiscuitError(.format, "cannot serialize the token: \(error)")
        }
    }

    /// The token in URL-safe base64, as it travels in headers and cookies.
    public func base64() throws(BiscuitError) -> String {
        Base64URL.encode(try serialized())
    }

    private static func wire(_ link: SignedBlock) -> Biscuit_Wire_SignedBlock {
        var block = Biscuit_Wire_SignedBlock()
        block.block = Data(link.data)
        block.nextKey = WireBlockEncoder.wireKey(link.nextKey)
        block.signature = Data(link.signature)
        if let external = link.external {
            var signature = Biscuit_Wire_ExternalSignature()
            signature.signature = Data(external.signature)
            signature.publicKey = WireBlockEncoder.wireKey(external.key)
            block.externalSignature = signature
        }
        if link.signatureVersion > 0 { block.version = link.signatureVersion }
        return block
    }
}

/// A token parsed without checking its root signature: enough to inspect it or attenuate it, never to authorize
/// it. `verified(rootKey:)` checks the whole chain and returns a `Biscuit`.
public struct UnverifiedBiscuit: Sendable {
    let token: Biscuit

    init(token: Biscuit) {
        self.token = token
    }

    /// Parses the token's structure and Datalog (no signature is checked).
    public init(bytes: [UInt8], limits: TokenLimits = TokenLimits()) throws(BiscuitError) {
        token = try SignatureChain(bytes: bytes, limits: limits).decoded()
    }

    /// Parses a token in URL-safe base64.
    public init(base64: String, limits: TokenLimits = TokenLimits()) throws(BiscuitError) {
        try self.init(bytes: try Base64URL.bytes(base64), limits: limits)
    }

    /// The root key id hint.
    public var rootKeyID: UInt32? { token.rootKeyID }
    /// The decoded blocks, authority first (not verified).
    public var blocks: [TokenBlock] { token.blocks }
    /// The revocation ids of the blocks.
    public var revocationIDs: [String] { token.revocationIDs }

    /// The token with one more block (the chain's last secret signs it; no key is needed).
    public func appending(source: String, parameters: [String: Term] = [:]) throws(BiscuitError) -> UnverifiedBiscuit {
        UnverifiedBiscuit(token: try token.appending(source: source, parameters: parameters))
    }

    /// The token's bytes.
    public func serialized() throws(BiscuitError) -> [UInt8] { try token.serialized() }

    /// The token in URL-safe base64.
    public func base64() throws(BiscuitError) -> String { try token.base64() }

    /// Checks every signature from `rootKey` and the proof.
    public func verified(rootKey: PublicKey) throws(BiscuitError) -> Biscuit {
        try verified(rootKeys: { _ in rootKey })
    }

    /// Checks every signature from the root key `rootKeys` returns for the token's key id, and the proof.
    public func verified(rootKeys: (UInt32?) -> PublicKey?) throws(BiscuitError) -> Biscuit {
        try SignatureChain(rootKeyID: token.rootKeyID, links: token.links, proof: token.proof).verify(
            rootKeys: rootKeys)
        return token
    }
}

/// A token's chain of signed blocks and its proof, parsed from bytes but with the blocks not yet decoded: the
/// signatures are checked before any Datalog is read.
struct SignatureChain {
    let rootKeyID: UInt32?
    let links: [SignedBlock]
    let proof: TokenProof

    init(rootKeyID: UInt32?, links: [SignedBlock], proof: TokenProof) {
        self.rootKeyID = rootKeyID
        self.links = links
        self.proof = proof
    }

    init(bytes: [UInt8], limits: TokenLimits) throws(BiscuitError) {
        guard bytes.count <= limits.maxBytes else {
            throw BiscuitError(.tooLarge, "token of \(bytes.count) bytes (limit \(limits.maxBytes))")
        }
        let wire: Biscuit_Wire_Token
        do {
            wire = try Biscuit_Wire_Token(serializedBytes: bytes)
        } catch {
            throw BiscuitError(.format, "not a token: \(error)")
        }
        guard wire.blocks.count + 1 <= limits.maxBlocks else {
            throw BiscuitError(.tooLarge, "\(wire.blocks.count + 1) blocks (limit \(limits.maxBlocks))")
        }
        guard !wire.authority.hasExternalSignature else {
            throw BiscuitError(.format, "the authority block cannot have an external signature")
        }
        links = try ([wire.authority] + wire.blocks).map { block throws(BiscuitError) in try Self.link(block) }
        switch wire.proof.content {
        case .nextSecret(let secret)?:
            proof = .nextSecret(
                try PrivateKey(algorithm: links[links.count - 1].nextKey.algorithm, bytes: Array(secret)))
        case .finalSignature(let signature)?:
            proof = .finalSignature(Array(signature))
        case nil:
            throw BiscuitError(.format, "the token has no proof")
        }
        rootKeyID = wire.hasRootKeyID ? wire.rootKeyID : nil
    }

    /// Checks every link's signature from the root key, third-party signatures, and the proof.
    func verify(rootKeys: (UInt32?) -> PublicKey?) throws(BiscuitError) {
        guard let root = rootKeys(rootKeyID) else {
            throw BiscuitError(.unknownRootKey, "no root key for key id \(rootKeyID.map(String.init) ?? "none")")
        }
        var key = root
        var previousSignature: [UInt8]?
        for (index, link) in links.enumerated() {
            let payload = try SignaturePayload.block(link, previousSignature: previousSignature)
            guard key.verifies(link.signature, of: payload) else {
                throw BiscuitError(.invalidSignature, "block \(index): the signature does not verify")
            }
            if let external = link.external, let previousSignature {
                let externalPayload = SignaturePayload.external(data: link.data, previousSignature: previousSignature)
                guard external.key.verifies(external.signature, of: externalPayload) else {
                    throw BiscuitError(.invalidSignature, "block \(index): the third-party signature does not verify")
                }
            }
            key = link.nextKey
            previousSignature = link.signature
        }
        switch proof {
        case .nextSecret(let secret):
            guard secret.publicKey == key else {
                throw BiscuitError(.invalidSignature, "the proof's key does not match the last block")
            }
        case .finalSignature(let signature):
            guard let last = links.last, key.verifies(signature, of: SignaturePayload.seal(last)) else {
                throw BiscuitError(.invalidSignature, "the seal does not verify")
            }
        }
    }

    /// Decodes every block's Datalog, with the token's symbol table (or a third-party block's own).
    func decoded() throws(BiscuitError) -> Biscuit {
        var tokenSymbols = SymbolTable()
        var blocks: [TokenBlock] = []
        for link in links {
            let (block, keys) = try Self.readBlock(link.data, name: "block \(blocks.count)")
            let table: SymbolTable
            if link.external == nil {
                tokenSymbols = try tokenSymbols.extended(symbols: block.symbols, publicKeys: keys)
                table = tokenSymbols
            } else {
                table = try SymbolTable().extended(symbols: block.symbols, publicKeys: keys)
            }
            blocks.append(try TokenBlock(link: link, wire: block, table: table))
        }
        return Biscuit(rootKeyID: rootKeyID, blocks: blocks, links: links, proof: proof, symbols: tokenSymbols)
    }

    private static func link(_ block: Biscuit_Wire_SignedBlock) throws(BiscuitError) -> SignedBlock {
        var external: (signature: [UInt8], key: PublicKey)?
        if block.hasExternalSignature {
            guard block.version == 1 else {
                throw BiscuitError(.format, "a third-party block must use signature version 1")
            }
            external = (Array(block.externalSignature.signature), try publicKey(block.externalSignature.publicKey))
        }
        return SignedBlock(
            data: Array(block.block), nextKey: try publicKey(block.nextKey), signature: Array(block.signature),
            external: external, signatureVersion: block.hasVersion ? block.version : 0)
    }

    /// A serialized block and the public keys it lists (the symbols are in the block).
    static func readBlock(_ data: [UInt8], name: String) throws(BiscuitError) -> (Biscuit_Wire_Block, [PublicKey]) {
        let block: Biscuit_Wire_Block
        do {
            block = try Biscuit_Wire_Block(serializedBytes: data)
        } catch {
            throw BiscuitError(.format, "\(name) is malformed: \(error)")
        }
        return (block, try block.publicKeys.map { key throws(BiscuitError) in try publicKey(key) })
    }

    static func publicKey(_ key: Biscuit_Wire_PublicKey) throws(BiscuitError) -> PublicKey {
        let algorithm: Algorithm =
            switch key.algorithm {
            case .ed25519: .ed25519
            case .secp256R1: .secp256r1
            }
        return try PublicKey(algorithm: algorithm, bytes: Array(key.key))
    }
}
