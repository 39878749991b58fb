public import GossipState
public import Ledger
internal import SwiftProtobuf
import Wire

/// The server side of state transfer (Fabric's `GetPvtDataAndBlockByNum`): a committed block with the private
/// data whose collection the requester is eligible for by the collection's **current** configuration, judged on
/// the requester's handshake; collections that cannot be looked up are left out.
public struct PrivdataBlockSource: StateBlockSource {
    /// The ledger.
    public let ledger: PeerLedger
    /// The collections.
    public let collections: CollectionStore

    /// Creates the source.
    public init(ledger: PeerLedger, collections: CollectionStore) {
        self.ledger = ledger
        self.collections = collections
    }

    public func ledgerHeight() throws -> UInt64 { self.ledger.height }

    public func block(number: UInt64, for requester: StateRequester) async throws -> ServedBlock? {
        guard let block = try self.ledger.block(number: number) else { return nil }
        let auth = requester.signedDataTriple
        var served: [TxPrivateWriteSet] = []
        for tx in try self.ledger.privateData(block: number) {
            var set = Rwset_TxPvtReadWriteSet()
            set.dataModel = tx.writeSet.dataModel
            for ns in tx.writeSet.nsPvtRwset {
                let allowed = ns.collectionPvtRwset.filter {
                    self.collections.accepts(auth, namespace: ns.namespace, collection: $0.collectionName)
                }
                guard !allowed.isEmpty else { continue }
                var kept = Rwset_NsPvtReadWriteSet()
                kept.namespace = ns.namespace
                kept.collectionPvtRwset = allowed
                set.nsPvtRwset.append(kept)
            }
            if !set.nsPvtRwset.isEmpty { served.append(TxPrivateWriteSet(txSeqInBlock: tx.txIndex, writeSet: set)) }
        }
        return ServedBlock(block: try block.serializedBytes(), privateData: served)
    }
}
