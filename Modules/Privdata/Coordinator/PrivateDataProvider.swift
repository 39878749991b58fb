import ChannelConfig
import Foundation
public import Gossip
public import GossipState
public import Ledger
public import Logging
internal import SwiftProtobuf
public import TransientStore
import Wire

/// What the coordinator found for a block: the private data to commit and the missing-data records.
public struct RetrievedPrivateData: Sendable {
    /// The cleartext private write sets, per transaction (tx index ascending).
    public var privateData: [TxPrivateData]
    /// The collections this peer lacks: eligible (to reconcile later) and ineligible.
    public var missing: [MissingPrivateData]

    /// Creates a result.
    public init(privateData: [TxPrivateData], missing: [MissingPrivateData]) {
        self.privateData = privateData
        self.missing = missing
    }
}

/// Fabric's `PvtdataProvider.RetrievePvtdata`: decides which of a block's private data this peer is eligible for
/// and finds it: the data that came with the block, then the transient store, then other peers; every candidate is
/// accepted only when it hashes to the block's `pvt_rwset_hash`.
public struct PrivateDataProvider: Sendable {
    /// The channel.
    public let channelID: String
    /// The collections.
    public let collections: CollectionStore
    /// The transient store of the channel.
    public let transientStore: TransientStore
    /// Who to pull from; nil: nobody (missing data is left to reconciliation).
    public let fetcher: (any PrivateDataFetcher)?
    /// This peer.
    public let local: LocalPeerIdentity
    /// The settings (pullRetryThreshold, skipPullingInvalidTransactionsDuringCommit).
    public let config: PrivdataConfig
    /// Time for the pull retry loop.
    public let clock: any GossipClock
    /// The pause between pull attempts (Fabric: 1 s).
    public let retryInterval: Duration
    /// The channel's private-data metrics (list-missing and fetch durations are recorded here).
    public let metrics: PrivdataMetrics
    let logger: Logger

    /// Creates the provider.
    public init(
        channelID: String,
        collections: CollectionStore,
        transientStore: TransientStore,
        fetcher: (any PrivateDataFetcher)?,
        local: LocalPeerIdentity,
        config: PrivdataConfig,
        clock: any GossipClock = WallClock(),
        retryInterval: Duration = .seconds(1),
        metrics: PrivdataMetrics? = nil,
        logger: Logger = Logger(label: "privdata")
    ) {
        self.metrics = metrics ?? PrivdataMetrics(channelID: channelID)
        self.channelID = channelID
        self.collections = collections
        self.transientStore = transientStore
        self.fetcher = fetcher
        self.local = local
        self.config = config
        self.clock = clock
        self.retryInterval = retryInterval
        self.logger = logger
    }

