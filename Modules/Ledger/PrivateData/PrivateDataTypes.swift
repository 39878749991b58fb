import Foundation
public import Wire

/// The private write set of one transaction of a block.
public struct TxPrivateData: Sendable, Equatable {
    /// The transaction's index in the block.
    public var txIndex: UInt64
    /// The cleartext private read-write sets, per namespace and collection.
    public var writeSet: Rwset_TxPvtReadWriteSet

    /// Creates the private data of one transaction.
    public init(txIndex: UInt64, writeSet: Rwset_TxPvtReadWriteSet) {
        self.txIndex = txIndex
        self.writeSet = writeSet
    }
}

/// A collection whose private data a committed transaction wrote but this peer does not have.
public struct MissingPrivateData: Sendable, Hashable {
    /// The transaction's index in the block.
    public var txIndex: UInt64
    /// The namespace (chaincode).
    public var namespace: String
    /// The collection.
    public var collection: String
    /// Whether this peer's organisation is a member of the collection (only eligible data is reconciled).
    public var isEligible: Bool

    /// Creates a missing-data record.
    public init(txIndex: UInt64, namespace: String, collection: String, isEligible: Bool) {
        self.txIndex = txIndex
        self.namespace = namespace
        self.collection = collection
        self.isEligible = isEligible
    }
}

/// The missing private data of one block, as the reconciler asks for it.
public struct MissingBlockPrivateData: Sendable, Equatable {
    /// The block.
    public var blockNumber: UInt64
    /// The missing (tx, namespace, collection) entries, by tx then namespace then collection.
    public var entries: [MissingPrivateData]
}

/// Which namespaces and collections a private-data query returns; nil everywhere means all.
public struct PrivateDataFilter: Sendable, Equatable {
    /// namespace → collections; a namespace mapped to an empty set includes all its collections.
    public var collections: [String: Set<String>]

    /// Creates a filter.
    public init(_ collections: [String: Set<String>]) { self.collections = collections }

    /// Whether the filter lets (namespace, collection) through.
    public func includes(namespace: String, collection: String) -> Bool {
        guard let allowed = self.collections[namespace] else { return false }
        return allowed.isEmpty || allowed.contains(collection)
    }
}

extension Rwset_TxPvtReadWriteSet {
    /// The (namespace, collection, rwset bytes) triples in order.
    var flattened: [(namespace: String, collection: String, rwset: Data)] {
        self.nsPvtRwset.flatMap { ns in
            ns.collectionPvtRwset.map { (ns.namespace, $0.collectionName, $0.rwset) }
        }
    }
}
