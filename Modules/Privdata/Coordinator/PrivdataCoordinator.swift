internal import Dispatch
import Foundation
public import GossipState
import Ledger
public import Logging
public import TransientStore
public import Wire

/// Fabric's privdata `coordinator`: validates a block, finds the private data this peer is eligible for (from the
/// block, the transient store or other peers, each checked against the block's hashes), commits the block with it
/// and the missing-data records, then purges the transient store (on its own serial queue, so the next block's
/// commit does not wait for it; ``purgesDone()`` waits). It is the GossipState commit loop's
/// ``BlockCommitCoordinator``.
public final class PrivdataCoordinator: BlockCommitCoordinator {
    /// The channel.
    public let channelID: String
    /// Validation and commit.
    public let committer: any PrivdataCommitter
    /// The eligibility decisions and retrieval.
    public let provider: PrivateDataProvider
    /// Whether the channel stores private data of invalid transactions (the StorePvtDataOfInvalidTx capability
    /// of the current config).
    private let storePvtDataOfInvalidTx: @Sendable () -> Bool
    private let metrics: PrivdataMetrics
    private let eligibility: CollectionEligibility?
    private let purgeQueue: DispatchQueue
    private let logger: Logger

    /// Creates the coordinator.
    public init(
        channelID: String,
        committer: any PrivdataCommitter,
        provider: PrivateDataProvider,
        storePvtDataOfInvalidTx: @escaping @Sendable () -> Bool,
        metrics: PrivdataMetrics? = nil,
        eligibility: CollectionEligibility? = nil,
        logger: Logger = Logger(label: "privdata.coordinator")
    ) {
        self.eligibility = eligibility
        self.channelID = channelID
        self.committer = committer
        self.provider = provider
        self.storePvtDataOfInvalidTx = storePvtDataOfInvalidTx
        self.metrics = metrics ?? provider.metrics
        self.purgeQueue = DispatchQueue(label: "privdata.purge.\(channelID)")
        var logger = logger
        logger[metadataKey: "channel"] = "\(channelID)"
        self.logger = logger
    }

    /// The transient store.
    public var transientStore: TransientStore { self.provider.transientStore }

    public func ledgerHeight() throws -> UInt64 { self.committer.height }

    /// Fabric's `StoreBlock`.
    ///
    /// - Throws: ``PrivdataError`` `.invalidBlock` (no data/header, a TRANSACTIONS_FILTER that does not match the
    ///   transactions), `.validationFailed`, `.collectionNotFound`/`.badCollectionConfig` (a written collection
    ///   that cannot be looked up), `.commitFailed`. Nothing is committed when it throws.
    public func storeBlock(_ block: Common_Block, privateData prefetched: [TxPrivateWriteSet]) async throws {
        let number = block.header.number
        guard block.hasData, block.hasHeader else {
            throw PrivdataError(.invalidBlock, "block \(number) of \(self.channelID) has no data or no header")
        }
        let codes: [Protos_TxValidationCode]
        do {
            codes = try await self.metrics.validation.time { () async throws -> [Protos_TxValidationCode] in
                try await self.committer.validate(block)
            }
        } catch {
            throw PrivdataError(
                .validationFailed,
                "validation of block \(number) of \(self.channelID) failed",
                cause: error
            )
        }
        // A commit that staged this block's private data and crashed: commit with what the store holds.
        if (try? self.committer.hasStagedPrivateData(block: number)) == true {
            try await self.commit(block, codes: codes, privateData: [], missing: [])
            self.eligibility?.blockCommitted(number)
            return
        }
        let info = try BlockPrivateDataInfo(block: block, validationCodes: codes)
        let retrieved = try await self.provider.retrieve(
            info,
            prefetched: prefetched,
            storeInvalid: self.storePvtDataOfInvalidTx()
        )
        try await self.commit(block, codes: codes, privateData: retrieved.privateData, missing: retrieved.missing)
        self.eligibility?.blockCommitted(number)
        self.purgeTransientStore(after: number, info: info, committedPrivateData: !retrieved.privateData.isEmpty)
    }

    private func commit(
        _ block: Common_Block,
        codes: [Protos_TxValidationCode],
        privateData: [TxPrivateData],
        missing: [MissingPrivateData]
    ) async throws(PrivdataError) {
        do {
            try await self.metrics.commit.time { () async throws in
                try await self.committer.commit(
                    block,
                    validationCodes: codes,
                    privateData: privateData,
                    missing: missing
                )
            }
        } catch {
            throw PrivdataError(
                .commitFailed,
                "commit of block \(block.header.number) of \(self.channelID) failed",
                cause: error
            )
        }
    }

    /// Spec §4: purge by the block's tx ids when it committed private data, and below `number − retention` every
    /// `retention` blocks. It runs on the purge queue, after the commit returned (as Fabric's goroutine); failures
    /// are logged, and the entries are purged again by a later purge below a height.
    private func purgeTransientStore(after number: UInt64, info: BlockPrivateDataInfo, committedPrivateData: Bool) {
        let retention = self.provider.config.transientBlockRetention
        let byHeight = retention > 0 && number % retention == 0 && number > retention
        guard committedPrivateData || byHeight else { return }
        let store = self.transientStore
        let txIDs = info.txIDs
        let metrics = self.metrics
        let logger = self.logger
        self.purgeQueue.async {
            metrics.purge.time {
                if committedPrivateData {
                    do {
                        try store.purge(txIDs: txIDs)
                    } catch {
                        logger.error("cannot purge the transient store of block \(number)'s tx ids: \(error)")
                    }
                }
                if byHeight {
                    do {
                        try store.purge(belowHeight: number - retention)
                    } catch {
                        logger.error("cannot purge the transient store below height \(number - retention): \(error)")
                    }
                }
            }
        }
    }

    /// Returns when every transient-store purge scheduled so far has run.
    public func purgesDone() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            self.purgeQueue.async { done.resume() }
        }
    }

    /// Fabric's `StorePvtData`: keeps private data received at endorsement time (or pushed by an endorser) in
    /// the transient store until its block is committed.
    public func storePrivateData(
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) throws(PrivdataError) {
        do {
            try self.transientStore.persist(txID: txID, blockHeight: blockHeight, privateSimulationResults: data)
        } catch {
            throw PrivdataError(
                .storage,
                "cannot store private data of tx \(txID) in the transient store",
                cause: error
            )
        }
    }
}
