import Foundation
import Ledger
import Privdata
import Wire

/// The private-data coordinator's validate-and-commit over the channel's one commit path, so a block with its
/// private data goes through the same in-order ``ChannelCommitter`` as everything else.
struct ChannelPrivdataCommitter: PrivdataCommitter {
    let committer: ChannelCommitter

    var height: UInt64 { self.committer.height }

    func validate(_ block: Common_Block) async throws -> [Protos_TxValidationCode] {
        try await self.committer.validate(block)
    }

    func hasStagedPrivateData(block number: UInt64) throws -> Bool {
        try self.committer.ledger.privateDataStore.stagedBlock() == number
    }

    func commit(
        _ block: Common_Block,
        validationCodes: [Protos_TxValidationCode],
        privateData: [TxPrivateData],
        missing: [MissingPrivateData]
    ) async throws {
        try await self.committer.commit(
            block,
            validationCodes: validationCodes,
            privateData: privateData,
            missingPrivateData: missing
        )
    }

    func privateData(block number: UInt64) throws -> [TxPrivateData] {
        try self.committer.ledger.privateData(block: number)
    }
}

extension PeerConfiguration {
    /// Privdata's settings from peer.gossip.pvtData.*.
    var privdataConfig: PrivdataConfig {
        var config = PrivdataConfig()
        config.pullRetryThreshold = self.privateData.pullRetryThreshold
        config.transientBlockRetention = self.privateData.transientStoreMaxBlockRetention
        config.pushAckTimeout = self.privateData.pushAckTimeout
        config.btlPullMargin = self.privateData.btlPullMargin
        config.reconcileBatchSize = self.privateData.reconcileBatchSize
        config.reconcileSleepInterval = self.privateData.reconcileSleepInterval
        config.reconciliationEnabled = self.privateData.reconciliationEnabled
        config.deprioritizedDataReconcilerInterval = self.ledger.deprioritizedDataReconcilerInterval
        config.skipPullingInvalidTransactionsDuringCommit = self.privateData.skipPullingInvalidTransactions
        config.implicitCollectionDisseminationPolicy = .init(
            requiredPeerCount: self.privateData.implicitCollectionRequiredPeerCount,
            maxPeerCount: self.privateData.implicitCollectionMaxPeerCount
        )
        return config
    }
}
