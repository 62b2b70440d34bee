import Foundation
import SwiftProtobuf

/// A Biscuit token whose signatures have been verified (or that this process built): blocks of Datalog, each
/// signed by the key the previous block named, the first by the root key.
///
/// ```swift
/// let root = PrivateKey(generating: .ed25519)
/// let token = try Biscuit.build(rootKey: root, source: #"right("invoices", "read");"#)
/// let attenuated = try token.appending(source: "check if time($t), $t < 2027-01-01T00:00:00Z;")
/// let text = try attenuated.base64()
/// let parsed = try Biscuit(base64: text, rootKey: root.publicKey)
/// ```
public struct Biscuit: Sendable {
    /// The hint naming which root key signed the token, if the issuer set one.
    public let rootKeyID: UInt32?
    /// The decoded blocks, authority first.
    public let blocks: [TokenBlock]
    let links: [SignedBlock]
    let proof: TokenProof
    /// The token's symbol table after its first-party blocks (third-party blocks keep their own).
    let symbols: SymbolTable

    /// Whether the token was sealed: it can no longer be attenuated.
    public var isSealed: Bool {
        if case .finalSignature = proof { return true }
        return false
    }

    /// The revocation ids of the blocks (their signatures, in hexadecimal), authority first.
    public var revocationIDs: [String] { blocks.map(\.revocationID) }

    /// A new token whose authority block holds `source` (facts, rules, checks; `{placeholders}` replaced from
    /// `parameters` and `keys`), signed by `rootKey`.
    public static func build(
        rootKey: PrivateKey, source: String, parameters: [String: Term] = [:], keys: [String: PublicKey] = [:],
        rootKeyID: UInt32? = nil, nextKeyAlgorithm: Algorithm = .ed25519
    ) throws(BiscuitError) -> Biscuit {
        try build(
            rootKey: rootKey, authority: try BlockContent.parseBlock(source, parameters: parameters, keys: keys),
            rootKeyID: rootKeyID, nextKeyAlgorithm: nextKeyAlgorithm)
    }

    /// A new token whose authority block holds `authority`, signed by `rootKey`.
    public static func build(
        rootKey: PrivateKey, authority: BlockContent, rootKeyID: UInt32? = nil, nextKeyAlgorithm: Algorithm = .ed25519
    ) throws(BiscuitError) -> Biscuit {
        var encoder = WireBlockEncoder(table: SymbolTable())
        let (data, block) = try encoder.serialize(authority, thirdParty: false)
        let nextKey = PrivateKey(generating: nextKeyAlgorithm)
        var link = SignedBlock(
            data: data, nextKey: nextKey.publicKey, signature: [], external: nil,
            signatureVersion: SignaturePayload.version(
                datalogVersion: block.version, external: false, signingKey: rootKey.algorithm,
                nextKey: nextKeyAlgorithm, previous: []))
        link.signature = try rootKey.sign(try SignaturePayload.block(link, previousSignature: nil))
        let decoded = try TokenBlock(link: link, wire: block, table: encoder.table)
        return Biscuit(
            rootKeyID: rootKeyID, blocks: [decoded], links: [link], proof: .nextSecret(nextKey),
            symbols: encoder.table)
    }

    /// The token with one more block (attenuation): needs no key, only the token. Fails if the token is sealed.
    public func appending(source: String, parameters: [String: Term] = [:], keys: [String: PublicKey] = [:])
        throws(BiscuitError) -> Biscuit
    {
        try appending(try BlockContent.parseBlock(source, parameters: parameters, keys: keys))
    }

    /// The token with one more block holding `content`.
    public func appending(_ content: BlockContent, nextKeyAlgorithm: Algorithm = .ed25519) throws(BiscuitError)
        -> Biscuit
    {
        guard case .nextSecret(let secret) = proof else { throw BiscuitError(.sealed, "the token is sealed") }
        var encoder = WireBlockEncoder(table: symbols)
        let (data, block) = try encoder.serialize(content, thirdParty: false)
        return try appending(
            data: data, wire: block, external: nil, table: encoder.table, tokenSymbols: encoder.table,
            secret: secret, nextKeyAlgorithm: nextKeyAlgorithm)
    }

