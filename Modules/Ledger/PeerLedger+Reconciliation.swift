import Foundation
internal import GRDB
internal import SwiftProtobuf
internal import Wire

/// A collection of an old block whose private data could not be reconciled (still missing or failed the hash).
public struct UnreconciledPrivateData: Sendable, Hashable {
    /// The block.
    public var blockNumber: UInt64
    /// The missing collection.
    public var missing: MissingPrivateData

    /// Creates a record.
    public init(blockNumber: UInt64, missing: MissingPrivateData) {
        self.blockNumber = blockNumber
        self.missing = missing
    }
}

extension PeerLedger {
    /// The ledger as a validator reads it (committed state and the tx-id index), for callers that validate a
    /// block themselves before ``commit(_:validationCodes:privateData:missingPrivateData:)`` (Privdata's
    /// coordinator needs the codes to decide which private data to fetch).
    public var validationContext: any ValidationContext { LedgerValidationContext(ledger: self) }

    /// Commits private data of already committed blocks (Fabric's `CommitPvtDataOfOldBlocks`, used by the
    /// reconciler).
    ///
    /// Each collection's bytes must hash to the `pvt_rwset_hash` the block committed to; those that do not are
    /// returned and not stored. Stored data expires by the collection's block-to-live counted from its own block,
    /// and its missing-data record is removed. Private state is updated only where the committed hashed state
    /// still holds the version this transaction wrote (a later write wins), with that entry's metadata.
    /// `unreconciled` entries are moved to the deprioritized missing list.
    ///
    /// - Returns: the keys whose data did not match the block's hash.
    @discardableResult
    public func commitPrivateDataOfOldBlocks(
        _ data: [UInt64: [TxPrivateData]],
        unreconciled: [UnreconciledPrivateData] = []
    ) throws(LedgerError) -> [UnreconciledPrivateData] {
        var mismatched: [UnreconciledPrivateData] = []
        for blockNumber in data.keys.sorted() {
            guard blockNumber < self.height, let block = try self.block(number: blockNumber) else {
                throw LedgerError(
                    code: .invalidArgument,
                    message: "reconciled private data names block \(blockNumber) above the ledger height \(self.height)"
                )
            }
            let hashes = Self.privateWriteHashes(of: block)
            var accepted: [TxPrivateData] = []
            for tx in data[blockNumber] ?? [] {
                var kept = Rwset_TxPvtReadWriteSet()
                for item in tx.writeSet.flattened {
                    let key = "\(tx.txIndex)\u{0}\(item.namespace)\u{0}\(item.collection)"
                    guard let expected = hashes[key], expected == Digest.sha256(item.rwset) else {
                        mismatched.append(
                            UnreconciledPrivateData(
                                blockNumber: blockNumber,
                                missing: MissingPrivateData(
                                    txIndex: tx.txIndex,
                                    namespace: item.namespace,
                                    collection: item.collection,
                                    isEligible: true
                                )
                            )
                        )
                        continue
                    }
                    var collection = Rwset_CollectionPvtReadWriteSet()
                    collection.collectionName = item.collection
                    collection.rwset = item.rwset
                    if kept.nsPvtRwset.last?.namespace != item.namespace {
                        var ns = Rwset_NsPvtReadWriteSet()
                        ns.namespace = item.namespace
                        kept.nsPvtRwset.append(ns)
                    }
                    kept.nsPvtRwset[kept.nsPvtRwset.count - 1].collectionPvtRwset.append(collection)
                }
                if !kept.nsPvtRwset.isEmpty { accepted.append(TxPrivateData(txIndex: tx.txIndex, writeSet: kept)) }
            }
            guard !accepted.isEmpty else { continue }
            let policy = self.configuration.blockToLivePolicy
            let reader = LedgerValidationContext(ledger: self)
            var expiries: [String: UInt64] = [:]
            for tx in accepted {
                for item in tx.writeSet.flattened {
                    let btl = try LedgerError.wrapping(
                        "cannot read the block-to-live of \(item.namespace)/\(item.collection)"
                    ) {
                        try policy.blockToLive(namespace: item.namespace, collection: item.collection, state: reader)
                    }
                    expiries[item.namespace + "\u{0}" + item.collection] = BlockToLive.expiringBlock(
                        committingBlock: blockNumber,
                        blockToLive: btl
                    )
                }
            }
            let lastCommitted = self.height - 1
            // Data already past its block-to-live is not stored again.
            let live = accepted.compactMap { tx -> TxPrivateData? in
                var set = tx.writeSet
                set.nsPvtRwset = set.nsPvtRwset.compactMap { ns in
                    var ns = ns
                    ns.collectionPvtRwset = ns.collectionPvtRwset.filter {
                        (expiries[ns.namespace + "\u{0}" + $0.collectionName] ?? UInt64.max) > lastCommitted
                    }
                    return ns.collectionPvtRwset.isEmpty ? nil : ns
                }
                return set.nsPvtRwset.isEmpty ? nil : TxPrivateData(txIndex: tx.txIndex, writeSet: set)
            }
            try self.privateDataStore.storeReconciled(blockNumber: blockNumber, privateData: live) { ns, coll in
                expiries[ns + "\u{0}" + coll] ?? UInt64.max
            }
            try self.applyReconciledState(blockNumber: blockNumber, privateData: live)
        }
        for item in unreconciled + mismatched {
            try self.privateDataStore.deprioritize(
                blockNumber: item.blockNumber,
                txIndex: item.missing.txIndex,
                namespace: item.missing.namespace,
                collection: item.missing.collection
            )
        }
        return mismatched
    }

