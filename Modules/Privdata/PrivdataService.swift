import Foundation
public import Gossip
public import GossipState
public import Ledger
public import Logging
internal import SwiftProtobuf
public import TransientStore
public import Wire

/// The private-data services of one channel, built from what PeerCore has at channel creation: the ledger, the
/// transient store, the gossip node, the collection store and the configuration.
///
/// - ``coordinator`` is the GossipState commit loop's ``BlockCommitCoordinator``;
/// - ``blockSource`` is the state-transfer server's ``StateBlockSource`` (private data filtered by eligibility);
/// - ``distribute(txID:data:blockHeight:)`` pushes endorsement-time private data;
/// - ``run()`` answers pull requests, stores pushed private data and runs the reconciler until cancelled.
public final class PrivdataService: Sendable {
    /// The channel.
    public let channelID: String
    /// StoreBlock.
    public let coordinator: PrivdataCoordinator
    /// State-transfer serving.
    public let blockSource: PrivdataBlockSource
    /// Pull (fetching and serving).
    public let puller: PrivateDataPuller
    /// Endorsement-time push.
    public let distributor: PrivateDataDistributor
    /// Reconciliation of old blocks' missing data.
    public let reconciler: Reconciler
    /// Ineligible-to-eligible conversion when this peer joins a collection.
    public let eligibility: CollectionEligibility
    /// The gossip side.
    public let gossip: any PrivdataGossip
    private let accessPolicy: any StateAccessPolicy
    /// Subscribed at creation, so that nothing sent before ``run()`` starts is lost.
    private let messages: AsyncStream<ReceivedMessage>
    private let logger: Logger

    /// Creates the services.
    ///
    /// - Parameters:
    ///   - committer: validation and commit (``LedgerPrivdataCommitter`` over the ledger and the channel's
    ///     validator, or PeerCore's own).
    ///   - accessPolicy: who may push private data to this peer (the channel's Readers, as Fabric's
    ///     `VerifyByChannel`).
    ///   - storePvtDataOfInvalidTx: the StorePvtDataOfInvalidTx capability of the current channel config.
    ///   - clock: time for the pull retry loop, membership polls and the reconciler.
    ///   - metrics: the channel's private-data metrics (default: made by the global metrics factory).
    /// - Throws: ``PrivdataError/Code-swift.struct/badConfiguration`` for a configuration Fabric refuses.
    public init(
        channelID: String,
        ledger: PeerLedger,
        committer: any PrivdataCommitter,
        transientStore: TransientStore,
        gossip: any PrivdataGossip,
        collections: CollectionStore,
        local: LocalPeerIdentity,
        accessPolicy: any StateAccessPolicy,
        config: PrivdataConfig,
        storePvtDataOfInvalidTx: @escaping @Sendable () -> Bool,
        clock: any GossipClock = WallClock(),
        metrics: PrivdataMetrics? = nil,
        logger: Logger = Logger(label: "privdata")
    ) throws(PrivdataError) {
        let config = try config.validated()
        self.channelID = channelID
        self.gossip = gossip
        self.accessPolicy = accessPolicy
        self.messages = gossip.privateMessages()
        var logger = logger
        logger[metadataKey: "channel"] = "\(channelID)"
        self.logger = logger
        let metrics = metrics ?? PrivdataMetrics(channelID: channelID)
        let retriever = PrivateDataRetriever(ledger: ledger, transientStore: transientStore, collections: collections)
        let puller = PrivateDataPuller(
            gossip: gossip,
            retriever: retriever,
            btlPullMargin: config.btlPullMargin,
            clock: clock,
            metrics: metrics,
            logger: logger
        )
        self.puller = puller
        let provider = PrivateDataProvider(
            channelID: channelID,
            collections: collections,
            transientStore: transientStore,
            fetcher: puller,
            local: local,
            config: config,
            clock: clock,
            metrics: metrics,
            logger: logger
        )
        let eligibility = CollectionEligibility(ledger: ledger, collections: collections, local: local, logger: logger)
        self.eligibility = eligibility
        self.coordinator = PrivdataCoordinator(
            channelID: channelID,
            committer: committer,
            provider: provider,
            storePvtDataOfInvalidTx: storePvtDataOfInvalidTx,
            metrics: metrics,
            eligibility: eligibility,
            logger: logger
        )
        self.blockSource = PrivdataBlockSource(ledger: ledger, collections: collections)
        self.distributor = PrivateDataDistributor(
            gossip: gossip,
            collections: collections,
            pushAckTimeout: config.pushAckTimeout,
            metrics: metrics,
            logger: logger
        )
        self.reconciler = Reconciler(
            ledger: ledger,
            collections: collections,
            fetcher: puller,
            config: config,
            clock: clock,
            metrics: metrics,
            logger: logger
        )
    }

