public import ChannelConfig
import Deliver
import Foundation
public import Ledger
public import Logging
import MSP
import Synchronization
public import Wire

/// The peer (Fabric's `peer.Peer`): the ledgers, the joined channels and the services each channel runs.
///
/// ``initialize()`` opens every existing ledger and creates its channel (a ledger that fails to open is logged and
/// skipped, as Fabric does); ``joinChannel(block:)`` creates a ledger from a genesis block while running. Channel
/// services (block delivery, gossip, election, state) are started by the ``ChannelServiceFactory``.
public final class Peer: AdminBackend, Sendable {
    /// The configuration.
    public let configuration: PeerConfiguration
    /// The local MSP and signing identity.
    public let identity: LocalIdentity
    /// The ledgers.
    public let ledgers: LedgerManager
    let services: any ChannelServiceFactory
    let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var channels: [String: Joined] = [:]
        var joining: Set<String> = []
        var stopped = false
    }

    private struct Joined: Sendable {
        let channel: PeerChannel
        let services: any ChannelServices
    }

    /// Creates the peer over the ledgers in `configuration.ledgersDirectory`.
    public init(
        configuration: PeerConfiguration,
        identity: LocalIdentity,
        services: any ChannelServiceFactory,
        logger: Logger = Logger(label: "peer")
    ) throws(PeerCoreError) {
        self.configuration = configuration
        self.identity = identity
        self.services = services
        self.logger = logger
        do {
            self.ledgers = try LedgerManager(
                rootDirectory: configuration.ledgersDirectory,
                logger: Logger(label: "ledger")
            )
        } catch {
            throw PeerCoreError(
                .unavailable,
                "cannot open the ledgers under \(configuration.ledgersDirectory.path)",
                cause: error
            )
        }
    }

    /// Opens every existing ledger and starts its channel; a channel that cannot start is logged and skipped.
    public func initialize() async {
        let ids: [String]
        do {
            ids = try self.ledgers.ledgerIDs()
        } catch {
            self.logger.error("cannot list the ledgers", metadata: ["error": "\(error)"])
            return
        }
        for id in ids {
            do {
                let ledger = try self.ledgers.openLedger(id: id)
                try await self.start(ledger: ledger)
                self.logger.info("channel started", metadata: ["channel": "\(id)", "height": "\(ledger.height)"])
            } catch {
                self.logger.error(
                    "failed to load ledger; the channel is skipped",
                    metadata: ["channel": "\(id)", "error": "\(error)"]
                )
            }
        }
    }

    /// Joins the channel that genesis block `block` starts: checks the block and its config, creates the ledger,
    /// and starts the channel.
    ///
    /// - Throws: ``PeerCoreError/Code/badBlock`` (not a genesis config block), ``PeerCoreError/Code/unsupportedChannel``,
    ///   ``PeerCoreError/Code/channelExists``.
    public func joinChannel(block: Common_Block) async throws(PeerCoreError) -> String {
        let id = try Self.checkGenesis(block)
        try self.state.withLock { (state) throws(PeerCoreError) in
            if state.stopped { throw PeerCoreError(.unavailable, "the peer is shutting down") }
            if state.channels[id] != nil || state.joining.contains(id) || self.ledgers.ledgerExists(id: id) {
                throw PeerCoreError(.channelExists, "the peer has already joined channel \(id)")
            }
            state.joining.insert(id)
        }
        defer { _ = self.state.withLock { $0.joining.remove(id) } }
        let ledger: PeerLedger
        do {
            ledger = try self.ledgers.createLedger(genesisBlock: block)
        } catch {
            throw PeerCoreError(.unavailable, "cannot create the ledger of channel \(id)", cause: error)
        }
        try await self.start(ledger: ledger)
        self.logger.info("joined channel", metadata: ["channel": "\(id)"])
        return id
    }

    /// The channel id of genesis block `block`, after checking it is a block 0 holding one valid CONFIG envelope
    /// whose config a peer can serve.
    static func checkGenesis(_ block: Common_Block) throws(PeerCoreError) -> String {
        guard block.header.number == 0 else {
            throw PeerCoreError(
                .badBlock,
                "a channel is joined with its genesis block (number 0); block \(block.header.number) was given"
            )
        }
        guard block.header.dataHash == block.data.hash else {
            throw PeerCoreError(.badBlock, "the genesis block's data hash does not match its data")
        }
        guard block.data.data.count == 1 else {
            throw PeerCoreError(
                .badBlock,
                "a genesis block holds exactly one CONFIG transaction; this one holds \(block.data.data.count)"
            )
        }
        let envelope: TransactionEnvelope
        let config: Common_ConfigEnvelope
        do {
            envelope = try TransactionEnvelope(bytes: block.data.data[0])
            guard envelope.channelHeader.headerType == .config else {
                throw PeerCoreError(.badBlock, "the genesis block's transaction is not a CONFIG transaction")
            }
            config = try envelope.payload.unpackConfigEnvelope()
        } catch let error as PeerCoreError {
            throw error
        } catch {
            throw PeerCoreError(.badBlock, "the genesis block holds no readable config envelope", cause: error)
        }
        let id = envelope.channelHeader.channelID
        do {
            let bundle = try ChannelBundle(channelID: id, config: config.config, mspBuilder: MSPBuilders.x509)
            try PeerChannel.checkSupported(bundle)
        } catch let error as PeerCoreError {
            throw error
        } catch {
            throw PeerCoreError(.unsupportedChannel, "channel \(id)'s genesis config is not valid", cause: error)
        }
        return id
    }

    private func start(ledger: PeerLedger) async throws(PeerCoreError) {
        let id = ledger.ledgerID
        let hooks = self.services.configCallbacks(channelID: id)
        let channel = try PeerChannel.create(
            ledger: ledger,
            callbacks: hooks.callbacks,
            logger: Logger(label: "peer.channel.\(id)"),
            onCommit: { channelID, committed in hooks.onCommit(committed) }
        )
        let services = try await self.services.initializeChannel(channel)
        let stopped = self.state.withLock { state in
            if state.stopped { return true }
            state.channels[id] = Joined(channel: channel, services: services)
            return false
        }
        if stopped {
            await services.stop()
            throw PeerCoreError(.unavailable, "the peer is shutting down")
        }
    }

    // MARK: AdminBackend

    public func distributePrivateData(
        channelID: String,
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) async throws {
        guard self.channel(channelID) != nil else {
            throw PeerCoreError(.channelNotFound, "channel \(channelID) is not joined")
        }
        try await self.services.distributePrivateData(
            channelID: channelID,
            txID: txID,
            data: data,
            blockHeight: blockHeight
        )
    }


    public func channelIDs() -> [String] { self.state.withLock { $0.channels.keys.sorted() } }

    public func channelInfo(_ channelID: String) throws(PeerCoreError) -> Swiftpeer_Admin_ChannelInfo {
        guard let channel = self.channel(channelID) else {
            throw PeerCoreError(.channelNotFound, "the peer has not joined channel \(channelID)")
        }
        return try channel.info()
    }

    /// The joined channel `id`.
    public func channel(_ id: String) -> PeerChannel? { self.state.withLock { $0.channels[id]?.channel } }

    /// Stops every channel's services (deliverers end between blocks; a commit in progress completes), then closes
    /// the ledgers.
    public func shutdown() async {
        let joined = self.state.withLock { state in
            state.stopped = true
            return Array(state.channels.values)
        }
        for entry in joined { await entry.services.stop() }
        self.ledgers.close()
        self.logger.info("peer stopped", metadata: ["channels": "\(joined.count)"])
    }
}

