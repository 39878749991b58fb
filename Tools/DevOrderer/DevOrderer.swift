public import ChannelConfig
public import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Ledger
public import Logging
public import MSP
public import ServiceLifecycle
import SwiftProtobuf
import Synchronization
public import Wire

/// A development ordering service: `orderer.AtomicBroadcast` Broadcast and Deliver for channels created from genesis
/// blocks, blocks cut by each channel's `BatchSize` and `BatchTimeout` and signed with the orderer's identity (so
/// they pass the peer's `/Channel/Orderer/BlockValidation` check), stored with the Ledger's block store.
///
/// It is a stand-in for a Fabric orderer during development (one node, no consensus); the peer must behave the same
/// against a real one. See Docs/devorderer.md.
///
/// ```swift
/// let orderer = try DevOrderer(configuration: configuration, signer: ordererIdentity)
/// try await DevOrderer.withRunning(orderer) { address in … }   // or run() in a ServiceGroup
/// ```
public final class DevOrderer: Service, Sendable {
    private enum Lifecycle {
        case idle
        case running
        case stopped
    }

    private struct Listening {
        var address: String?
        var failure: String?
    }

    /// The configuration the orderer was made with.
    public let configuration: DevOrdererConfiguration
    /// The identity that signs blocks and CONFIG envelopes.
    public let signer: any SigningIdentity
    private let mspBuilder: MSPBuilder
    private let clock: any Clock<Duration>
    private let wallClock: @Sendable () -> Date
    private let logger: Logger
    private let lock: DirectoryLock
    private let channels = Mutex<[String: OrdererChannel]>([:])
    /// What is left of ``DevOrdererConfiguration/tamperedSignatures``.
    private let tamperBudget: Mutex<[UInt64: Int]>
    private let lifecycle = Mutex(Lifecycle.idle)
    private let listening = Mutex(Listening())
    private let bound = OneShotSignal()
    private let shutdown = OneShotSignal()
    private let newChannels: AsyncStream<OrdererChannel>
    private let newChannelsContinuation: AsyncStream<OrdererChannel>.Continuation