    /// Pushes the private data of an endorsed transaction to eligible peers (Fabric's `DistributePrivateData`:
    /// stored locally in the transient store first, then distributed).
    public func distribute(
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) async throws(PrivdataError) {
        try self.coordinator.storePrivateData(txID: txID, data: data, blockHeight: blockHeight)
        try await self.distributor.distribute(txID: txID, data: data, blockHeight: blockHeight)
    }

    /// Serves pull requests, stores pushed private data and reconciles, until the calling task is cancelled.
    /// Call it once: the messages it serves were subscribed to when the service was created. It first converts
    /// the missing records of collections this peer became eligible for while it was down (or just before a crash).
    public func run() async {
        do {
            try self.eligibility.convert()
        } catch {
            self.logger.error("cannot check collection eligibility: \(error)")
        }
        let messages = self.messages
        await withDiscardingTaskGroup { group in
            group.addTask { await self.reconciler.run() }
            group.addTask {
                for await received in messages {
                    switch received.message.message.content {
                    case .privateReq: self.puller.handleRequest(received)
                    case .privateData: self.handlePush(received)
                    default: continue
                    }
                }
            }
        }
    }

    /// Stores a pushed `PrivateDataMessage` in the transient store and acknowledges it (spec §5.1, receiving
    /// side): pushes from peers outside the channel's Readers are refused with an error ack; an empty payload or
    /// rwset is ignored without an ack.
    public func handlePush(_ received: ReceivedMessage) {
        guard case .privateData(let push)? = received.message.message.content, received.channel == self.channelID
        else { return }
        guard push.hasPayload, !push.payload.privateRwset.isEmpty else {
            self.logger.debug("ignoring an empty private data push from \(received.connection.endpoint)")
            return
        }
        do {
            try self.accessPolicy.authorize(StateRequester(connection: received.connection), channel: self.channelID)
        } catch {
            self.logger.warning("refusing private data pushed by \(received.connection.endpoint): \(error)")
            self.gossip.acknowledge(received, error: "\(error)")
            return
        }
        let payload = push.payload
        var collection = Rwset_CollectionPvtReadWriteSet()
        collection.collectionName = payload.collectionName
        collection.rwset = payload.privateRwset
        var ns = Rwset_NsPvtReadWriteSet()
        ns.namespace = payload.namespace
        ns.collectionPvtRwset = [collection]
        var data = Transientstore_TxPvtReadWriteSetWithConfigInfo()
        data.endorsedAt = payload.privateSimHeight
        data.pvtRwset.nsPvtRwset = [ns]
        data.collectionConfigs = [payload.namespace: payload.collectionConfigs]
        do {
            try self.coordinator.storePrivateData(txID: payload.txID, data: data, blockHeight: payload.privateSimHeight)
            self.gossip.acknowledge(received, error: "")
        } catch {
            self.logger.error("cannot store pushed private data of tx \(payload.txID): \(error)")
            self.gossip.acknowledge(received, error: "\(error)")
        }
    }
}
