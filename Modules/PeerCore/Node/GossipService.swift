import ChannelConfig
public import Deliver
import Foundation
import Ledger
public import Logging
import Synchronization
import Wire

/// Fabric's `GossipService` for this peer: for each channel, how blocks arrive (the deliver service when this peer
/// leads its org for the channel) and the in-order commit of what arrives.
public final class GossipService: ChannelServiceFactory {
    let configuration: PeerConfiguration
    let deliver: DeliverService
    let logger: Logger

    /// Creates the service over the process's deliver service.
    public init(configuration: PeerConfiguration, deliver: DeliverService, logger: Logger = Logger(label: "peer.gossip")) {
        self.configuration = configuration
        self.deliver = deliver
        self.logger = logger
    }

    public func configCallbacks(channelID: String) -> ChannelHooks {
        ChannelHooks()
    }

    public func initializeChannel(_ channel: PeerChannel) async throws(PeerCoreError) -> any ChannelServices {
        let handle = self.deliver.channel(
            channel.id,
            config: { channel.bundle },
            ledger: LedgerTipProvider(ledger: channel.ledger),
            handler: .custom(CommitHandler(committer: channel.committer)),
            isStaticLeader: self.configuration.gossip.orgLeader
        )
        let services = DeliveringChannel(handle: handle, logger: self.logger)
        do {
            try await handle.startDeliverForChannel(finalizer: {})
        } catch {
            throw PeerCoreError(.unavailable, "cannot start block delivery for channel \(channel.id)", cause: error)
        }
        return services
    }
}

/// A channel whose blocks come from the ordering service.
struct DeliveringChannel: ChannelServices {
    let handle: ChannelDeliverService
    let logger: Logger

    func stop() async {
        self.handle.stop()
        await self.handle.waitUntilDelivererEnded()
    }
}

/// The ledger's height and last block hash, for the deliverer's seek.
struct LedgerTipProvider: BlockHeightProvider {
    let ledger: PeerLedger

    func ledgerTip() async throws -> LedgerTip {
        let height = self.ledger.height
        guard height > 0, let last = try self.ledger.block(number: height - 1) else {
            return LedgerTip(height: height, lastBlockHash: nil)
        }
        return LedgerTip(height: height, lastBlockHash: last.headerHash)
    }
}

/// Commits verified blocks straight into the channel (no gossip state in between).
struct CommitHandler: BlockHandler {
    let committer: ChannelCommitter

    func handleBlock(_ block: Common_Block, channelID: String) async throws {
        try await self.committer.commit(block)
    }
}