    func appending(
        data: [UInt8], wire: Biscuit_Wire_Block, external: (signature: [UInt8], key: PublicKey)?, table: SymbolTable,
        tokenSymbols: SymbolTable, secret: PrivateKey, nextKeyAlgorithm: Algorithm
    ) throws(BiscuitError) -> Biscuit {
        let nextKey = PrivateKey(generating: nextKeyAlgorithm)
        var link = SignedBlock(
            data: data, nextKey: nextKey.publicKey, signature: [], external: external,
            signatureVersion: SignaturePayload.version(
                datalogVersion: wire.version, external: external != nil, signingKey: secret.algorithm,
                nextKey: nextKeyAlgorithm, previous: links.map(\.signatureVersion)))
        link.signature = try secret.sign(try SignaturePayload.block(link, previousSignature: links.last?.signature))
        let decoded = try TokenBlock(link: link, wire: wire, table: table)
        return Biscuit(
            rootKeyID: rootKeyID, blocks: blocks + [decoded], links: links + [link], proof: .nextSecret(nextKey),
            symbols: tokenSymbols)
    }

    /// The token sealed: a final signature replaces the secret key, so no block can be added any more.
    public func sealed() throws(BiscuitError) -> Biscuit {
        guard case .nextSecret(let secret) = proof, let last = links.last else {
            throw BiscuitError(.sealed, "the token is already sealed")
        }
        let signature = try secret.sign(SignaturePayload.seal(last))
        return Biscuit(
            rootKeyID: rootKeyID, blocks: blocks, links: links, proof: .finalSignature(signature), symbols: symbols)
    }

    /// The Datalog of block `index` as text.
    public func blockSource(_ index: Int) -> String? {
        blocks.indices.contains(index) ? blocks[index].content.description : nil
    }
}

/// What ends a token's chain: the secret key of the last link (attenuable) or a final signature (sealed).
enum TokenProof: Sendable {
    case nextSecret(PrivateKey)
    case finalSignature([UInt8])
}

extension BlockContent {
    /// A token block's content from text: no policies allowed.
    static func parseBlock(_ source: String, parameters: [String: Term], keys: [String: PublicKey])
        throws(BiscuitError) -> BlockContent
    {
        let parsed: BlockContent
        do {
            parsed = try DatalogParser.parseBlock(source)
        } catch {
            throw BiscuitError(error)
        }
        return try parsed.substituting(parameters, keys: keys)
    }
}

extension WireBlockEncoder {
    /// The serialized block for `content` and its wire form.
    mutating func serialize(_ content: BlockContent, thirdParty: Bool) throws(BiscuitError)
        -> ([UInt8], Biscuit_Wire_Block)
    {
        guard content.policies.isEmpty else { throw BiscuitError(.invalidBlock, "a token block cannot hold policies") }
        let block = try encode(content, version: BlockVersion.required(for: content, thirdParty: thirdParty))
        do {
            return (Array(try block.serializedBytes() as [UInt8]), block)
        } catch {
            throw BiscuitError(.format, "cannot serialize the block: \(error)")
        }
    }
}

extension TokenBlock {
    /// Decodes a link's block with the table that applies to it.
    init(link: SignedBlock, wire: Biscuit_Wire_Block, table: SymbolTable) throws(BiscuitError) {
        guard (BlockVersion.minimum...BlockVersion.maximum).contains(wire.version) else {
            throw BiscuitError(
                .unsupportedVersion,
                "block version \(wire.version) (supported: \(BlockVersion.minimum) to \(BlockVersion.maximum))")
        }
        if link.external != nil && wire.version < BlockVersion.datalog32 {
            throw BiscuitError(.format, "third-party blocks need block version 5")
        }
        self.init(
            content: try WireBlockDecoder(table: table).decode(wire, version: wire.version), version: wire.version,
            externalKey: link.external?.key, signature: link.signature)
    }
}
