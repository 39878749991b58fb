public import ChannelConfig
import Foundation
import Logging
import Synchronization
import Wire

/// Delivery of blocks from the ordering service for one channel (Fabric's per-channel `DeliverService`):
/// ``startDeliverForChannel(finalizer:)`` when the peer becomes the channel's leader (or at once for a static org
/// leader), ``stopDeliverForChannel()`` when it stops being one, ``stop()`` when the channel or the peer shuts down.
///
/// Created by ``DeliverService/channel(_:config:ledger:handler:isStaticLeader:)``; the deliverer runs as a child task
/// of ``DeliverService/run()``.
public final class ChannelDeliverService: Sendable {
    /// Where the channel's verified blocks go.
    public enum Handler: Sendable {
        /// Fabric's gossip hand-off: every block to gossip state, and also pushed to the org's peers when
        /// `blockGossipEnabled` is on and the channel is CFT (see ``GossipBlockHandler``).
        case gossip(sink: any GossipPayloadSink, gossiper: any BlockGossiper)
        /// Any other handler, used as is.
        case custom(any BlockHandler)
    }

    /// What kind of deliverer a channel config asks for.
    public enum DelivererKind: Sendable, Hashable {
        /// etcdraft (or BFT with policy `simple`): Fabric's CFT deliverer.
        case cft
        /// BFT with policy `cluster`: served by the CFT loop (the censorship monitor is not implemented), with
        /// BFT's rules: never gives up, no block gossip.
        case bftWithoutCensorshipMonitor
    }

    private struct Running {
        let job: Int
        let stopSignal: OneShotSignal
        let finished: OneShotSignal
    }

    private enum State {
        case idle
        case starting
        case running(Running)
        case stopped
    }

    /// The channel.
    public let channelID: String
    /// Whether the peer is a static org leader (never gives up reconnecting).
    public let isStaticLeader: Bool
    private let service: DeliverService
    private let config: @Sendable () -> ChannelBundle
    private let ledger: any BlockHeightProvider
    private let handler: Handler
    private let logger: Logger
    private let state = Mutex(State.idle)

    init(
        channelID: String,
        service: DeliverService,
        config: @escaping @Sendable () -> ChannelBundle,
        ledger: any BlockHeightProvider,
        handler: Handler,
        isStaticLeader: Bool
    ) {
        self.channelID = channelID
        self.service = service
        self.config = config
        self.ledger = ledger
        self.handler = handler
        self.isStaticLeader = isStaticLeader
        var logger = service.logger
        logger[metadataKey: "channel"] = "\(channelID)"
        self.logger = logger
    }

    /// The deliverer a config asks for, or an error for a config without orderer section or with an unsupported
    /// consensus type.
    public static func delivererKind(
        for bundle: ChannelBundle,
        policy: DeliverConfig.Policy
    ) throws(DeliverError) -> DelivererKind {
        guard let orderer = bundle.orderer else {
            throw DeliverError(.badConfig, "channel \(bundle.channelID) config has no orderer section")
        }
        switch orderer.consensusType.type {
        case "etcdraft":
            return .cft
        case "BFT":
            return policy == .simple ? .cft : .bftWithoutCensorshipMonitor
        default:
            throw DeliverError(
                .badConfig,
                "channel \(bundle.channelID): unsupported consensus type '\(orderer.consensusType.type)'"
            )
        }
    }

    /// Whether a deliverer is currently running (started and not yet ended by itself or stopped).
    public var isDelivering: Bool {
        self.state.withLock { state in
            if case .running(let running) = state { return !running.finished.isFired }
            return false
        }
    }

    /// Starts pulling blocks from the ordering service.
    ///
    /// The deliverer is built from the channel's **current** config (endpoints and verifier) and the ledger's tip;
    /// it runs until ``stopDeliverForChannel()``, ``stop()``, the service's shutdown, or until it gives up (an
    /// elected leader whose reconnections exceed `reconnectTotalTimeThreshold`). When it ends, `finalizer` runs
    /// (leader election passes its yield). A deliverer that ended by itself still counts as started until
    /// ``stopDeliverForChannel()`` is called, as in Fabric.
    ///
    /// - Throws: `stopping` after ``stop()`` or once the service stopped; `alreadyRunning`; `badConfig` for a config
    ///   without orderer section or with an unknown consensus type; `ledger` when the height is 0 or unreadable.
    public func startDeliverForChannel(finalizer: @escaping @Sendable () -> Void) async throws(DeliverError) {
        guard !self.service.isStopped else {
            throw DeliverError(.stopping, "deliver service is stopped; cannot deliver blocks for \(self.channelID)")
        }
        try self.state.withLock { state throws(DeliverError) in
            switch state {
            case .stopped:
                throw DeliverError(.stopping, "delivery service for channel \(self.channelID) is stopping")
            case .running, .starting:
                throw DeliverError(.alreadyRunning, "block deliverer for channel \(self.channelID) already exists")
            case .idle:
                state = .starting
            }
        }
        do {
            let running = try await self.makeAndSubmit(finalizer: finalizer)
            let cancelled = self.state.withLock { state -> Bool in
                guard case .starting = state else { return true }
                state = .running(running)
                return false
            }
            if cancelled { running.stopSignal.fire() }
        } catch {
            self.state.withLock { state in
                if case .starting = state { state = .idle }
            }
            throw error
        }
    }

