import SwiftProtobuf
public import Foundation

/// Assembles and signs blocks as an ordering service does: header with data hash and previous hash, five
/// metadata slots, and the orderer's signature over `OrdererBlockMetadata ‖ signature header ‖ header DER`.
public enum BlockBuilder {
    /// A block `number` after the block whose header hash is `previousHash`, holding `envelopes` (raw bytes)
    /// and five empty metadata entries.
    public static func block(number: UInt64, previousHash: Data, envelopes: [Data]) -> Common_Block {
        var block = Common_Block()
        block.header.number = number
        block.header.previousHash = previousHash
        block.data.data = envelopes
        block.header.dataHash = block.data.hash
        block.metadata.metadata = Array(repeating: Data(), count: 5)
        return block
    }

    /// Signs `block` for the orderer: metadata[SIGNATURES] becomes `Metadata{value: OrdererBlockMetadata{
    /// last_config: lastConfig}, signatures: [one signature by signer]}`; metadata[LAST_CONFIG] is written as a
    /// Fabric orderer writes it (the legacy `LastConfig` without a signature).
    public static func sign(
        _ block: inout Common_Block,
        lastConfig: UInt64,
        signer: TransactionSigner,
        consenterMetadata: Data = Data()
    ) throws {
        while block.metadata.metadata.count < 5 { block.metadata.metadata.append(Data()) }
        var ordererMetadata = Common_OrdererBlockMetadata()
        ordererMetadata.lastConfig.index = lastConfig
        ordererMetadata.consenterMetadata = consenterMetadata
        var metadata = Common_Metadata()
        metadata.value = try ordererMetadata.encoded()
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = signer.identity
        signatureHeader.nonce = TransactionBuilder.randomBytes(24)
        var signature = Common_MetadataSignature()
        signature.signatureHeader = try signatureHeader.encoded()
        signature.signature = try signer.sign(metadata.value + signature.signatureHeader + block.header.derEncoding)
        metadata.signatures = [signature]
        block.metadata.metadata[0] = try metadata.encoded()
        var legacy = Common_Metadata()
        legacy.value = try Common_LastConfig.with { $0.index = lastConfig }.encoded()
        block.metadata.metadata[1] = try legacy.encoded()
    }
}
