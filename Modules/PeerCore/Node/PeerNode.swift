import Deliver
import Gossip
import Foundation
internal import GRPCCore
internal import GRPCNIOTransportHTTP2
public import Logging
import MSP
import Privdata
public import Prometheus
import TransientStore
public import ServiceLifecycle
import Synchronization

/// A running peer process: the ``Peer`` with its channels, the deliver service, the admin gRPC service and the
/// operations endpoint, as one `Service` for a `ServiceGroup`. Graceful shutdown (SIGTERM) stops the channels first,
/// so a commit in progress completes before the ledgers close.
public final class PeerNode: Service {
    /// The peer.
    public let peer: Peer
    let deliver: DeliverService
    let transport: GRPCGossipTransport
    let node: GossipNode
    let configuration: PeerConfiguration
    let registry: PrometheusCollectorRegistry?
    let logger: Logger
    /// The TLS CAs client certificates must chain to, shared by the gossip and admin servers: the configured
    /// roots plus the TLS CAs of every joined channel's organisations (nil without TLS).
    let trustStore: TLSTrustStore?
    /// The channel services (gossip, state, deliver, private data).
    public let services: GossipService
    private let ports = Mutex<(admin: Int?, operations: Int?)>((nil, nil))
    private let portsReady = AsyncStream<Void>.makeStream()
    private let running = Atomic<Bool>(false)

    /// Builds the peer from `configuration`: the local MSP, the ledgers, the deliver service.
    ///
    /// - Parameter registry: where the operations endpoint reads metrics from (the one bootstrapped into
    ///   swift-metrics); nil serves no `/metrics`.
    public init(
        configuration: PeerConfiguration,
        registry: PrometheusCollectorRegistry? = nil,
        logger: Logger = Logger(label: "peer")
    ) throws(PeerCoreError) {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        let identity = try LocalIdentity(mspDirectory: configuration.mspConfigPath, mspID: configuration.localMSPID)
        do {
            self.deliver = try DeliverService(
                config: try configuration.deliverConfig(),
                signer: identity.signer,
                logger: Logger(label: "deliver")
            )
        } catch let error as PeerCoreError {
            throw error
        } catch {
            throw PeerCoreError(.badConfiguration, "cannot set up block delivery", cause: error)
        }
        // Gossip: MSP-backed message crypto over the local MSP and the channels' MSPs, the gRPC transport on
        // peer.listenAddress (TLS when peer.tls.enabled), and the node.
        let mcs = MSPMessageCryptoService(localMSP: identity.msp, signer: identity.signer)
        let advisor = MSPSecurityAdvisor(localMSP: identity.msp, channels: mcs.channels)
        let gossipConfig = try configuration.gossipConfig()
        let (host, port) = try GRPCAddress.split(configuration.listenAddress)
        do {
            var tls: GRPCGossipTransport.TLS?
            if configuration.tls.enabled, let certificate = configuration.tls.certificate,
                let key = configuration.tls.key
            {
                var roots = configuration.tls.clientRootCAs
                if let root = configuration.tls.rootCertificate { roots.append(root) }
                var material = try GRPCGossipTransport.TLS(
                    certificateFile: certificate,
                    privateKeyFile: key,
                    trustRootFiles: roots
                )
                material.trustStore = try TLSTrustStore(configuredRoots: material.trustRoots)
                tls = material
            }
            self.trustStore = tls?.trustStore
            self.transport = try GRPCGossipTransport(
                configuration: .init(
                    listenHost: host,
                    listenPort: port,
                    identity: identity.serializedIdentity,
                    gossip: gossipConfig,
                    tls: tls
                ),
                mcs: mcs,
                logger: Logger(label: "gossip.comm")
            )
            let core = try GossipCore(
                config: gossipConfig,
                identity: identity.serializedIdentity,
                mcs: mcs,
                advisor: advisor,
                now: WallClock().now,
                seed: UInt64.random(in: 0...UInt64.max),
                logger: Logger(label: "gossip")
            )
            self.node = GossipNode(core: core, transport: self.transport, clock: WallClock())
        } catch {
            throw PeerCoreError(.badConfiguration, "cannot set up gossip", cause: error)
        }
        // Private data: the transient store beside the ledgers, and this peer's self-signed data for the
        // collection access filters.
        let transientStores: TransientStoreProvider
        let localPeer: LocalPeerIdentity
        do {
            transientStores = try TransientStoreProvider(
                directory: configuration.fileSystemPath.appendingPathComponent("transientstore")
            )
            localPeer = try LocalPeerIdentity(mspID: identity.mspID, identity: identity.serializedIdentity) {
                try identity.signer.sign($0)
            }
        } catch {
            throw PeerCoreError(.badConfiguration, "cannot set up private data", cause: error)
        }
        let gossip = GossipService(
            configuration: configuration,
            deliver: self.deliver,
            node: self.node,
            mcs: mcs,
            channelMSPs: mcs.channels,
            trustStore: self.trustStore,
            transientStores: transientStores,
            localPeer: localPeer
        )
        self.services = gossip
        self.peer = try Peer(configuration: configuration, identity: identity, services: gossip, logger: logger)
    }

