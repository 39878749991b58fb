public import Gossip
public import Ledger
public import Logging
internal import SwiftProtobuf
import Synchronization
import Wire

/// Fabric's privdata `Reconciler`: every `reconcileSleepInterval` it asks the ledger for the eligible missing
/// private data of the most recent blocks (`reconcileBatchSize` at a time), fetches it from peers, and commits it
/// to the old blocks. What could not be fetched, or failed the block's hash, is deprioritized, so each round ends.
///
/// The deprioritized list is retried too: once every `deprioritizedDataReconcilerInterval` (counted from when
/// the reconciler starts, as Fabric counts from opening the store) one batch comes from that list instead. An
/// entry reconciled then leaves it; one that fails again stays for the next time. (When the deprioritized list
/// is empty the prioritized batch is taken at once; Fabric ends the cycle with nothing.)
public final class Reconciler: Sendable {
    /// The ledger.
    public let ledger: PeerLedger
    /// The collections.
    public let collections: CollectionStore
    /// Who to fetch from.
    public let fetcher: any PrivateDataFetcher
    /// The settings (batch size, interval, enabled).
    public let config: PrivdataConfig
    private let clock: any GossipClock
    /// When the deprioritized list is next due (nil until the first look, which starts the interval).
    private let deprioritizedDue = Mutex<GossipInstant?>(nil)
    private let metrics: PrivdataMetrics
    private let logger: Logger

    /// Creates the reconciler.
    public init(
        ledger: PeerLedger,
        collections: CollectionStore,
        fetcher: any PrivateDataFetcher,
        config: PrivdataConfig,
        clock: any GossipClock = WallClock(),
        metrics: PrivdataMetrics? = nil,
        logger: Logger = Logger(label: "privdata.reconciler")
    ) {
        self.metrics = metrics ?? PrivdataMetrics(channelID: ledger.ledgerID)
        self.ledger = ledger
        self.collections = collections
        self.fetcher = fetcher
        self.config = config
        self.clock = clock
        self.logger = logger
    }

    /// Reconciles every `reconcileSleepInterval` until the task is cancelled; returns at once when
    /// reconciliation is disabled.
    public func run() async {
        guard self.config.reconciliationEnabled else { return }
        _ = self.deprioritizedListIsDue()
        while !Task.isCancelled {
            do {
                try await self.clock.sleep(for: self.config.reconcileSleepInterval)
            } catch {
                return
            }
            do {
                let count = try await self.metrics.reconciliation.time { () async throws -> Int in
                    try await self.reconcile()
                }
                self.metrics.reconciled(count)
            } catch {
                self.logger.error("reconciliation of \(self.ledger.ledgerID) failed: \(error)")
            }
        }
    }

    /// One reconciliation cycle; returns how many collections' data were committed.
    ///
    /// - Throws: the ledger's error when reading missing data or committing fails (the cycle stops there).
    @discardableResult
    public func reconcile() async throws -> Int {
        var reconciled = 0
        var rounds = 0
        while !Task.isCancelled {
            rounds += 1
            let missing = try self.nextBatch()
            if missing.isEmpty || rounds > 10_000 { break }
            var requests: [PrivateDataRequest] = []
            var unreconciled: [UnreconciledPrivateData] = []
            for block in missing {
                for entry in block.entries {
                    guard
                        let access = try? self.collections.collection(
                            namespace: entry.namespace,
                            name: entry.collection
                        )
                    else {
                        unreconciled.append(UnreconciledPrivateData(blockNumber: block.blockNumber, missing: entry))
                        continue
                    }
                    requests.append(
                        PrivateDataRequest(
                            digest: PrivateDataDigest(
                                txID: "",
                                namespace: entry.namespace,
                                collection: entry.collection,
                                blockSeq: block.blockNumber,
                                seqInBlock: entry.txIndex
                            ),
                            endorsers: [],
                            collection: access,
                            originalCollection: (try? self.collections.collection(
                                namespace: entry.namespace,
                                name: entry.collection,
                                below: block.blockNumber
                            )) ?? access
                        )
                    )
                }
            }
            let fetched: FetchedPrivateData
            do {
                fetched = try await self.fetcher.fetch(requests)
            } catch {
                self.logger.warning("fetching missing private data failed: \(error)")
                fetched = FetchedPrivateData()
            }
            var data: [UInt64: [UInt64: Rwset_TxPvtReadWriteSet]] = [:]
            for request in requests {
                let digest = request.digest
                let missingEntry = MissingPrivateData(
                    txIndex: digest.seqInBlock,
                    namespace: digest.namespace,
                    collection: digest.collection,
                    isEligible: true
                )
                guard let payload = fetched.elements[digest]?.first else {
                    unreconciled.append(UnreconciledPrivateData(blockNumber: digest.blockSeq, missing: missingEntry))
                    continue
                }
                var set = data[digest.blockSeq]?[digest.seqInBlock] ?? Rwset_TxPvtReadWriteSet()
                var collection = Rwset_CollectionPvtReadWriteSet()
                collection.collectionName = digest.collection
                collection.rwset = payload
                if let index = set.nsPvtRwset.firstIndex(where: { $0.namespace == digest.namespace }) {
                    set.nsPvtRwset[index].collectionPvtRwset.append(collection)
                } else {
                    var ns = Rwset_NsPvtReadWriteSet()
                    ns.namespace = digest.namespace
                    ns.collectionPvtRwset = [collection]
                    set.nsPvtRwset.append(ns)
                }
                data[digest.blockSeq, default: [:]][digest.seqInBlock] = set
            }
            let toCommit = data.mapValues { byTx in
                byTx.keys.sorted().map { TxPrivateData(txIndex: $0, writeSet: byTx[$0]!) }
            }
            let mismatched = try self.ledger.commitPrivateDataOfOldBlocks(toCommit, unreconciled: unreconciled)
            for item in mismatched {
                self.logger.warning(
                    "reconciled private data of block \(item.blockNumber) tx \(item.missing.txIndex) \(item.missing.namespace)/\(item.missing.collection) does not match the block's hash"
                )
            }
            var committed = 0
            for txs in toCommit.values {
                for tx in txs {
                    for ns in tx.writeSet.nsPvtRwset { committed += ns.collectionPvtRwset.count }
                }
            }
            reconciled += committed - mismatched.count
        }
        return reconciled
    }

    /// The next batch of missing data: from the deprioritized list when it is due and not empty, else from the
    /// prioritized one.
    private func nextBatch() throws(LedgerError) -> [MissingBlockPrivateData] {
        if self.deprioritizedListIsDue() {
            let deprioritized = try self.ledger.missingPrivateData(
                mostRecentBlocks: self.config.reconcileBatchSize,
                deprioritized: true
            )
            if !deprioritized.isEmpty {
                self.logger.debug("reconciling \(deprioritized.count) blocks of the deprioritized list")
                return deprioritized
            }
        }
        return try self.ledger.missingPrivateData(mostRecentBlocks: self.config.reconcileBatchSize)
    }

    /// Whether the deprioritized list is due now; if so, the next time is one interval from now. The first call
    /// only starts the interval.
    private func deprioritizedListIsDue() -> Bool {
        let now = self.clock.now
        let interval = self.config.deprioritizedDataReconcilerInterval
        return self.deprioritizedDue.withLock { due in
            guard let next = due else {
                due = now.advanced(by: interval)
                return false
            }
            guard now >= next else { return false }
            due = now.advanced(by: interval)
            return true
        }
    }
}
