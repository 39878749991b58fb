import Foundation
internal import SwiftProtobuf
internal import Wire

/// A transaction's read-write set as the commit path uses it: public reads, range queries, writes and metadata
/// writes per namespace, with the hashed private read-write sets of its collections.
struct TxReadWriteSet {
    struct Namespace {
        var name: String
        var kv: Kvrwset_KVRWSet
        var collections: [Collection]
    }

    struct Collection {
        var name: String
        var hashed: Kvrwset_HashedRWSet
        var pvtRWSetHash: Data
    }

    var namespaces: [Namespace]

    init(namespaces: [Namespace]) { self.namespaces = namespaces }

    /// The read-write set validation already decoded (no decoding again).
    init(_ decoded: ReadWriteSet) {
        self.namespaces = decoded.namespaces.map { ns in
            Namespace(
                name: ns.name,
                kv: ns.kvRWSet,
                collections: ns.collections.map {
                    Collection(name: $0.name, hashed: $0.hashedRWSet, pvtRWSetHash: $0.pvtRWSetHash)
                }
            )
        }
    }

    /// Decodes every nested layer of the `results` of a ChaincodeAction.
    init(resultsBytes: Data) throws(WireError) {
        let rwset = try Rwset_TxReadWriteSet(decoding: resultsBytes, field: "ChaincodeAction.results")
        var namespaces: [Namespace] = []
        namespaces.reserveCapacity(rwset.nsRwset.count)
        for ns in rwset.nsRwset {
            var collections: [Collection] = []
            for collection in ns.collectionHashedRwset {
                collections.append(
                    Collection(
                        name: collection.collectionName,
                        hashed: try collection.unpackHashedRWSet(),
                        pvtRWSetHash: collection.pvtRwsetHash
                    )
                )
            }
            namespaces.append(Namespace(name: ns.namespace, kv: try ns.unpackKVRWSet(), collections: collections))
        }
        self.namespaces = namespaces
    }

    /// The `pvt_rwset_hash` of (namespace, collection), or nil when the transaction has no such collection.
    func pvtRWSetHash(namespace: String, collection: String) -> Data? {
        for ns in self.namespaces where ns.name == namespace {
            for coll in ns.collections where coll.name == collection { return coll.pvtRWSetHash }
        }
        return nil
    }
}
