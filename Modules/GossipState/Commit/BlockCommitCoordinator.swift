public import Foundation
internal import SwiftProtobuf
public import Wire

/// The private write set of one transaction of a block, as it travels in a gossip `Payload.private_data` element
/// (`PvtDataPayload{tx_seq_in_block, payload = marshalled TxPvtReadWriteSet}`; Fabric's `ledger.TxPvtData`).
public struct TxPrivateWriteSet: Sendable, Hashable {
    /// The transaction's index in the block.
    public var txSeqInBlock: UInt64
    /// The cleartext private read-write sets of the transaction.
    public var writeSet: Rwset_TxPvtReadWriteSet

    /// Creates the private data of one transaction.
    public init(txSeqInBlock: UInt64, writeSet: Rwset_TxPvtReadWriteSet) {
        self.txSeqInBlock = txSeqInBlock
        self.writeSet = writeSet
    }
}

/// Where the commit loop hands blocks, strictly in order (Fabric's `ledgerResources` as the state provider uses
/// it: `LedgerHeight` and `StoreBlock`).
///
/// PeerCore implements it over the Ledger module now and over Privdata's coordinator (which fetches missing private
/// data, validates and commits) later.
public protocol BlockCommitCoordinator: Sendable {
    /// The number of committed blocks (the number of the next block to commit). Read once when the provider is
    /// created; a height of 0 is refused (a channel ledger always holds its genesis block).
    func ledgerHeight() throws -> UInt64

    /// Validates and commits `block` with the private data that came with it. Called once per block, in order,
    /// never concurrently. Throwing means the block was **not** committed: the loop halts on it (Fabric stops
    /// the chain on a VSCC execution failure and panics on anything else) and never skips it.
    func storeBlock(_ block: Common_Block, privateData: [TxPrivateWriteSet]) async throws
}

/// Encoding of `Payload.private_data`: one marshalled `PvtDataPayload` per transaction.
public enum PrivateDataCodec {
    /// Decodes the private-data elements of a payload of block `block`.
    public static func decode(_ elements: [Data], block: UInt64) throws(GossipStateError) -> [TxPrivateWriteSet] {
        var result: [TxPrivateWriteSet] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            do {
                let payload = try Gossip_PvtDataPayload(serializedBytes: element)
                let writeSet = try Rwset_TxPvtReadWriteSet(serializedBytes: payload.payload)
                result.append(TxPrivateWriteSet(txSeqInBlock: payload.txSeqInBlock, writeSet: writeSet))
            } catch {
                throw GossipStateError(
                    .malformedPayload,
                    "private data element \(index) of block \(block) is not a PvtDataPayload with a TxPvtReadWriteSet",
                    cause: error
                )
            }
        }
        return result
    }

    /// Encodes private write sets as `Payload.private_data` elements.
    public static func encode(_ writeSets: [TxPrivateWriteSet]) throws(GossipStateError) -> [Data] {
        var result: [Data] = []
        result.reserveCapacity(writeSets.count)
        for writeSet in writeSets {
            do {
                var payload = Gossip_PvtDataPayload()
                payload.txSeqInBlock = writeSet.txSeqInBlock
                payload.payload = try writeSet.writeSet.serializedBytes()
                result.append(try payload.serializedBytes())
            } catch {
                throw GossipStateError(
                    .malformedPayload,
                    "private data of tx \(writeSet.txSeqInBlock) does not encode",
                    cause: error
                )
            }
        }
        return result
    }
}