    /// Writes the cleartext of reconciled writes into private state where the hashed state still holds the
    /// version (block, tx) of the write and the value hash matches.
    private func applyReconciledState(blockNumber: UInt64, privateData: [TxPrivateData]) throws(LedgerError) {
        try LedgerError.wrapping("cannot apply reconciled private data of block \(blockNumber) to private state") {
            try self.database.write { db in
                let select = try db.cachedStatement(
                    sql:
                        "SELECT value_hash, metadata, block, tx FROM hashed_state WHERE ns = ? AND coll = ? AND key_hash = ?"
                )
                let put = try db.cachedStatement(
                    sql:
                        "INSERT OR REPLACE INTO private_state (ns, coll, key, key_hash, value, block, tx, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                )
                for tx in privateData {
                    for item in tx.writeSet.flattened {
                        guard let kv = try? Kvrwset_KVRWSet(serializedBytes: item.rwset) else { continue }
                        for write in kv.writes where !write.isDelete {
                            let key = Data(write.key.utf8)
                            let keyHash = Digest.sha256(key)
                            guard
                                let row = try Row.fetchOne(
                                    select,
                                    arguments: [item.namespace, item.collection, keyHash]
                                )
                            else { continue }
                            let valueHash: Data = row[0]
                            let metadata: Data? = row[1]
                            let block = UInt64(row[2] as Int64)
                            let txNumber = UInt64(row[3] as Int64)
                            guard block == blockNumber, txNumber == tx.txIndex,
                                valueHash == Digest.sha256(write.value)
                            else { continue }
                            try put.execute(arguments: [
                                item.namespace, item.collection, key, keyHash, write.value, Int64(block),
                                Int64(txNumber), metadata,
                            ])
                        }
                    }
                }
            }
        }
    }

    /// `tx\0namespace\0collection` → `pvt_rwset_hash` for every collection an endorser transaction of `block`
    /// wrote.
    static func privateWriteHashes(of block: Common_Block) -> [String: Data] {
        var result: [String: Data] = [:]
        for (index, bytes) in block.data.data.enumerated() {
            guard let envelope = try? Common_Envelope(serializedBytes: bytes),
                let payload = try? envelope.unpackPayload(),
                let transaction = try? payload.unpackTransaction()
            else { continue }
            for action in transaction.decodableActions {
                for ns in action.readWriteSet.nsRwset {
                    for collection in ns.collectionHashedRwset {
                        result["\(index)\u{0}\(ns.namespace)\u{0}\(collection.collectionName)"] =
                            collection.pvtRwsetHash
                    }
                }
            }
        }
        return result
    }
}
