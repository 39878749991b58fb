public import Foundation
internal import GRPCCore
internal import GRPCNIOTransportHTTP2
public import Logging
internal import Metrics
internal import Synchronization
public import Wire

/// ``GossipTransport`` over gRPC: the `gossip.Gossip` service (GossipStream, Ping) as server, and clients that dial
/// peers on demand, with Fabric's ConnEstablish handshake on every stream.
///
/// Run it with ``run()`` inside the same task group as the ``GossipNode`` using it: the server and every
/// outgoing connection are child tasks of that call. Each connection has a bounded send buffer
/// (`sendBuffSize`); a message that does not fit is dropped and counted (`gossip_comm_overflow_count`), as is
/// one larger than `maxMessageSize` or one for a peer that cannot be reached. TLS is not wired yet: connections
/// are plaintext and `tls_cert_hash` is empty.
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

        /// Creates a configuration.
        public init(listenHost: String, listenPort: Int, identity: Data, gossip: GossipConfig) {
            self.listenHost = listenHost
            self.listenPort = listenPort
            self.identity = identity
            self.gossip = gossip
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
    private let localHello: Gossip_Envelope

    /// Creates the transport; nothing listens or dials until ``run()``.
    public init(
        configuration: Configuration,
        mcs: any MessageCryptoService,
        logger: Logger = Logger(label: "gossip.comm")
    ) throws(GossipError) {
        self.configuration = configuration
        self.mcs = mcs
        self.logger = logger
        self.localHello = try Handshake.connEstablish(identity: configuration.identity, mcs: mcs)
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
        let server = HTTP2ServerTransport.Posix(
            address: .ipv4(host: self.configuration.listenHost, port: self.configuration.listenPort),
            transportSecurity: .plaintext,
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
        try await withGRPCServer(transport: server, services: [service]) { grpcServer in
            if let address = try await grpcServer.listeningAddress?.ipv4 {
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
        }
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
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: host, port: port),
            transportSecurity: .plaintext,
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
                        let info = try Handshake.verify(
                            envelope,
                            endpoint: endpoint,
                            expectedPKIID: expected,
                            mcs: self.mcs
                        )
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
        remote: String
    ) async throws {
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
                try await self.relay(request, endpoint: remote, expected: nil, dialled: nil, outbound: continuation)
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
        try await self.transport.serve(request, response, remote: context.remotePeer)
    }

    func ping(request: Gossip_Empty, context: ServerContext) async throws -> Gossip_Empty { Gossip_Empty() }
}
