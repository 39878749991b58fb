import ChannelConfig
public import Deliver
import Election
import Foundation
public import Gossip
import GossipState
import Ledger
public import Logging
public import Privdata
import Synchronization
public import TransientStore
public import Wire

/// Fabric's `GossipService` for this peer: the process's gossip node, and for each channel
/// (``initializeChannel(_:)``) the services `InitializeChannel` starts: gossip's JoinChan from the channel config,
/// the state provider (payload buffer → in-order commit, anti-entropy, state requests), the deliver service for
/// blocks from the orderer, and leader election or the static leader that decides when this peer pulls.
public final class GossipService: ChannelServiceFactory {
    let configuration: PeerConfiguration
    let deliver: DeliverService
    let node: GossipNode
    let mcs: any MessageCryptoService
    let channelMSPs: ChannelMSPRegistry
    let trustStore: TLSTrustStore?
    let logger: Logger
    /// Endorsement-time private data of every channel (`<peer.fileSystemPath>/transientstore`).
    let transientStores: TransientStoreProvider?
    /// This peer as collection access filters see it (MSP ID and self-signed data).
    let localPeer: LocalPeerIdentity?
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])
    private let privdata = Mutex<[String: PrivdataService]>([:])

    /// Creates the service over the process's deliver service and gossip node.
    public init(
        configuration: PeerConfiguration,
        deliver: DeliverService,
        node: GossipNode,
        mcs: any MessageCryptoService,
        channelMSPs: ChannelMSPRegistry,
        trustStore: TLSTrustStore? = nil,
        transientStores: TransientStoreProvider? = nil,
        localPeer: LocalPeerIdentity? = nil,
        logger: Logger = Logger(label: "peer.gossip")
    ) {
        self.trustStore = trustStore
        self.transientStores = transientStores
        self.localPeer = localPeer
        self.configuration = configuration
        self.deliver = deliver
        self.node = node
        self.mcs = mcs
        self.channelMSPs = channelMSPs
        self.logger = logger
    }

    public func configCallbacks(channelID: String) -> ChannelHooks {
        let node = self.node
        let channelMSPs = self.channelMSPs
        let trustStore = self.trustStore
        let logger = self.logger
        return ChannelHooks(
            callbacks: [
                // The MSP callback first: gossip verifies the new orgs' identities with these MSPs.
                { bundle in channelMSPs.update(bundle) },
                // Trusted roots: the TLS CAs of every org of every channel, for the gossip and admin servers.
                { _ in
                    guard let trustStore else { return }
                    let count = trustStore.setChannelRoots(channelMSPs.tlsRootCertificates)
                    logger.debug("TLS trust roots updated", metadata: ["channel": "\(channelID)", "roots": "\(count)"])
                },
                { bundle in node.joinChannel(Self.joinMessage(bundle), channel: channelID) },
            ],
            onCommit: { committed in node.updateLedgerHeight(committed.number + 1, channel: channelID) }
        )
    }

    /// Gossip's JoinChan for a config: its sequence, the application orgs and their anchor peers.
    static func joinMessage(_ bundle: ChannelBundle) -> JoinChannelMessage {
        let organizations = bundle.application?.organizations.values.sorted { $0.mspID < $1.mspID } ?? []
        return JoinChannelMessage(
            sequence: bundle.sequence,
            organizations: organizations.map(\.mspID),
            anchorPeers: organizations.flatMap { org in
                org.anchorPeers.map { AnchorPeer(host: $0.host, port: Int($0.port), organization: org.mspID) }
            }
        )
    }

    public func initializeChannel(_ channel: PeerChannel) async throws(PeerCoreError) -> any ChannelServices {
        let id = channel.id
        let privdata = try self.makePrivdataService(channel)
        let state: GossipStateProvider
        do {
            let coordinator: any BlockCommitCoordinator =
                privdata?.coordinator ?? LedgerCoordinator(committer: channel.committer)
            let blockSource: any StateBlockSource =
                privdata?.blockSource ?? LedgerBlockSource(ledger: channel.ledger)
            state = try GossipStateProvider(
                channel: id,
                config: self.configuration.stateConfig,
                gossip: GossipNodeStateAdapter(node: self.node, channel: id),
                coordinator: coordinator,
                blockSource: blockSource,
                accessPolicy: ChannelReadersPolicy { channel.bundle },
                mcs: self.mcs,
                logger: Logger(label: "gossip.state")
            )
        } catch {
            throw PeerCoreError(.unavailable, "cannot start state transfer for channel \(id)", cause: error)
        }
        let handle = self.deliver.channel(
            id,
            config: { channel.bundle },
            ledger: LedgerTipProvider(ledger: channel.ledger),
            handler: .gossip(
                sink: StatePayloadSink(state: state),
                gossiper: NodeBlockGossiper(node: self.node, logger: self.logger)
            ),
            isStaticLeader: self.configuration.gossip.orgLeader
        )
        let settings = LeadershipSettings(
            useLeaderElection: self.configuration.gossip.useLeaderElection,
            orgLeader: self.configuration.gossip.orgLeader,
            election: ElectionConfig(
                startupGracePeriod: self.configuration.election.startupGracePeriod,
                membershipSampleInterval: self.configuration.election.membershipSampleInterval,
                leaderAliveThreshold: self.configuration.election.leaderAliveThreshold,
                leaderElectionDuration: self.configuration.election.leaderElectionDuration
            )
        )
        let mode: LeadershipMode
        do {
            mode = try settings.mode()
        } catch {
            throw PeerCoreError(.badConfiguration, "invalid leadership settings", cause: error)
        }
        var election: LeaderElectionService?
        switch mode {
        case .staticLeader:
            do {
                try await handle.startDeliverForChannel(finalizer: {})
            } catch {
                throw PeerCoreError(.unavailable, "cannot start block delivery for channel \(id)", cause: error)
            }
        case .election(let config):
            let logger = self.logger
            let box = ElectionBox()
            let service = LeaderElectionService(
                selfID: self.node.pkiID,
                channel: id,
                config: config,
                adapter: GossipElectionAdapter(node: self.node, channel: id),
                clock: WallClock()
            ) { isLeader in
                Task {
                    do {
                        if isLeader {
                            logger.info("became the leader; pulling blocks from the ordering service", metadata: ["channel": "\(id)"])
                            try await handle.startDeliverForChannel(finalizer: { box.service?.yield() })
                        } else {
                            logger.info("no longer the leader; stopping block delivery", metadata: ["channel": "\(id)"])
                            try handle.stopDeliverForChannel()
                        }
                    } catch {
                        logger.warning("leadership change not applied", metadata: ["channel": "\(id)", "error": "\(error)"])
                    }
                }
            }
            box.service = service
            election = service
        case .follower:
            break
        }
        let runner = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await state.run() }
                if let election { group.addTask { await election.run() } }
                if let privdata { group.addTask { await privdata.run() } }
            }
        }
        self.tasks.withLock { $0[id] = runner }
        if let privdata { self.privdata.withLock { $0[id] = privdata } }
        return GossipChannelServices(handle: handle, state: state, runner: runner)
    }

    /// The channel's private-data services (Fabric's coordinator, puller, distributor and reconciler), or nil when
    /// the peer runs without a transient store (tests of the block path alone).
    private func makePrivdataService(_ channel: PeerChannel) throws(PeerCoreError) -> PrivdataService? {
        guard let transientStores = self.transientStores, let localPeer = self.localPeer else { return nil }
        let config = self.configuration.privdataConfig
        let collections = CollectionStore(
            channelID: channel.id,
            source: LedgerCollectionConfigSource(ledger: channel.ledger),
            deserializer: { channel.bundle.mspManager },
            localMSPID: localPeer.mspID,
            implicitPolicy: config.implicitCollectionDisseminationPolicy
        )
        do {
            return try PrivdataService(
                channelID: channel.id,
                ledger: channel.ledger,
                committer: ChannelPrivdataCommitter(committer: channel.committer),
                transientStore: transientStores.openStore(ledgerID: channel.id),
                gossip: GossipNodePrivdataAdapter(node: self.node, channel: channel.id),
                collections: collections,
                local: localPeer,
                accessPolicy: ChannelReadersPolicy { channel.bundle },
                config: config,
                storePvtDataOfInvalidTx: { channel.bundle.application?.capabilities.storePvtDataOfInvalidTx ?? false },
                logger: Logger(label: "privdata")
            )
        } catch {
            throw PeerCoreError(.badConfiguration, "cannot start private data for channel \(channel.id)", cause: error)
        }
    }

    /// Fabric's `DistributePrivateData`: stores the private data of an endorsed transaction in this peer's
    /// transient store and pushes it to eligible peers of the channel (required acknowledgements within
    /// `peer.gossip.pvtData.pushAckTimeout`).
    ///
    /// - Throws: ``PeerCoreError/Code/channelNotFound`` for a channel without private-data services; the distributor's
    ///   error when fewer peers than required acknowledged.
    public func distributePrivateData(
        channelID: String,
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) async throws {
        guard let service = self.privdata.withLock({ $0[channelID] }) else {
            throw PeerCoreError(.channelNotFound, "channel \(channelID) has no private-data services on this peer")
        }
        try await service.distribute(txID: txID, data: data, blockHeight: blockHeight)
    }
}

/// Lets the election's finalizer reach the election service created after it.
final class ElectionBox: @unchecked Sendable {
    private let lock = Mutex<LeaderElectionService?>(nil)
    var service: LeaderElectionService? {
        get { self.lock.withLock { $0 } }
        set { self.lock.withLock { $0 = newValue } }
    }
}

/// A channel's running services.
struct GossipChannelServices: ChannelServices {
    let handle: ChannelDeliverService
    let state: GossipStateProvider
    let runner: Task<Void, Never>

    func stop() async {
        // Delivery first (no new blocks), then the state loop: a commit in progress completes before it returns.
        self.handle.stop()
        await self.handle.waitUntilDelivererEnded()
        self.state.stop()
        self.runner.cancel()
        await self.runner.value
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
