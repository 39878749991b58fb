public import Foundation
internal import GRPCCore
internal import GRPCNIOTransportHTTP2
public import Logging
internal import Metrics
internal import SwiftASN1
internal import Synchronization
public import Wire
internal import X509

/// ``GossipTransport`` over gRPC: the `gossip.Gossip` service (GossipStream, Ping) as server, and clients that dial
/// peers on demand, with Fabric's ConnEstablish handshake on every stream.
///
/// Run it with ``run()`` inside the same task group as the ``GossipNode`` using it: the server and every
/// outgoing connection are child tasks of that call. Each connection has a bounded send buffer
/// (`sendBuffSize`); a message that does not fit is dropped and counted (`gossip_comm_overflow_count`), as is
/// one larger than `maxMessageSize` or one for a peer that cannot be reached.
///
/// With ``Configuration/tls`` set, both ends use mutual TLS: the server requires a client certificate chaining
/// to one of the trust roots, the client verifies the server's. Each side puts SHA-256 of its own TLS
/// certificate DER in its ConnEstablish (`tls_cert_hash`), and the accepting side refuses a stream whose
/// ConnEstablish does not carry the hash of the client certificate actually presented (spec §9.1, §11). As in
/// Fabric, the dialling side relies on TLS verification of the server certificate and does not compare the
/// server's hash (grpc-go gives its client no peer certificate either).
public final class GRPCGossipTransport: GossipTransport, Sendable {
    /// What the transport needs to know.
    public struct Configuration: Sendable {
        /// Host to listen on.
        public var listenHost: String
        /// Port to listen on (0: any free port, see ``listeningPort()``).
        public var listenPort: Int
        /// The local serialised identity.
        public var identity: Data
        /// Timeouts, buffer sizes and the message size limit.
        public var gossip: GossipConfig
        /// Mutual TLS, or nil for plaintext (then `tls_cert_hash` is empty).
        public var tls: TLS?

        /// Creates a configuration.
        public init(listenHost: String, listenPort: Int, identity: Data, gossip: GossipConfig, tls: TLS? = nil) {
            self.listenHost = listenHost
            self.listenPort = listenPort
            self.identity = identity
            self.gossip = gossip
            self.tls = tls
        }
    }

    /// The TLS material of a gossip endpoint: one certificate used as server certificate and as client
    /// certificate (Fabric's peer.tls.cert.file, which is also its default client certificate), its key, and the
    /// TLS CA certificates remote peers' certificates must chain to (the `tlscacerts` of every organisation the
    /// peer talks to; ``ChannelMSPRegistry/tlsRootCertificates`` gives them from the channel configs).
    public struct TLS: Sendable {
        /// The own certificate first, then intermediates; each PEM or DER.
        public var certificateChain: [Data]
        /// The private key, PEM (PKCS#8 or SEC1).
        public var privateKey: Data
        /// TLS CA certificates that remote certificates must chain to; each PEM or DER.
        public var trustRoots: [Data]
        /// Whether a dialled server's certificate must name the host dialled. Off by default: gossip endpoints are
        /// often addresses the certificate does not list, and the ConnEstablish identity is what authenticates.
        public var verifiesServerHostname: Bool
        /// A trust store shared with other servers of the process (the peer's admin server); when nil the
        /// transport makes its own from ``trustRoots``. When set, it is used instead of ``trustRoots``.
        public var trustStore: TLSTrustStore?

        /// Creates TLS material.
        public init(
            certificateChain: [Data],
            privateKey: Data,
            trustRoots: [Data],
            verifiesServerHostname: Bool = false,
            trustStore: TLSTrustStore? = nil
        ) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.trustRoots = trustRoots
            self.verifiesServerHostname = verifiesServerHostname
            self.trustStore = trustStore
        }

