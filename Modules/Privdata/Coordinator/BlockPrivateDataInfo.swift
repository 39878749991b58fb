public import Foundation
internal import SwiftProtobuf
public import Wire

/// One (transaction, namespace, collection) of a block's private data.
public struct PrivateDataKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The transaction's index in the block.
    public var txIndex: UInt64
    /// The namespace (chaincode).
    public var namespace: String
    /// The collection.
    public var collection: String

    /// Creates a key.
    public init(txIndex: UInt64, namespace: String, collection: String) {
        self.txIndex = txIndex
        self.namespace = namespace
        self.collection = collection
    }

    public static func < (lhs: PrivateDataKey, rhs: PrivateDataKey) -> Bool {
        (lhs.txIndex, lhs.namespace, lhs.collection) < (rhs.txIndex, rhs.namespace, rhs.collection)
    }

    public var description: String { "tx \(self.txIndex) \(self.namespace)/\(self.collection)" }
}

/// What a block says about the private data of one collection of one transaction.
public struct CollectionWriteInfo: Sendable, Hashable {
    /// The key.
    public var key: PrivateDataKey
    /// The transaction id.
    public var txID: String
    /// `pvt_rwset_hash`: SHA-256 of the collection's cleartext KVRWSet bytes.
    public var expectedHash: Data
    /// The serialised identities of the transaction's endorsers.
    public var endorsers: [Data]
    /// Whether the validator marked the transaction VALID.
    public var isTxValid: Bool

    /// Creates the info.
    public init(key: PrivateDataKey, txID: String, expectedHash: Data, endorsers: [Data], isTxValid: Bool) {
        self.key = key
        self.txID = txID
        self.expectedHash = expectedHash
        self.endorsers = endorsers
        self.isTxValid = isTxValid
    }
}

/// The private-data facts of a block (Fabric's per-tx info of `StoreBlock`): every collection an endorser
/// transaction wrote (writes or metadata writes; read-only collections are ignored), with the hash the block
/// commits to, and the tx ids of the transactions that have any.
public struct BlockPrivateDataInfo: Sendable {
    /// The block number.
    public var blockNumber: UInt64
    /// The collections written, in block order.
    public var collections: [CollectionWriteInfo]
    /// The tx ids of transactions with private writes, in block order (purged from the transient store after
    /// the commit).
    public var txIDs: [String]

    /// Reads the info of `block` given the validator's codes (one per transaction).
    ///
    /// - Throws: ``PrivdataError/Code-swift.struct/invalidBlock`` when the block has no data or the codes do not
    ///   match its transactions. Envelopes that are not endorser transactions or do not decode are skipped (the
    ///   validator has already marked them invalid).
    public init(block: Common_Block, validationCodes: [Protos_TxValidationCode]) throws(PrivdataError) {
        let number = block.header.number
        guard block.hasData, block.hasHeader else {
            throw PrivdataError(.invalidBlock, "block \(number) has no data or no header")
        }
        guard validationCodes.count == block.data.data.count else {
            throw PrivdataError(
                .invalidBlock,
                "block \(number) has \(block.data.data.count) transactions but a TRANSACTIONS_FILTER of "
                    + "\(validationCodes.count)"
            )
        }
        self.blockNumber = number
        self.collections = []
        self.txIDs = []
        for (index, bytes) in block.data.data.enumerated() {
            guard let (txID, writes, endorsers) = Self.privateWrites(of: bytes) else { continue }
            guard !writes.isEmpty else { continue }
            self.txIDs.append(txID)
            for write in writes {
                self.collections.append(
                    CollectionWriteInfo(
                        key: PrivateDataKey(
                            txIndex: UInt64(index),
                            namespace: write.namespace,
                            collection: write.collection
                        ),
                        txID: txID,
                        expectedHash: write.hash,
                        endorsers: endorsers,
                        isTxValid: validationCodes[index] == .valid
                    )
                )
            }
        }
    }

    /// The private writes of one envelope: (tx id, [(namespace, collection, pvt_rwset_hash)], endorsers), or nil
    /// when it is not an endorser transaction that decodes.
    static func privateWrites(
        of envelopeBytes: Data
    ) -> (String, [(namespace: String, collection: String, hash: Data)], [Data])? {
        guard let envelope = try? Common_Envelope(serializedBytes: envelopeBytes),
            let payload = try? envelope.unpackPayload(),
            let header = try? payload.unpackChannelHeader(),
            header.headerType == .endorserTransaction,
            let transaction = try? payload.unpackTransaction()
        else { return nil }
        var writes: [(namespace: String, collection: String, hash: Data)] = []
        var seen = Set<String>()
        var endorsers: [Data] = []
        for action in transaction.decodableActions {
            endorsers.append(contentsOf: action.payload.action.endorsements.map(\.endorser))
            for ns in action.readWriteSet.nsRwset {
                for collection in ns.collectionHashedRwset {
                    guard let hashed = try? collection.unpackHashedRWSet(),
                        !hashed.hashedWrites.isEmpty || !hashed.metadataWrites.isEmpty
                    else { continue }
                    let id = ns.namespace + "\u{0}" + collection.collectionName
                    guard seen.insert(id).inserted else { continue }
                    writes.append((ns.namespace, collection.collectionName, collection.pvtRwsetHash))
                }
            }
        }
        return (header.txID, writes, endorsers)
    }
}
