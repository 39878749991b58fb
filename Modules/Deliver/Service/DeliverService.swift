public import ChannelConfig
public import Foundation
public import Logging
public import MSP
public import ServiceLifecycle
import Synchronization
import Wire

/// The peer's deliver client: one `Service` (run it in the process's `ServiceGroup`) that hosts the deliverers of
/// every channel as child tasks, and hands out a ``ChannelDeliverService`` per channel through which leader
/// election (or a static org leader) starts and stops delivery.
///
/// Structured concurrency: a deliverer never runs in a detached task. ``ChannelDeliverService/startDeliverForChannel(finalizer:)``
/// queues a job that ``run()`` starts in its task group; stopping a channel cancels that child; graceful shutdown
/// (or ``stop()``) ends every deliverer, runs their finalizers, and makes ``run()`` return.
public final class DeliverService: Service {
    /// What the deliverers use besides the config: injected so tests control time and randomness.
    public struct Environment: Sendable {
        /// The clock backoff sleeps are measured on.
        public var clock: any Clock<Duration>
        /// Endpoint choice and seek nonces.
        public var random: any DeliverRandomSource
        /// The wall clock for seek request timestamps.
        public var wallClock: @Sendable () -> Date
        /// Metrics.
        public var metrics: DeliverMetrics

        /// The real clock, the system random generator and the global metrics factory.
        public init(
            clock: any Clock<Duration> = ContinuousClock(),
            random: any DeliverRandomSource = SystemDeliverRandomSource(),
            wallClock: @escaping @Sendable () -> Date = { Date() },
            metrics: DeliverMetrics = DeliverMetrics()
        ) {
            self.clock = clock
            self.random = random
            self.wallClock = wallClock
            self.metrics = metrics
        }
    }

    /// A deliverer queued for ``run()``.
    struct Job: Sendable {
        let id: Int
        let body: @Sendable () async -> Void
    }

    private enum State {
        case running(nextJob: Int)
        case stopped
    }

    let config: DeliverConfig
    let signer: any SigningIdentity
    let mspBuilder: MSPBuilder
    let connector: any OrdererConnector
    let environment: Environment
    let logger: Logger
    /// The orderer address overrides, read once (as Fabric reads them at peer start).
    let overrides: [String: OrdererEndpoint]
    /// SHA-256 of the client TLS certificate's DER when client authentication is on (the seek's `tls_cert_hash`).
    let tlsCertificateHash: Data?
    private let state = Mutex(State.running(nextJob: 0))
    private let jobs: AsyncStream<Job>
    private let jobsContinuation: AsyncStream<Job>.Continuation

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - config: the `peer.deliveryclient.*` knobs and the TLS settings.
    ///   - signer: the peer's signing identity; seek requests are signed with it.
    ///   - mspBuilder: builds the MSPs of configs received in config blocks.
    ///   - connector: how streams are opened; a ``GRPCOrdererConnector`` for `config` when nil.
    /// - Throws: ``DeliverError/Code/tls`` when the TLS settings cannot be used.
    public init(
        config: DeliverConfig,
        signer: any SigningIdentity,
        mspBuilder: @escaping MSPBuilder = MSPBuilders.x509,
        connector: (any OrdererConnector)? = nil,
        environment: Environment = Environment(),
        logger: Logger = Logger(label: "deliver")
    ) throws(DeliverError) {
        self.config = config
        self.signer = signer
        self.mspBuilder = mspBuilder
        if let connector {
            self.connector = connector
        } else {
            self.connector = try GRPCOrdererConnector(config: config, logger: logger)
        }
        self.environment = environment
        self.logger = logger
        self.overrides = config.loadAddressOverrides(logger: logger)
        if config.tls.enabled && config.tls.clientAuthRequired {
            guard let pem = config.tls.clientCertificatePEM, let der = PEMCertificates.certificates(in: pem).first
            else {
                throw DeliverError(.tls, "the TLS client certificate is not a PEM certificate")
            }
            self.tlsCertificateHash = Digest.sha256(der)
        } else {
            self.tlsCertificateHash = nil
        }
        (self.jobs, self.jobsContinuation) = AsyncStream.makeStream(of: Job.self)
    }

    /// The delivery handle of channel `channelID`: call it once per channel (at channel initialisation) and keep it;
    /// delivery can then be started and stopped any number of times.
    ///
    /// - Parameters:
    ///   - config: the channel's current config; read at every start (see Docs/deliver.md, D-Q1).
    ///   - ledger: the channel ledger's height and last block hash.
    ///   - handler: where verified blocks go.
    ///   - isStaticLeader: `peer.gossip.orgLeader`: a static leader never gives up reconnecting.
    public func channel(
        _ channelID: String,
        config: @escaping @Sendable () -> ChannelBundle,
        ledger: any BlockHeightProvider,
        handler: ChannelDeliverService.Handler,
        isStaticLeader: Bool
    ) -> ChannelDeliverService {
        ChannelDeliverService(
            channelID: channelID,
            service: self,
            config: config,
            ledger: ledger,
            handler: handler,
            isStaticLeader: isStaticLeader
        )
    }

    /// Runs the deliverers until graceful shutdown, ``stop()`` or cancellation; then every deliverer is stopped and
    /// its finalizer has run.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await job in self.jobs {
                    group.addTask { await job.body() }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        self.stop()
    }

    /// Stops the service: running deliverers are cancelled, no delivery can start any more, and ``run()``
    /// returns once they have ended.
    public func stop() {
        let wasRunning = self.state.withLock { state -> Bool in
            guard case .running = state else { return false }
            state = .stopped
            return true
        }
        if wasRunning {
            self.logger.info("deliver service stopping")
            self.jobsContinuation.finish()
        }
    }

    /// Whether ``stop()`` has been called.
    public var isStopped: Bool {
        self.state.withLock { state in
            if case .stopped = state { return true }
            return false
        }
    }

    /// Queues `body` to run as a child of ``run()``; nil when the service is stopped.
    func submit(_ body: @escaping @Sendable () async -> Void) -> Int? {
        self.state.withLock { state -> Int? in
            guard case .running(let next) = state else { return nil }
            state = .running(nextJob: next + 1)
            self.jobsContinuation.yield(Job(id: next, body: body))
            return next
        }
    }
}