        /// Reads the certificate, key and trust roots from files (PEM), e.g. a netgen or cryptogen
        /// `tls/server.crt`, `tls/server.key` and the organisations' `tlsca` certificates.
        public init(certificateFile: URL, privateKeyFile: URL, trustRootFiles: [URL]) throws(GossipError) {
            func read(_ url: URL) throws(GossipError) -> Data {
                do { return try Data(contentsOf: url) } catch {
                    throw GossipError(.badConfiguration, "cannot read TLS file \(url.path)", cause: error)
                }
            }
            var roots: [Data] = []
            for url in trustRootFiles { roots.append(try read(url)) }
            self.init(
                certificateChain: [try read(certificateFile)],
                privateKey: try read(privateKeyFile),
                trustRoots: roots
            )
        }

        /// SHA-256 of the own certificate's DER: the `tls_cert_hash` of this peer's ConnEstablish.
        public func certificateHash() throws(GossipError) -> Data {
            guard let leaf = self.certificateChain.first else {
                throw GossipError(.badConfiguration, "the TLS configuration has no certificate")
            }
            return Digest.sha256(try TLSMaterial.der(of: leaf))
        }
    }

    final class Connection: Sendable {
        let info: ConnectionInfo
        let dialledEndpoint: String?
        let outbound: AsyncStream<Gossip_Envelope>.Continuation

        init(info: ConnectionInfo, dialledEndpoint: String?, outbound: AsyncStream<Gossip_Envelope>.Continuation) {
            self.info = info
            self.dialledEndpoint = dialledEndpoint
            self.outbound = outbound
        }
    }

    private struct State {
        var connections: [PKIID: Connection] = [:]
        /// Envelopes waiting for a connection being dialled, by endpoint.
        var pending: [String: [Gossip_Envelope]] = [:]
        var listeningPort: Int?
        var portWaiters: [CheckedContinuation<Int, Never>] = []
    }

    private let state = Mutex(State())
    private let configuration: Configuration
    private let mcs: any MessageCryptoService
    private let logger: Logger
    private let dialRequests: AsyncStream<RemotePeer>
    private let dialContinuation: AsyncStream<RemotePeer>.Continuation
    private let incomingContinuation: AsyncStream<ReceivedEnvelope>.Continuation
    public let incoming: AsyncStream<ReceivedEnvelope>
    private let overflow = Counter(label: "gossip_comm_overflow_count")
    private let sentCounter = Counter(label: "gossip_comm_messages_sent")
    private let receivedCounter = Counter(label: "gossip_comm_messages_received")
    private let droppedCounter = Counter(label: "gossip_comm_messages_dropped")
    private let handshakeFailures = Counter(label: "gossip_comm_handshake_failures")
    private let rejectedHandshakeCount = Atomic<Int>(0)

    /// How many incoming or outgoing connections this transport refused at the ConnEstablish handshake (identity
    /// that does not validate, wrong TLS binding, bad signature, no client certificate); also the counter
    /// `gossip_comm_handshake_failures`.
    public var rejectedHandshakes: Int { self.rejectedHandshakeCount.load(ordering: .relaxed) }

    private func countHandshakeFailure() {
        self.handshakeFailures.increment()
        self.rejectedHandshakeCount.add(1, ordering: .relaxed)
    }
    private let localHello: Gossip_Envelope
    /// SHA-256 of the own TLS certificate (empty without TLS).
    private let tlsCertHash: Data
    /// The TLS CAs remote certificates must chain to, starting from ``TLS/trustRoots`` and kept current by the
    /// owner (``TLSTrustStore/setChannelRoots(_:)``); nil without TLS. The server consults it at every handshake
    /// and every dial reads it afresh.
    public let trustStore: TLSTrustStore?

    /// Creates the transport; nothing listens or dials until ``run()``.
    public init(
        configuration: Configuration,
        mcs: any MessageCryptoService,
        logger: Logger = Logger(label: "gossip.comm")
    ) throws(GossipError) {
        self.configuration = configuration
        self.mcs = mcs
        self.logger = logger
        self.tlsCertHash = try configuration.tls?.certificateHash() ?? Data()
        if let tls = configuration.tls {
            if let shared = tls.trustStore {
                self.trustStore = shared
            } else {
                self.trustStore = try TLSTrustStore(configuredRoots: tls.trustRoots)
            }
        } else {
            self.trustStore = nil
        }
        self.localHello = try Handshake.connEstablish(
            identity: configuration.identity,
            tlsCertHash: self.tlsCertHash,
            mcs: mcs
        )
        (self.dialRequests, self.dialContinuation) = AsyncStream.makeStream(of: RemotePeer.self)
        (self.incoming, self.incomingContinuation) = AsyncStream.makeStream(
            of: ReceivedEnvelope.self,
            bufferingPolicy: .bufferingOldest(max(1, configuration.gossip.recvBuffSize) * 64)
        )
    }

    /// The port the server listens on, once it does.
    public func listeningPort() async -> Int {
        await withCheckedContinuation { continuation in
            let port = self.state.withLock { state -> Int? in
                if let port = state.listeningPort { return port }
                state.portWaiters.append(continuation)
                return nil
            }
            if let port { continuation.resume(returning: port) }
        }
    }

    /// Serves `gossip.Gossip` and dials peers until the calling task is cancelled.
    public func run() async throws {
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let tls = self.configuration.tls, let trustStore = self.trustStore {
            security = trustStore.mutualTLSServerSecurity(
                certificateChain: try TLSMaterial.sources(tls.certificateChain),
                privateKey: .bytes(Array(tls.privateKey), format: .pem)
            )
        } else {
            security = .plaintext
        }
        let server = HTTP2ServerTransport.Posix(
            address: .ipv4(host: self.configuration.listenHost, port: self.configuration.listenPort),
            transportSecurity: security,
            config: .defaults { $0.rpc.maxRequestPayloadSize = self.configuration.gossip.maxMessageSize }
        )
        let service = GossipService(transport: self)
        defer {
            self.incomingContinuation.finish()
            self.dialContinuation.finish()
        }
        do {
            try await self.serve(on: server, service: service)
        } catch  where Task.isCancelled {
            // Cancellation is how the transport stops; the server reports it as an error.
        }
    }

    private func serve(on server: HTTP2ServerTransport.Posix, service: GossipService) async throws {
        // The server runs in a task of its own, not a child of this one: cancelling a NIO server's accept loop
        // while an accepted connection is still queued traps in swift-nio ("Deinited NIOAsyncWriter without
        // calling finish()", apple/swift-nio#2637). So cancellation first shuts the server down gracefully (the
        // listening socket closes, nothing more is accepted), and only then are the remaining streams cancelled.
        let grpcServer = GRPCServer(transport: server, services: [service])
        let serving = Task { try await grpcServer.serve() }
        await withTaskCancellationHandler {
            if let address = try? await grpcServer.listeningAddress?.ipv4 {
                let waiters = self.state.withLock { state in
                    state.listeningPort = address.port
                    defer { state.portWaiters = [] }
                    return state.portWaiters
                }
                for waiter in waiters { waiter.resume(returning: address.port) }
            }
            await withDiscardingTaskGroup { group in
                for await peer in self.dialRequests {
                    group.addTask { await self.dial(peer) }
                }
            }
        } onCancel: {
            grpcServer.beginGracefulShutdown()
            self.dialContinuation.finish()
        }
        grpcServer.beginGracefulShutdown()
        // Open gossip streams never end by themselves; give them a moment, then cancel what is left.
        let stopper = Task {
            try await Task.sleep(for: .seconds(2))
            serving.cancel()
        }
        _ = await serving.result
        stopper.cancel()
    }

    // MARK: - GossipTransport

    public func send(_ envelope: Gossip_Envelope, to peer: RemotePeer) {
        guard envelope.payload.count + envelope.signature.count <= self.configuration.gossip.maxMessageSize else {
            self.droppedCounter.increment()
            self.logger.warning("dropping a \(envelope.payload.count)-byte message to \(peer): over the size limit")
            return
        }
        enum Route {
            case connection(Connection)
            case dial
            case queued
            case full
        }
        let route = self.state.withLock { state -> Route in
            if let pkiID = peer.pkiID, let connection = state.connections[pkiID] { return .connection(connection) }
            if let connection = state.connections.values.first(where: { $0.dialledEndpoint == peer.endpoint }) {
                return .connection(connection)
            }
            if var queue = state.pending[peer.endpoint] {
                guard queue.count < max(1, self.configuration.gossip.sendBuffSize) else { return .full }
                queue.append(envelope)
                state.pending[peer.endpoint] = queue
                return .queued
            }
            state.pending[peer.endpoint] = [envelope]
            return .dial
        }
        switch route {
        case .connection(let connection):
            self.enqueue(envelope, on: connection)
        case .dial:
            self.dialContinuation.yield(peer)
        case .queued:
            break
        case .full:
            self.overflow.increment()
        }
    }

    public func probe(_ peer: RemotePeer) async throws(GossipError) -> ConnectionInfo {
        do {
            return try await self.withClient(peer.endpoint) { client in
                _ = try await client.ping(
                    Gossip_Empty(),
                    options: self.callOptions(timeout: self.configuration.gossip.connTimeout)
                )
                let probeHello = try Handshake.connEstablish(
                    identity: self.configuration.identity,
                    tlsCertHash: self.tlsCertHash,
                    probe: true,
                    mcs: self.mcs
                )
                var options = self.callOptions(timeout: self.configuration.gossip.probeHandshakeTimeout)
                options.timeout = self.configuration.gossip.probeHandshakeTimeout
                return try await client.gossipStream(options: options) { writer in
                    try await writer.write(probeHello)
                } onResponse: { response in
                    for try await first in response.messages {
                        return try Handshake.verify(
                            first,
                            endpoint: peer.endpoint,
                            expectedPKIID: peer.pkiID,
                            mcs: self.mcs
                        )
                    }
                    throw GossipError(.handshakeFailed, "\(peer.endpoint) closed the stream before its handshake")
                }
            }
        } catch let error as GossipError {
            throw error
        } catch {
            throw GossipError(.unreachable, "probe of \(peer) failed", cause: error)
        }
    }

    public func closeConnection(to pkiID: PKIID) {
        let connection = self.state.withLock { $0.connections.removeValue(forKey: pkiID) }
        connection?.outbound.finish()
    }

    // MARK: - Connections

    private func enqueue(_ envelope: Gossip_Envelope, on connection: Connection) {
        switch connection.outbound.yield(envelope) {
        case .enqueued: self.sentCounter.increment()
        case .dropped: self.overflow.increment()
        case .terminated: self.droppedCounter.increment()
        @unknown default: self.droppedCounter.increment()
        }
    }

    private func callOptions(timeout: Duration? = nil) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        options.maxResponseMessageBytes = self.configuration.gossip.maxMessageSize
        options.maxRequestMessageBytes = self.configuration.gossip.maxMessageSize
        return options
    }

    private func withClient<Result: Sendable>(
        _ endpoint: String,
        _ body: @escaping @Sendable (Gossip_Gossip.Client<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        let parts = endpoint.split(separator: ":")
        guard parts.count >= 2, let port = Int(parts.last!) else {
            throw GossipError(.unreachable, "endpoint \(endpoint) is not host:port")
        }
        let host = parts.dropLast().joined(separator: ":")
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if let tls = self.configuration.tls {
            let chain = try TLSMaterial.sources(tls.certificateChain)
            let roots = try TLSMaterial.sources(self.trustStore?.roots ?? tls.trustRoots)
            security = .mTLS(certificateChain: chain, privateKey: .bytes(Array(tls.privateKey), format: .pem)) {
                config in
                config.trustRoots = .certificates(roots)
                config.serverCertificateVerification =
                    tls.verifiesServerHostname ? .fullVerification : .noHostnameVerification
            }
        } else {
            security = .plaintext
        }
        // An IP literal is dialled as such: as a DNS target its text would become the TLS SNI name, which may not
        // be an IP address (NIOSSL refuses the handshake).
        let target: any ResolvableTarget
        if host.split(separator: ".").count == 4, host.allSatisfy({ $0.isNumber || $0 == "." }) {
            target = .ipv4(address: host, port: port)
        } else if host.contains(":") {
            target = .ipv6(address: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
        } else {
            target = .dns(host: host, port: port)
        }
        let transport = try HTTP2ClientTransport.Posix(
            target: target,
            transportSecurity: security,
            config: .defaults { $0.connection.maxIdleTime = nil }
        )
        return try await withGRPCClient(transport: transport) { grpcClient in
            try await body(Gossip_Gossip.Client(wrapping: grpcClient))
        }
    }

    /// Dials `peer`, handshakes, flushes what was queued for it, then relays in both directions until either side
    /// closes.
    private func dial(_ peer: RemotePeer) async {
        let (outbound, continuation) = AsyncStream.makeStream(
            of: Gossip_Envelope.self,
            bufferingPolicy: .bufferingOldest(max(1, self.configuration.gossip.sendBuffSize))
        )
        do {
            try await self.withClient(peer.endpoint) { client in
                _ = try await client.ping(
                    Gossip_Empty(),
                    options: self.callOptions(timeout: self.configuration.gossip.connTimeout)
                )
                try await client.gossipStream(options: self.callOptions()) { writer in
                    try await writer.write(self.localHello)
                    for await envelope in outbound { try await writer.write(envelope) }
                } onResponse: { response in
                    try await self.relay(
                        response.messages,
                        endpoint: peer.endpoint,
                        expected: peer.pkiID,
                        dialled: peer.endpoint,
                        outbound: continuation
                    )
                }
            }
        } catch {
            self.logger.debug("connection to \(peer) ended: \(error)")
        }
        continuation.finish()
        let dropped = self.state.withLock { state -> Int in
            state.pending.removeValue(forKey: peer.endpoint)?.count ?? 0
        }
        if dropped > 0 { self.droppedCounter.increment(by: dropped) }
    }

    /// Reads the remote handshake (within connTimeout), registers the connection, then hands every further
    /// envelope to ``incoming``.
    fileprivate func relay(
        _ messages: RPCAsyncSequence<Gossip_Envelope, any Error>,
        endpoint: String,
        expected: PKIID?,
        dialled: String?,
        presentedTLSCertHash: Data? = nil,
        outbound: AsyncStream<Gossip_Envelope>.Continuation
    ) async throws {
        let authenticated = HandshakeFlag()
        let timeout = self.configuration.gossip.connTimeout
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await Task.sleep(for: timeout)
                if !authenticated.done.load(ordering: .acquiring) {
                    throw GossipError(.handshakeFailed, "\(endpoint) sent no handshake within \(timeout)")
                }
            }
            group.addTask {
                var connection: Connection?
                defer {
                    if let connection {
                        self.state.withLock { state in
                            if state.connections[connection.info.pkiID] === connection {
                                state.connections[connection.info.pkiID] = nil
                            }
                        }
                    }
                }
                for try await envelope in messages {
                    guard let current = connection else {
                        let info: ConnectionInfo
                        do {
                            info = try Handshake.verify(
                                envelope,
                                endpoint: endpoint,
                                expectedPKIID: expected,
                                presentedTLSCertHash: presentedTLSCertHash,
                                mcs: self.mcs
                            )
                        } catch {
                            self.countHandshakeFailure()
                            self.logger.warning("refusing connection from \(endpoint): \(error)")
                            throw error
                        }
                        authenticated.done.store(true, ordering: .releasing)
                        // A probe connection ends right after the handshake.
                        if case .conn(let hello)? = try? SignedGossipMessage(envelope: envelope).message.content,
                            hello.probe
                        {
                            return
                        }
                        let registered = Connection(info: info, dialledEndpoint: dialled, outbound: outbound)
                        connection = registered
                        let queued = self.state.withLock { state -> [Gossip_Envelope] in
                            state.connections[info.pkiID] = registered
                            return dialled.flatMap { state.pending.removeValue(forKey: $0) } ?? []
                        }
                        for envelope in queued { self.enqueue(envelope, on: registered) }
                        continue
                    }
                    self.receivedCounter.increment()
                    self.incomingContinuation.yield(ReceivedEnvelope(envelope: envelope, connection: current.info))
                }
            }
        }
    }

    /// The server side of one GossipStream.
    fileprivate func serve(
        _ request: RPCAsyncSequence<Gossip_Envelope, any Error>,
        _ response: RPCWriter<Gossip_Envelope>,
        remote: String,
        context: ServerContext
    ) async throws {
        let presented: Data?
        if self.configuration.tls != nil {
            guard let posix = context.transportSpecific as? HTTP2ServerTransport.Posix.Context,
                let certificate = posix.peerCertificate
            else {
                self.countHandshakeFailure()
                throw GossipError(.handshakeFailed, "\(remote) presented no TLS client certificate")
            }
            presented = try TLSMaterial.hash(of: certificate)
        } else {
            presented = nil
        }
        try await response.write(self.localHello)
        let (outbound, continuation) = AsyncStream.makeStream(
            of: Gossip_Envelope.self,
            bufferingPolicy: .bufferingOldest(max(1, self.configuration.gossip.sendBuffSize))
        )
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await envelope in outbound { try await response.write(envelope) }
            }
            group.addTask {
                defer { continuation.finish() }
                try await self.relay(
                    request,
                    endpoint: remote,
                    expected: nil,
                    dialled: nil,
                    presentedTLSCertHash: presented,
                    outbound: continuation
                )
            }
        }
    }
}

