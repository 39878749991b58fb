public import ChannelConfig
public import Foundation
public import Ledger
internal import Logging
internal import SwiftProtobuf
public import TransientStore
import Wire

/// Fabric's `dataRetriever`: answers private-data requests from the transient store while the block is not yet
/// committed (ledger height ≤ block_seq) and from the ledger afterwards, keeping only what the requester is
/// eligible for.
public struct PrivateDataRetriever: Sendable {
    /// The ledger.
    public let ledger: PeerLedger
    /// The transient store.
    public let transientStore: TransientStore
    /// The collections.
    public let collections: CollectionStore

    /// Creates the retriever.
    public init(ledger: PeerLedger, transientStore: TransientStore, collections: CollectionStore) {
        self.ledger = ledger
        self.transientStore = transientStore
        self.collections = collections
    }

    /// The collection rwsets of `digests` that `requester` may see, per digest (digests with nothing to give are
    /// absent).
    ///
    /// From the transient store (digests with an empty tx id are skipped) a collection counts when the config
    /// that came with the data accepts the requester, or, without one, the latest config does; from the ledger,
    /// when the latest config or the config in effect at the data's block (the collection configuration
    /// history) accepts the requester (Fabric's puller checks both for ledger data).
    public func retrieve(
        _ digests: [PrivateDataDigest],
        for requester: SignedData
    ) throws(PrivdataError) -> [PrivateDataDigest: [Data]] {
        var result: [PrivateDataDigest: [Data]] = [:]
        let height = self.ledger.height
        for (blockSeq, group) in Dictionary(grouping: digests, by: \.blockSeq) {
            if height <= blockSeq {
                for digest in group where !digest.txID.isEmpty {
                    let entries: [EndorserPrivateSimulationResults]
                    do {
                        entries = try self.transientStore.privateData(
                            txID: digest.txID,
                            filter: TransientFilter([digest.namespace: [digest.collection]])
                        )
                    } catch {
                        throw PrivdataError(
                            .storage,
                            "cannot read the transient store for \(digest)",
                            cause: error
                        )
                    }
                    var payloads: [Data] = []
                    for entry in entries {
                        let results = entry.privateSimulationResults
                        let access: CollectionAccess?
                        if let package = results.collectionConfigs[digest.namespace] {
                            access = try? self.collections.collection(
                                namespace: digest.namespace,
                                name: digest.collection,
                                in: package
                            )
                        } else {
                            access = try? self.collections.collection(
                                namespace: digest.namespace,
                                name: digest.collection
                            )
                        }
                        guard let access, access.accepts(requester) else { continue }
                        for ns in results.pvtRwset.nsPvtRwset where ns.namespace == digest.namespace {
                            for collection in ns.collectionPvtRwset where collection.collectionName == digest.collection
                            {
                                if !collection.rwset.isEmpty { payloads.append(collection.rwset) }
                            }
                        }
                    }
                    if !payloads.isEmpty { result[digest] = payloads }
                }
            } else {
                var filter: [String: Set<String>] = [:]
                for digest in group { filter[digest.namespace, default: []].insert(digest.collection) }
                let data: [TxPrivateData]
                do {
                    data = try self.ledger.privateData(block: blockSeq, filter: PrivateDataFilter(filter))
                } catch {
                    throw PrivdataError(.storage, "cannot read the private data of block \(blockSeq)", cause: error)
                }
                for digest in group {
                    guard
                        self.collections.accepts(requester, namespace: digest.namespace, collection: digest.collection)
                            || self.collections.accepts(
                                requester,
                                namespace: digest.namespace,
                                collection: digest.collection,
                                below: blockSeq
                            ),
                        let tx = data.first(where: { $0.txIndex == digest.seqInBlock })
                    else { continue }
                    for ns in tx.writeSet.nsPvtRwset where ns.namespace == digest.namespace {
                        for collection in ns.collectionPvtRwset where collection.collectionName == digest.collection {
                            if !collection.rwset.isEmpty { result[digest, default: []].append(collection.rwset) }
                        }
                    }
                }
            }
        }
        return result
    }
}