/// What a joined channel runs besides its ledger: block delivery, gossip, election, state transfer (Fabric's
/// `GossipService.InitializeChannel` products).
public protocol ChannelServices: Sendable {
    /// Stops everything the channel runs; returns when no further block will be committed by it.
    func stop() async
}

/// The config callbacks and commit hook a channel registers, made before the channel exists.
public struct ChannelHooks: Sendable {
    /// BundleSource callbacks, in order.
    public var callbacks: [BundleSource.Callback]
    /// Runs after each commit.
    public var onCommit: @Sendable (CommittedBlock) -> Void

    public init(callbacks: [BundleSource.Callback] = [], onCommit: @escaping @Sendable (CommittedBlock) -> Void = { _ in }) {
        self.callbacks = callbacks
        self.onCommit = onCommit
    }
}

/// Starts the services of each channel (Fabric's `GossipService`).
public protocol ChannelServiceFactory: Sendable {
    /// The hooks of channel `channelID`, asked for before its ``PeerChannel`` is built.
    func configCallbacks(channelID: String) -> ChannelHooks
    /// Starts the channel's services.
    func initializeChannel(_ channel: PeerChannel) async throws(PeerCoreError) -> any ChannelServices
    /// Fabric's DistributePrivateData for a joined channel.
    func distributePrivateData(
        channelID: String,
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) async throws
}

extension ChannelServiceFactory {
    /// A factory without private-data services refuses distribution.
    public func distributePrivateData(
        channelID: String,
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) async throws {
        throw PeerCoreError(.unavailable, "this peer distributes no private data (channel \(channelID))")
    }
}