/// Set once the remote handshake verified; read by the handshake timeout.
private final class HandshakeFlag: Sendable {
    let done = Atomic<Bool>(false)
}

/// `gossip.Gossip` served by a ``GRPCGossipTransport``.
private struct GossipService: Gossip_Gossip.SimpleServiceProtocol {
    let transport: GRPCGossipTransport

    func gossipStream(
        request: RPCAsyncSequence<Gossip_Envelope, any Error>,
        response: RPCWriter<Gossip_Envelope>,
        context: ServerContext
    ) async throws {
        try await self.transport.serve(request, response, remote: context.remotePeer, context: context)
    }

    func ping(request: Gossip_Empty, context: ServerContext) async throws -> Gossip_Empty { Gossip_Empty() }
}

/// PEM/DER handling for the TLS material.
enum TLSMaterial {
    /// The DER of a certificate given as PEM (the first CERTIFICATE block) or DER.
    static func der(of certificate: Data) throws(GossipError) -> Data {
        let text = String(decoding: certificate, as: UTF8.self)
        guard let begin = text.range(of: "-----BEGIN CERTIFICATE-----") else {
            guard certificate.first == 0x30 else {
                throw GossipError(.badConfiguration, "TLS certificate is neither PEM nor DER")
            }
            return certificate
        }
        guard let end = text.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<text.endIndex) else {
            throw GossipError(.badConfiguration, "TLS certificate PEM has no END line")
        }
        let body = text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: String(body)) else {
            throw GossipError(.badConfiguration, "TLS certificate PEM is not valid base64")
        }
        return der
    }

    /// grpc certificate sources, PEM or DER as given.
    static func sources(_ certificates: [Data]) throws(GossipError) -> [TLSConfig.CertificateSource] {
        var sources: [TLSConfig.CertificateSource] = []
        for certificate in certificates {
            let isPEM = String(decoding: certificate.prefix(64), as: UTF8.self).contains("-----BEGIN")
            if !isPEM { _ = try Self.der(of: certificate) }
            sources.append(.bytes(Array(certificate), format: isPEM ? .pem : .der))
        }
        return sources
    }

    /// SHA-256 of the DER of a certificate the TLS stack parsed (swift-certificates keeps the bytes as
    /// received, so this is the hash of what the peer presented).
    static func hash(of certificate: Certificate) throws -> Data {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return Digest.sha256(Data(serializer.serializedBytes))
    }
}
