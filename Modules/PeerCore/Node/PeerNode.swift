import Deliver
import Foundation
internal import GRPCCore
internal import GRPCNIOTransportHTTP2
public import Logging
import MSP
public import Prometheus
public import ServiceLifecycle
import Synchronization

/// A running peer process: the ``Peer`` with its channels, the deliver service, the admin gRPC service and the
/// operations endpoint, as one `Service` for a `ServiceGroup`. Graceful shutdown (SIGTERM) stops the channels first,
/// so a commit in progress completes before the ledgers close.
public final class PeerNode: Service {
    /// The peer.
    public let peer: Peer
    let deliver: DeliverService
    let configuration: PeerConfiguration
    let registry: PrometheusCollectorRegistry?
    let logger: Logger
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
        let gossip = GossipService(configuration: configuration, deliver: self.deliver)
        self.peer = try Peer(configuration: configuration, identity: identity, services: gossip, logger: logger)
    }

    /// The admin service's bound port, once listening.
    public var adminPort: Int? { self.ports.withLock { $0.admin } }
    /// The operations endpoint's bound port, once listening.
    public var operationsPort: Int? { self.ports.withLock { $0.operations } }

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
        var roots = tls.clientRootCAs
        if let root = tls.rootCertificate { roots.append(root) }
        let sources = roots.map { TLSConfig.CertificateSource.file(path: $0.path, format: .pem) }
        return HTTP2ServerTransport.Posix(
            address: address,
            transportSecurity: .mTLS(certificateChain: chain, privateKey: privateKey) { config in
                config.trustRoots = .certificates(sources)
            }
        )
    }
}