    /// Finds the private data of `info`'s block.
    ///
    /// - Parameters:
    ///   - prefetched: the private data that came with the block (state transfer, gossip).
    ///   - storeInvalid: whether the channel stores private data of invalid transactions
    ///     (StorePvtDataOfInvalidTx capability).
    /// - Throws: ``PrivdataError/Code-swift.struct/collectionNotFound`` / `.badCollectionConfig` when a written
    ///   collection cannot be looked up (the block fails, as in Fabric).
    public func retrieve(
        _ info: BlockPrivateDataInfo,
        prefetched: [TxPrivateWriteSet],
        storeInvalid: Bool
    ) async throws(PrivdataError) -> RetrievedPrivateData {
        let listStarted = ContinuousClock.now
        var eligible: [PrivateDataKey: (info: CollectionWriteInfo, access: CollectionAccess)] = [:]
        var ineligible: [PrivateDataKey] = []
        for write in info.collections {
            if !write.isTxValid && !storeInvalid { continue }
            let access = try self.collections.collection(namespace: write.key.namespace, name: write.key.collection)
            if access.admits(self.local) {
                eligible[write.key] = (write, access)
            } else {
                ineligible.append(write.key)
            }
        }
        var found: [PrivateDataKey: Data] = [:]
        var reconcileLater = Set<PrivateDataKey>()
        var remaining = Set(eligible.keys)

        // (1) What came with the block.
        for tx in prefetched {
            for ns in tx.writeSet.nsPvtRwset {
                for collection in ns.collectionPvtRwset {
                    let key = PrivateDataKey(
                        txIndex: tx.txSeqInBlock,
                        namespace: ns.namespace,
                        collection: collection.collectionName
                    )
                    guard remaining.contains(key), let expected = eligible[key]?.info.expectedHash else { continue }
                    remaining.remove(key)
                    if Digest.sha256(collection.rwset) == expected {
                        found[key] = collection.rwset
                    } else {
                        self.logger.warning(
                            "private data of \(key) in block \(info.blockNumber) that came with the block does not match its hash; reconciling later"
                        )
                        reconcileLater.insert(key)
                    }
                }
            }
        }

        // (2) The transient store, by tx id, hash matches only.
        if !remaining.isEmpty {
            let byTx = Dictionary(grouping: remaining) { eligible[$0]!.info.txID }
            for (txID, keys) in byTx {
                var filter: [String: Set<String>] = [:]
                for key in keys { filter[key.namespace, default: []].insert(key.collection) }
                let entries: [EndorserPrivateSimulationResults]
                do {
                    entries = try self.transientStore.privateData(txID: txID, filter: TransientFilter(filter))
                } catch {
                    self.logger.warning("cannot read the transient store for tx \(txID): \(error)")
                    continue
                }
                for entry in entries where entry.privateSimulationResults.hasPvtRwset {
                    for ns in entry.privateSimulationResults.pvtRwset.nsPvtRwset {
                        for collection in ns.collectionPvtRwset {
                            guard
                                let key = keys.first(where: {
                                    $0.namespace == ns.namespace && $0.collection == collection.collectionName
                                }), remaining.contains(key),
                                Digest.sha256(collection.rwset) == eligible[key]!.info.expectedHash
                            else { continue }
                            remaining.remove(key)
                            found[key] = collection.rwset
                        }
                    }
                }
            }
        }

        self.metrics.listMissing.recordDuration(listStarted.duration(to: .now))

        // (3) Other peers, until pullRetryThreshold.
        if !remaining.isEmpty, let fetcher = self.fetcher, self.config.pullRetryThreshold > .zero {
            let fetchStarted = ContinuousClock.now
            defer { self.metrics.fetch.recordDuration(fetchStarted.duration(to: .now)) }
            let started = self.clock.now
            while !remaining.isEmpty, started.duration(to: self.clock.now) < self.config.pullRetryThreshold {
                var requests: [PrivateDataRequest] = []
                var skipped = 0
                for key in remaining.sorted() {
                    let (write, access) = eligible[key]!
                    if self.config.skipPullingInvalidTransactionsDuringCommit && !write.isTxValid {
                        skipped += 1
                        continue
                    }
                    let endorsers = write.endorsers.filter { endorser in
                        guard let identity = try? Msp_SerializedIdentity(serializedBytes: endorser) else {
                            return false
                        }
                        return access.isMember(organization: identity.mspid)
                    }
                    requests.append(
                        PrivateDataRequest(
                            digest: PrivateDataDigest(
                                txID: write.txID,
                                namespace: key.namespace,
                                collection: key.collection,
                                blockSeq: info.blockNumber,
                                seqInBlock: key.txIndex
                            ),
                            endorsers: endorsers,
                            collection: access
                        )
                    )
                }
                if requests.isEmpty { break }
                do {
                    let fetched = try await fetcher.fetch(requests)
                    for request in requests {
                        let digest = request.digest
                        let key = PrivateDataKey(
                            txIndex: digest.seqInBlock,
                            namespace: digest.namespace,
                            collection: digest.collection
                        )
                        if fetched.purged.contains(digest) {
                            self.logger.debug("\(digest) was purged at the peers asked; not missing")
                            remaining.remove(key)
                            continue
                        }
                        guard let candidates = fetched.elements[digest], !candidates.isEmpty else { continue }
                        remaining.remove(key)
                        if let match = candidates.first(where: { Digest.sha256($0) == eligible[key]!.info.expectedHash }
                        ) {
                            found[key] = match
                        } else {
                            self.logger.warning(
                                "fetched private data of \(digest) does not match its hash; reconciling later"
                            )
                            reconcileLater.insert(key)
                        }
                    }
                } catch {
                    self.logger.warning("fetching private data of block \(info.blockNumber) failed: \(error)")
                }
                guard remaining.count > skipped else { break }
                do {
                    try await self.clock.sleep(for: self.retryInterval)
                } catch {
                    break
                }
            }
        }

        // Assemble.
        var byTx: [UInt64: Rwset_TxPvtReadWriteSet] = [:]
        for key in found.keys.sorted() {
            var set = byTx[key.txIndex] ?? Rwset_TxPvtReadWriteSet()
            var collection = Rwset_CollectionPvtReadWriteSet()
            collection.collectionName = key.collection
            collection.rwset = found[key]!
            if set.nsPvtRwset.last?.namespace != key.namespace {
                var ns = Rwset_NsPvtReadWriteSet()
                ns.namespace = key.namespace
                set.nsPvtRwset.append(ns)
            }
            set.nsPvtRwset[set.nsPvtRwset.count - 1].collectionPvtRwset.append(collection)
            byTx[key.txIndex] = set
        }
        let privateData = byTx.keys.sorted().map { TxPrivateData(txIndex: $0, writeSet: byTx[$0]!) }
        var missing = (remaining.union(reconcileLater)).sorted().map {
            MissingPrivateData(
                txIndex: $0.txIndex,
                namespace: $0.namespace,
                collection: $0.collection,
                isEligible: true
            )
        }
        missing += ineligible.sorted().map {
            MissingPrivateData(
                txIndex: $0.txIndex,
                namespace: $0.namespace,
                collection: $0.collection,
                isEligible: false
            )
        }
        if !remaining.isEmpty {
            self.logger.warning(
                "committing block \(info.blockNumber) of \(self.channelID) without the private data of \(remaining.count) collection(s); it will be reconciled"
            )
        }
        return RetrievedPrivateData(privateData: privateData, missing: missing)
    }
}