    /// Opens the data directory, resumes every stored channel and creates the channels of
    /// `configuration.genesisBlocks`.
    ///
    /// - Parameters:
    ///   - signer: the orderer's identity; it must satisfy each channel's `/Channel/Orderer/BlockValidation`.
    ///   - mspBuilder: builds the MSPs of channel configs.
    ///   - clock: the clock of the batch timers (a test clock makes BatchTimeout deterministic).
    ///   - wallClock: the time for envelope timestamps, the Deliver time window and certificate expiry.
    public init(
        configuration: DevOrdererConfiguration,
        signer: any SigningIdentity,
        mspBuilder: @escaping MSPBuilder = MSPBuilders.x509,
        clock: any Clock<Duration> = ContinuousClock(),
        wallClock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "dev-orderer")
    ) throws(DevOrdererError) {
        self.configuration = configuration
        self.tamperBudget = Mutex(configuration.tamperedSignatures)
        self.signer = signer
        self.mspBuilder = mspBuilder
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
        do {
            try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw DevOrdererError(
                .badConfiguration,
                "cannot create the data directory \(configuration.dataDirectory.path)",
                cause: error
            )
        }
        self.lock = try DirectoryLock(directory: configuration.dataDirectory)
        (self.newChannels, self.newChannelsContinuation) = AsyncStream.makeStream(of: OrdererChannel.self)
        _ = try ListenAddress(configuration.listenAddress)

        let genesisByChannel = try Dictionary(
            configuration.genesisBlocks.map { block throws(DevOrdererError) in (try Self.channelID(of: block), block) },
            uniquingKeysWith: { first, _ in first }
        )
        for channelID in ChannelStorage.existingChannels(configuration.dataDirectory)
        where genesisByChannel[channelID] == nil {
            try self.resume(channelID: channelID)
        }
        for block in configuration.genesisBlocks {
            try self.addChannel(genesisBlock: block)
        }
    }

    // MARK: Channels

    /// The channel ids served, sorted.
    public var channelIDs: [String] { self.channels.withLock { $0.keys.sorted() } }

    /// The channel `channelID`, if served.
    public func channel(_ channelID: String) -> OrdererChannel? { self.channels.withLock { $0[channelID] } }

    /// Serves the channel of `genesisBlock` (block 0 of a channel, as configtxgen or netgen write it), creating its
    /// chain or resuming the stored one. Adding a channel that is already served with the same genesis block returns
    /// it; with another genesis block is an error. Works before and while the orderer runs.
    @discardableResult
    public func addChannel(genesisBlock: Common_Block) throws(DevOrdererError) -> OrdererChannel {
        let channelID = try Self.channelID(of: genesisBlock)
        guard genesisBlock.header.number == 0 else {
            throw DevOrdererError(
                .badGenesisBlock,
                "block \(genesisBlock.header.number) of channel \(channelID) is not a genesis block (block 0)"
            )
        }
        if let existing = self.channel(channelID) {
            guard let stored = try? existing.store.block(number: 0), stored.headerHash == genesisBlock.headerHash else {
                throw DevOrdererError(
                    .channelConflict,
                    "channel \(channelID) is already served with another genesis block"
                )
            }
            return existing
        }
        let genesisBundle: ChannelBundle
        do {
            genesisBundle = try ChannelBundle(configBlock: genesisBlock, mspBuilder: self.mspBuilder)
        } catch {
            throw DevOrdererError(
                .badGenesisBlock,
                "the genesis block of channel \(channelID) does not hold a usable config: \(reason(error))",
                cause: error
            )
        }
        guard genesisBundle.orderer != nil else {
            throw DevOrdererError(.badGenesisBlock, "the config of channel \(channelID) has no orderer section")
        }
        // Before anything is stored: a refused channel must not be left behind in the data directory.
        try self.checkSigner(genesisBundle)
        let store = try ChannelStorage.open(
            self.configuration.dataDirectory,
            channelID: channelID,
            configuration: self.configuration.blockStore,
            logger: self.logger
        )
        if store.height == 0 {
            do {
                try store.append(genesisBlock)
            } catch {
                throw DevOrdererError(
                    .storage,
                    "cannot store the genesis block of channel \(channelID): \(reason(error))",
                    cause: error
                )
            }
        } else {
            let stored = try? store.block(number: 0)
            guard stored?.headerHash == genesisBlock.headerHash else {
                throw DevOrdererError(
                    .channelConflict,
                    "channel \(channelID) is stored in \(self.configuration.dataDirectory.path) with another genesis "
                        + "block; remove \(ChannelStorage.directory(self.configuration.dataDirectory, channelID: channelID).path) to start it anew"
                )
            }
        }
        return try self.register(channelID: channelID, store: store)
    }

    /// Resumes a stored channel whose genesis block was not given again.
    private func resume(channelID: String) throws(DevOrdererError) {
        let store = try ChannelStorage.open(
            self.configuration.dataDirectory,
            channelID: channelID,
            configuration: self.configuration.blockStore,
            logger: self.logger
        )
        guard store.height > 0 else {
            self.logger.warning("channel \(channelID) has a folder but no genesis block; it is not served")
            return
        }
        try self.register(channelID: channelID, store: store)
    }

    /// The channel's current config from its chain (the config block named by the last block), checked against the
    /// orderer's identity, then served.
    @discardableResult
    private func register(channelID: String, store: BlockStore) throws(DevOrdererError) -> OrdererChannel {
        let bundle: ChannelBundle
        let lastConfig: UInt64
        do {
            guard let last = try store.block(number: store.height - 1) else {
                throw DevOrdererError(.storage, "block \(store.height - 1) is missing")
            }
            lastConfig = try last.header.number == 0 ? 0 : BlockVerifier.lastConfigIndex(last)
            guard let configBlock = try store.block(number: lastConfig) else {
                throw DevOrdererError(.storage, "config block \(lastConfig) is missing")
            }
            bundle = try ChannelBundle(configBlock: configBlock, mspBuilder: self.mspBuilder)
        } catch {
            throw DevOrdererError(
                .storage,
                "cannot read the current config of channel \(channelID) from its chain: \(reason(error))",
                cause: error
            )
        }
        try self.checkSigner(bundle)
        let channel = OrdererChannel(
            channelID: channelID,
            store: store,
            bundle: bundle,
            lastConfig: lastConfig,
            signer: self.signer,
            mspBuilder: self.mspBuilder,
            wallClock: self.wallClock,
            logger: self.logger
        )
        let added = self.channels.withLock { channels -> Bool in
            guard channels[channelID] == nil else { return false }
            channels[channelID] = channel
            return true
        }
        guard added else {
            throw DevOrdererError(.channelConflict, "channel \(channelID) was added twice at the same time")
        }
        if case .terminated = self.newChannelsContinuation.yield(channel) {
            channel.finish()
        }
        self.logger.info(
            "serving channel \(channelID): height \(store.height), last config block \(lastConfig), config sequence \(bundle.sequence)"
        )
        return channel
    }

    /// The orderer's signatures must satisfy the channel's BlockValidation policy, or every peer would refuse its
    /// blocks.
    private func checkSigner(_ bundle: ChannelBundle) throws(DevOrdererError) {
        let probe = Data("dev-orderer block validation probe".utf8)
        do {
            let signature = try self.signer.sign(probe)
            try bundle.policyManager.evaluate(
                ChannelBundle.PolicyPath.blockValidation,
                signedData: [SignedData(data: probe, identity: self.signer.serialized, signature: signature)]
            )
        } catch {
            throw DevOrdererError(
                .badConfiguration,
                "the orderer identity (MSP \(self.signer.mspID)) does not satisfy "
                    + "\(ChannelBundle.PolicyPath.blockValidation) of channel \(bundle.channelID), so peers would "
                    + "refuse its blocks: \(reason(error))",
                cause: error
            )
        }
    }

    static func channelID(of block: Common_Block) throws(DevOrdererError) -> String {
        do {
            guard let first = block.data.data.first else {
                throw DevOrdererError(.badGenesisBlock, "block \(block.header.number) holds no transaction")
            }
            return try Common_Envelope(decoding: first, field: "block.data[0]").unpackPayload().unpackChannelHeader()
                .channelID
        } catch let error as DevOrdererError {
            throw error
        } catch {
            throw DevOrdererError(
                .badGenesisBlock,
                "block \(block.header.number) does not name a channel: \(reason(error))",
                cause: error
            )
        }
    }

    // MARK: Serving

    /// The `orderer.AtomicBroadcast` service, for a process that runs its own gRPC server (``run()`` serves it
    /// already).
    public var service: AtomicBroadcastService {
        AtomicBroadcastService(
            lookup: { [weak self] id in self?.channel(id) },
            deliverHandler: DeliverHandler(
                lookup: { [weak self] id in self?.channel(id) },
                timeWindow: self.configuration.timeWindow,
                wallClock: self.wallClock,
                logger: self.logger,
                tamper: { [weak self] block in self?.tampered(block) ?? block }
            ),
            shutdown: self.shutdown,
            logger: self.logger
        )
    }

    /// `block` as it goes out: with its first orderer signature broken while the tamper budget of its number lasts
    /// (``DevOrdererConfiguration/tamperedSignatures``), otherwise unchanged.
    private func tampered(_ block: Common_Block) -> Common_Block {
        let number = block.header.number
        let tamper = self.tamperBudget.withLock { budget -> Bool in
            guard let left = budget[number], left > 0 else { return false }
            budget[number] = left - 1
            return true
        }
        guard tamper, block.metadata.metadata.count > 0,
            var signatures = try? Common_Metadata(serializedBytes: block.metadata.metadata[0]),
            !signatures.signatures.isEmpty, signatures.signatures[0].signature.count > 8
        else { return block }
        signatures.signatures[0].signature[8] ^= 0x01
        var copy = block
        guard let bytes = try? signatures.serializedData() else { return block }
        copy.metadata.metadata[0] = bytes
        self.logger.warning("fault injection: delivering block \(number) with a broken orderer signature")
        return copy
    }

    /// The address the orderer listens on (`host:port`, with the port chosen when the configuration asked for port 0);
    /// waits until ``run()`` has bound it.
    public func listeningAddress() async throws(DevOrdererError) -> String {
        await self.bound.wait()
        let listening = self.listening.withLock { $0 }
        if let address = listening.address { return address }
        throw DevOrdererError(
            .badConfiguration,
            "the orderer is not listening: \(listening.failure ?? "it was stopped before it bound its address")"
        )
    }

    /// Serves Broadcast and Deliver and runs every channel's ordering loop until graceful shutdown (SIGTERM in a
    /// `ServiceGroup`), ``stop()`` or cancellation. Call it once.
    public func run() async throws {
        let start = self.lifecycle.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .running
            return true
        }
        guard start else { throw DevOrdererError(.stopped, "the orderer has already run") }
        let listen = try ListenAddress(self.configuration.listenAddress)
        let transport = HTTP2ServerTransport.Posix(
            address: listen.socketAddress,
            transportSecurity: try self.transportSecurity(),
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = self.configuration.maxMessageBytes
            }
        )
        let server = GRPCServer(transport: transport, services: [self.service])
        defer {
            self.lifecycle.withLock { $0 = .stopped }
            self.shutdown.fire()
            self.newChannelsContinuation.finish()
            for channel in self.channels.withLock({ Array($0.values) }) { channel.finish() }
            self.bound.fire()
        }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    await withDiscardingTaskGroup { loops in
                        for await channel in self.newChannels {
                            let clock = self.clock
                            loops.addTask { await channel.run(clock: clock) }
                        }
                    }
                }
                group.addTask {
                    do {
                        try await server.serve()
                    } catch {
                        self.listening.withLock {
                            $0.failure = "cannot serve on \(self.configuration.listenAddress): \(error)"
                        }
                        self.bound.fire()
                        throw DevOrdererError(
                            .badConfiguration,
                            "cannot serve on \(self.configuration.listenAddress): \(error)",
                            cause: error
                        )
                    }
                }
                group.addTask {
                    // When binding fails, serve() throws with the reason and fires `bound` itself.
                    if let address = try? await transport.listeningAddress {
                        let text = ListenAddress.text(of: address, requested: listen)
                        self.listening.withLock { $0.address = text }
                        self.logger.info("dev-orderer listening on \(text)")
                        self.bound.fire()
                    }
                }
                await self.shutdown.wait()
                server.beginGracefulShutdown()
                self.newChannelsContinuation.finish()
                for channel in self.channels.withLock({ Array($0.values) }) { channel.finish() }
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Stops a running orderer (``run()`` returns once every stream and loop has ended); stopping before ``run()``
    /// makes it refuse to start.
    public func stop() {
        self.lifecycle.withLock { state in
            if case .idle = state { state = .stopped }
        }
        self.shutdown.fire()
    }

    /// Runs `orderer` for the duration of `body`, which gets its listening address; then stops it and waits for
    /// ``run()`` to return.
    public static func withRunning<T: Sendable>(
        _ orderer: DevOrderer,
        _ body: @Sendable (_ address: String) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await orderer.run()
                return nil
            }
            do {
                let address = try await orderer.listeningAddress()
                let result = try await body(address)
                orderer.stop()
                while try await group.next() != nil {}
                return result
            } catch {
                orderer.stop()
                while (try? await group.next()) != nil {}
                throw error
            }
        }
    }

    private func transportSecurity() throws(DevOrdererError) -> HTTP2ServerTransport.Posix.TransportSecurity {
        guard let tls = self.configuration.tls else { return .plaintext }
        let chain: [TLSConfig.CertificateSource] = [.bytes(Array(tls.certificateChainPEM), format: .pem)]
        let key = TLSConfig.PrivateKeySource.bytes(Array(tls.privateKeyPEM), format: .pem)
        if let clientCAs = tls.clientRootCAsPEM {
            return .mTLS(certificateChain: chain, privateKey: key) { config in
                config.trustRoots = .certificates(clientCAs.map { .bytes(Array($0), format: .pem) })
            }
        }
        return .tls(certificateChain: chain, privateKey: key)
    }
}