    /// Stops the running deliverer; delivery can be started again later.
    ///
    /// - Throws: `stopping` after ``stop()``; `notRunning` when delivery was not started.
    public func stopDeliverForChannel() throws(DeliverError) {
        let running = try self.state.withLock { state throws(DeliverError) -> Running in
            switch state {
            case .stopped:
                throw DeliverError(.stopping, "delivery service for channel \(self.channelID) is stopping")
            case .idle, .starting:
                throw DeliverError(.notRunning, "block deliverer for channel \(self.channelID) does not exist")
            case .running(let running):
                state = .idle
                return running
            }
        }
        self.logger.info("stopping block delivery")
        running.stopSignal.fire()
    }

    /// Stops delivery for good: the running deliverer (if any) stops and no start succeeds any more.
    public func stop() {
        let running = self.state.withLock { state -> Running? in
            defer { state = .stopped }
            if case .running(let running) = state { return running }
            return nil
        }
        running?.stopSignal.fire()
    }

    /// Waits until the current deliverer (if any) has ended and its finalizer has run.
    public func waitUntilDelivererEnded() async {
        let finished = self.state.withLock { state -> OneShotSignal? in
            if case .running(let running) = state { return running.finished }
            return nil
        }
        await finished?.wait()
    }

    private func makeAndSubmit(finalizer: @escaping @Sendable () -> Void) async throws(DeliverError) -> Running {
        let bundle = self.config()
        guard bundle.channelID == self.channelID else {
            throw DeliverError(.badConfig, "config of channel \(bundle.channelID) given for channel \(self.channelID)")
        }
        let kind = try Self.delivererKind(for: bundle, policy: self.service.config.policy)
        if kind == .bftWithoutCensorshipMonitor {
            self.logger.warning(
                """
                BFT channel with deliver policy 'cluster': the censorship monitor is not implemented; pulling blocks \
                with the CFT deliverer (no block gossip, never yields)
                """
            )
        }
        let tip: LedgerTip
        do {
            tip = try await self.ledger.ledgerTip()
        } catch {
            throw DeliverError(.ledger, "could not read the ledger height of channel \(self.channelID)", cause: error)
        }
        guard tip.height > 0 else {
            throw DeliverError(.ledger, "ledger of channel \(self.channelID) has height 0; it needs the genesis block")
        }
        let service = self.service
        let source = OrdererConnectionSource(overrides: service.overrides, logger: self.logger)
        source.update(OrdererAddressConfig(bundle: bundle))
        let handler: any BlockHandler
        switch self.handler {
        case .custom(let custom):
            handler = custom
        case .gossip(let sink, let gossiper):
            handler = GossipBlockHandler(
                sink: sink,
                gossiper: gossiper,
                blockGossipEnabled: service.config.blockGossipEnabled && kind == .cft
            )
        }
        let deliverer = Deliverer(
            channelID: self.channelID,
            ledger: self.ledger,
            handler: handler,
            verifier: UpdatableBlockVerifier(bundle: bundle, tip: tip, mspBuilder: service.mspBuilder),
            source: source,
            connector: service.connector,
            signer: service.signer,
            tlsCertificateHash: service.tlsCertificateHash,
            random: service.environment.random,
            clock: service.environment.clock,
            wallClock: service.environment.wallClock,
            policy: RetryPolicy(
                maxRetryInterval: service.config.reConnectBackoffThreshold,
                maxRetryDuration: service.config.reconnectTotalTimeThreshold,
                yieldsOnGiveUp: !self.isStaticLeader && kind == .cft
            ),
            logger: self.logger,
            metrics: service.environment.metrics
        )
        let stopSignal = OneShotSignal()
        let finished = OneShotSignal()
        let logger = self.logger
        let job = service.submit {
            logger.info("starting block delivery from the ordering service (\(kind))")
            let exit = await withTaskGroup(of: Deliverer.Exit?.self) { group in
                group.addTask { await deliverer.run() }
                group.addTask {
                    await stopSignal.wait()
                    return nil
                }
                var exit = Deliverer.Exit.stopped
                while let next = await group.next() {
                    guard let next else {
                        group.cancelAll()  // stopped: cancel the deliverer and collect its exit
                        continue
                    }
                    exit = next
                    break
                }
                group.cancelAll()
                return exit
            }
            logger.info("block delivery ended: \(exit)")
            finalizer()
            finished.fire()
        }
        guard let job else {
            throw DeliverError(.stopping, "deliver service is stopped; cannot deliver blocks for \(self.channelID)")
        }
        return Running(job: job, stopSignal: stopSignal, finished: finished)
    }
}
