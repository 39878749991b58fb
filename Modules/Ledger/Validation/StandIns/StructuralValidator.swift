import Foundation
internal import SwiftProtobuf
public import Wire

/// A **stand-in** validator for tools and tests, until the real one exists: it applies only the checks that
/// need no MSP, channel configuration or endorsement policy, with Fabric's codes, and accepts everything else.
///
/// - envelope does not decode → INVALID_OTHER_REASON; payload → BAD_PAYLOAD; channel or signature header does
///   not decode, epoch ≠ 0, empty nonce or creator → BAD_COMMON_HEADER;
/// - ENDORSER_TRANSACTION: tx id ≠ hex(SHA-256(nonce ‖ creator)) → BAD_PROPOSAL_TXID; tx id already on the
///   ledger → DUPLICATE_TXID; CONFIG accepted (not applied to any channel configuration); other header types
///   → UNKNOWN_TX_TYPE;
/// - a tx id repeated among VALID transactions of the block → the later ones DUPLICATE_TXID.
///
/// Signatures and endorsement policies are NOT checked: never use it to commit blocks from an untrusted source.
public struct StructuralValidator: TransactionValidator {
    /// Creates the stand-in.
    public init() {}

    public func validate(
        _ block: Common_Block,
        context: any ValidationContext
    ) async throws
        -> [Protos_TxValidationCode]
    {
        var codes: [Protos_TxValidationCode] = []
        var seen: Set<String> = []
        for bytes in block.data.data {
            var (code, txID) = try Self.check(bytes, context: context)
            if code == .valid, !txID.isEmpty {
                if seen.contains(txID) { code = .duplicateTxid } else { seen.insert(txID) }
            }
            codes.append(code)
        }
        return codes
    }

    static func check(_ bytes: Data, context: any ValidationContext) throws -> (Protos_TxValidationCode, String) {
        guard let envelope = try? Common_Envelope(serializedBytes: bytes) else { return (.invalidOtherReason, "") }
        guard let payload = try? envelope.unpackPayload() else { return (.badPayload, "") }
        guard let header = try? payload.unpackChannelHeader(),
            let signatureHeader = try? payload.unpackSignatureHeader(),
            header.epoch == 0, !signatureHeader.nonce.isEmpty, !signatureHeader.creator.isEmpty
        else { return (.badCommonHeader, "") }
        switch header.headerType {
        case .endorserTransaction?:
            guard header.txID == TxID.compute(nonce: signatureHeader.nonce, creator: signatureHeader.creator) else {
                return (.badProposalTxid, header.txID)
            }
            if try context.txIDExists(header.txID) { return (.duplicateTxid, header.txID) }
            return (.valid, header.txID)
        case .config?:
            return (.valid, header.txID)
        default:
            return (.unknownTxType, header.txID)
        }
    }
}