    /// The admin service's bound port, once listening.
    public var adminPort: Int? { self.ports.withLock { $0.admin } }
    /// The operations endpoint's bound port, once listening.
    public var operationsPort: Int? { self.ports.withLock { $0.operations } }
    /// The gossip server's bound port (peer.listenAddress); waits until it listens.
    public func gossipPort() async -> Int { await self.transport.listeningPort() }

    public func run() async throws {
        self.logger.info(
            "starting peer",
            metadata: [
                "peer": "\(self.configuration.peerID)", "msp": "\(self.configuration.localMSPID)",
                "ledgers": "\(self.configuration.ledgersDirectory.path)",
            ]
        )
        await self.peer.initialize()
        self.running.store(true, ordering: .relaxed)
        let admin = try self.adminServer()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.deliver.run() }
            // Gossip runs until the peer's channels have stopped (their state loops use it to the end).
            let gossip = Task {
                await withDiscardingTaskGroup { gossip in
                    gossip.addTask { try? await self.transport.run() }
                    gossip.addTask { await self.node.run() }
                }
            }
            group.addTask { try await self.serveAdmin(on: admin) }
            if let registry = self.registry, !self.configuration.operations.listenAddress.isEmpty {
                let operations = OperationsServer(
                    address: self.configuration.operations.listenAddress,
                    registry: registry,
                    healthy: { [weak self] in self?.running.load(ordering: .relaxed) ?? false }
                )
                group.addTask {
                    try await cancelWhenGracefulShutdown {
                        try await operations.run { port in self.ports.withLock { $0.operations = port } }
                    }
                }
            }
            // Graceful shutdown: stop the channels (no commit is cut short), then the deliver service.
            group.addTask {
                try? await gracefulShutdown()
                self.running.store(false, ordering: .relaxed)
                self.logger.info("shutting down")
                await self.peer.shutdown()
                self.deliver.stop()
                gossip.cancel()
                await gossip.value
            }
            try await group.waitForAll()
        }
    }

    private func serveAdmin(on transport: HTTP2ServerTransport.Posix) async throws {
        let server = GRPCServer(transport: transport, services: [self.adminService()])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            if let address = try await transport.listeningAddress.ipv4 {
                self.ports.withLock { $0.admin = address.port }
                self.logger.info("admin service listening", metadata: ["address": "\(address)"])
            } else if let address = try await transport.listeningAddress.ipv6 {
                self.ports.withLock { $0.admin = address.port }
                self.logger.info("admin service listening", metadata: ["address": "\(address)"])
            }
            try? await gracefulShutdown()
            server.beginGracefulShutdown()
        }
    }

    private func adminService() -> AdminService {
        AdminService(
            backend: self.peer,
            localMSP: self.peer.identity.msp,
            timeWindow: self.configuration.authenticationTimeWindow,
            logger: Logger(label: "peer.admin"),
            now: { Date() }
        )
    }

    private func adminServer() throws(PeerCoreError) -> HTTP2ServerTransport.Posix {
        let address = try GRPCAddress.bindAddress(self.configuration.adminListenAddress)
        let tls = self.configuration.tls
        guard tls.enabled, let certificate = tls.certificate, let key = tls.key else {
            return HTTP2ServerTransport.Posix(address: address, transportSecurity: .plaintext)
        }
        let chain: [TLSConfig.CertificateSource] = [.file(path: certificate.path, format: .pem)]
        let privateKey = TLSConfig.PrivateKeySource.file(path: key.path, format: .pem)
        guard tls.clientAuthRequired else {
            return HTTP2ServerTransport.Posix(
                address: address,
                transportSecurity: .tls(certificateChain: chain, privateKey: privateKey)
            )
        }
        guard let trustStore = self.trustStore else {
            throw PeerCoreError(.badConfiguration, "peer.tls.clientAuthRequired is set but TLS has no trust roots")
        }
        // The same roots as gossip, current at each handshake (the trusted-roots callback keeps them).
        return HTTP2ServerTransport.Posix(
            address: address,
            transportSecurity: trustStore.mutualTLSServerSecurity(certificateChain: chain, privateKey: privateKey)
        )
    }
}
