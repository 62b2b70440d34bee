/// One link of a token's signature chain: the serialized block, the key that signs the next link, and the
/// signature by the previous link's key (or the root key for the authority block).
struct SignedBlock: Sendable {
    /// The serialized `Block` message, exactly as signed.
    var data: [UInt8]
    var nextKey: PublicKey
    var signature: [UInt8]
    /// A third party's signature over the block, binding it to the previous link.
    var external: (signature: [UInt8], key: PublicKey)?
    /// The signature scheme: 0 (original) or 1 (tagged, binding the previous signature).
    var signatureVersion: UInt32
}

/// The bytes each signature of the chain covers.
enum SignaturePayload {
    /// The version a new link is signed with: 1 for third-party blocks, Datalog 3.3 blocks and non-Ed25519 keys;
    /// otherwise the highest version already in the chain (0 for a new token), as the reference does.
    static func version(
        datalogVersion: UInt32?, external: Bool, signingKey: Algorithm, nextKey: Algorithm, previous: [UInt32]
    ) -> UInt32 {
        if external { return 1 }
        if let datalogVersion, datalogVersion >= BlockVersion.datalog33 { return 1 }
        if signingKey != .ed25519 || nextKey != .ed25519 { return 1 }
        return previous.max() ?? 0
    }

    /// What the signature of link `block` covers; `previousSignature` is nil for the authority block.
    static func block(_ block: SignedBlock, previousSignature: [UInt8]?) throws(BiscuitError) -> [UInt8] {
        switch block.signatureVersion {
        case 0:
            var payload = block.data
            if let external = block.external { payload += external.signature }
            return payload + algorithmBytes(block.nextKey.algorithm) + block.nextKey.bytes
        case 1:
            var payload = tag("\0BLOCK\0\0VERSION\0") + littleEndian(UInt32(1)) + tag("\0PAYLOAD\0") + block.data
            payload += tag("\0ALGORITHM\0") + algorithmBytes(block.nextKey.algorithm)
            payload += tag("\0NEXTKEY\0") + block.nextKey.bytes
            if let previousSignature { payload += tag("\0PREVSIG\0") + previousSignature }
            if let external = block.external { payload += tag("\0EXTERNALSIG\0") + external.signature }
            return payload
        default:
            throw BiscuitError(.unsupportedVersion, "signature version \(block.signatureVersion)")
        }
    }

    /// What a third party signs: the block, bound to the signature of the link it will follow.
    static func external(data: [UInt8], previousSignature: [UInt8]) -> [UInt8] {
        tag("\0EXTERNAL\0\0VERSION\0") + littleEndian(UInt32(1)) + tag("\0PAYLOAD\0") + data + tag("\0PREVSIG\0")
            + previousSignature
    }

    /// What the final signature of a sealed token covers: the last link and its signature.
    static func seal(_ last: SignedBlock) -> [UInt8] {
        last.data + algorithmBytes(last.nextKey.algorithm) + last.nextKey.bytes + last.signature
    }

    private static func tag(_ text: String) -> [UInt8] { Array(text.utf8) }

    private static func algorithmBytes(_ algorithm: Algorithm) -> [UInt8] {
        littleEndian(UInt32(algorithm.rawValue))
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
    }
}
