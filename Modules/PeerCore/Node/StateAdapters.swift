import Deliver
import Foundation
import Gossip
import GossipState
import Ledger
import Logging
import SwiftProtobuf
import Wire

/// The GossipState commit loop's coordinator over the channel's committer (Privdata's coordinator takes this place
/// when private data is handled: until then the block's own private data is committed as received).
struct LedgerCoordinator: BlockCommitCoordinator {
    let committer: ChannelCommitter

    func ledgerHeight() throws -> UInt64 { self.committer.height }

    func storeBlock(_ block: Common_Block, privateData: [TxPrivateWriteSet]) async throws {
        try await self.committer.commit(
            block,
            privateData: privateData.map { TxPrivateData(txIndex: $0.txSeqInBlock, writeSet: $0.writeSet) }
        )
    }
}

/// What state requests are answered from: the committed blocks (no private data until Privdata decides
/// eligibility).
struct LedgerBlockSource: StateBlockSource {
    let ledger: PeerLedger

    func ledgerHeight() throws -> UInt64 { self.ledger.height }

    func block(number: UInt64, for requester: StateRequester) async throws -> ServedBlock? {
        guard let block = try self.ledger.block(number: number) else { return nil }
        return ServedBlock(block: try block.serializedData())
    }
}

/// Deliver's gossip-state side: verified blocks from the orderer enter the channel's payload buffer.
struct StatePayloadSink: GossipPayloadSink {
    let state: GossipStateProvider

    func addPayload(_ payload: Gossip_Payload, channelID: String) async throws {
        try await self.state.addPayload(payload)
    }
}

/// Deliver's gossip side: blocks pushed to the org's peers of the channel.
struct NodeBlockGossiper: BlockGossiper {
    let node: GossipNode
    let logger: Logger

    func gossip(_ message: Gossip_GossipMessage) async {
        do {
            try self.node.gossip(message)
        } catch {
            self.logger.warning("cannot gossip a block to the org", metadata: ["error": "\(error)"])
        }
    }
}

extension PeerConfiguration {
    /// GossipState's settings from peer.gossip.state.* and the commit mode.
    var stateConfig: StateConfig {
        var config = StateConfig()
        config.enabled = self.state.enabled
        config.checkInterval = self.state.checkInterval
        config.responseTimeout = self.state.responseTimeout
        config.batchSize = self.state.batchSize
        config.blockBufferSize = self.state.blockBufferSize
        config.maxRetries = self.state.maxRetries
        config.channelSize = self.state.channelSize
        config.nonBlockingCommitMode = self.gossip.nonBlockingCommitMode
        config.useLeaderElection = self.gossip.useLeaderElection
        config.orgLeader = self.gossip.orgLeader
        return config
    }
}
