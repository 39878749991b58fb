public import Foundation
public import Gossip
internal import Synchronization
public import Wire

/// An in-process network of ``InMemoryTransport``s: each registered endpoint gets a transport implementing
/// ``GossipTransport``, with Fabric's real ConnEstablish handshake (``Handshake``) between every pair, and
/// configurable latency, loss and partitions.
///
/// With zero latency a send is delivered at once into the receiver's stream. With latency, deliveries wait in a
/// queue that ``run(clock:)`` drains (run it in the same task group as the nodes).
public final class InMemoryNetwork: Sendable {
    /// Link behaviour.
    public struct Conditions: Sendable {
        /// One-way delay of every message.
        public var latency: Duration
        /// Probability in [0, 1] that a message is dropped.
        public var lossRate: Double
        /// Seed of the loss decisions.
        public var seed: UInt64

        /// Creates conditions (default: instant and lossless).
        public init(latency: Duration = .zero, lossRate: Double = 0, seed: UInt64 = 7) {
            self.latency = latency
            self.lossRate = lossRate
            self.seed = seed
        }
    }

    /// Counters of what the network carried.
    public struct Statistics: Sendable, Hashable {
        /// Envelopes handed to the network.
        public var sent = 0
        /// Envelopes delivered.
        public var delivered = 0
        /// Envelopes dropped (unknown endpoint, wrong identity, loss, partition, closed).
        public var dropped = 0
        /// Handshakes performed.
        public var handshakes = 0
    }

    fileprivate struct Endpoint: Sendable {
        let identity: Data
        let pkiID: PKIID
        let mcs: any MessageCryptoService
        let continuation: AsyncStream<ReceivedEnvelope>.Continuation
        var group: Int = 0
    }

    private struct Pending: Sendable {
        let deliverAt: GossipInstant
        let to: String
        let received: ReceivedEnvelope
    }

    private struct State: Sendable {
        var endpoints: [String: Endpoint] = [:]
        /// What the receiver (key.to) verified about the sender (key.from) in their handshake.
        var connections: [Pair: ConnectionInfo] = [:]
        var pending: [Pending] = []
        var random: SeededRandom
        var statistics = Statistics()
    }

    private struct Pair: Hashable, Sendable {
        let from: String
        let to: String
    }

    private let state: Mutex<State>
    /// The link behaviour.
    public let conditions: Conditions
    private let clock: any GossipClock

    /// Creates an empty network; `clock` timestamps delayed deliveries.
    public init(conditions: Conditions = Conditions(), clock: any GossipClock = WallClock()) {
        self.conditions = conditions
        self.clock = clock
        self.state = Mutex(State(random: SeededRandom(seed: conditions.seed)))
    }

    /// Registers `endpoint` for a peer with `identity`, whose crypto `mcs` verifies its peers' handshakes.
    public func transport(
        endpoint: String,
        identity: Data,
        mcs: any MessageCryptoService
    ) throws(GossipError) -> InMemoryTransport {
        let pkiID = try mcs.pkiID(of: identity)
        let (stream, continuation) = AsyncStream.makeStream(
            of: ReceivedEnvelope.self,
            bufferingPolicy: .bufferingNewest(10_000)
        )
        self.state.withLock {
            $0.endpoints[endpoint] = Endpoint(identity: identity, pkiID: pkiID, mcs: mcs, continuation: continuation)
        }
        return InMemoryTransport(network: self, endpoint: endpoint, incoming: stream)
    }

    /// Removes `endpoint` (the peer crashed): it stops receiving and nobody reaches it.
    public func remove(endpoint: String) {
        let removed = self.state.withLock { state -> Endpoint? in
            state.connections = state.connections.filter { $0.key.from != endpoint && $0.key.to != endpoint }
            return state.endpoints.removeValue(forKey: endpoint)
        }
        removed?.continuation.finish()
    }

    /// Splits the network: endpoints in different groups cannot reach each other. Unlisted endpoints are group 0.
    public func partition(_ groups: [[String]]) {
        self.state.withLock { state in
            for key in state.endpoints.keys { state.endpoints[key]?.group = 0 }
            for (index, group) in groups.enumerated() {
                for endpoint in group { state.endpoints[endpoint]?.group = index + 1 }
            }
        }
    }

    /// Heals every partition.
    public func heal() { self.partition([]) }

    /// What the network carried so far.
    public var statistics: Statistics { self.state.withLock { $0.statistics } }

    /// Delivers delayed messages until the calling task is cancelled (only needed with latency).
    public func run() async {
        while !Task.isCancelled {
            try? await self.clock.sleep(until: self.clock.now.advanced(by: .milliseconds(1)), tolerance: nil)
            let now = self.clock.now
            let due = self.state.withLock { state -> [(AsyncStream<ReceivedEnvelope>.Continuation, ReceivedEnvelope)] in
                var due: [(AsyncStream<ReceivedEnvelope>.Continuation, ReceivedEnvelope)] = []
                state.pending.removeAll { pending in
                    guard pending.deliverAt <= now else { return false }
                    if let endpoint = state.endpoints[pending.to] {
                        due.append((endpoint.continuation, pending.received))
                        state.statistics.delivered += 1
                    } else {
                        state.statistics.dropped += 1
                    }
                    return true
                }
                return due
            }
            for (continuation, received) in due { continuation.yield(received) }
        }
    }

    // MARK: - Used by the transports

    /// The handshake between `from` and the peer at `to`: what each verified about the other. Nil when the peer
    /// is unknown, unreachable, or its identity is not the expected one.
    private func connect(
        from: String,
        to peer: RemotePeer,
        state: inout State
    ) -> (remote: ConnectionInfo, local: ConnectionInfo)? {
        guard let source = state.endpoints[from], let target = state.endpoints[peer.endpoint],
            source.group == target.group
        else { return nil }
        let forward = Pair(from: from, to: peer.endpoint)
        let backward = Pair(from: peer.endpoint, to: from)
        if let local = state.connections[forward], let remote = state.connections[backward] {
            if let expected = peer.pkiID, expected != remote.pkiID { return nil }
            return (remote, local)
        }
        state.statistics.handshakes += 1
        do {
            let fromHello = try Handshake.connEstablish(identity: source.identity, mcs: source.mcs)
            let toHello = try Handshake.connEstablish(identity: target.identity, mcs: target.mcs)
            let local = try Handshake.verify(fromHello, endpoint: from, mcs: target.mcs)
            let remote = try Handshake.verify(
                toHello,
                endpoint: peer.endpoint,
                expectedPKIID: peer.pkiID,
                mcs: source.mcs
            )
            state.connections[forward] = local
            state.connections[backward] = remote
            return (remote, local)
        } catch {
            return nil
        }
    }

    fileprivate func send(_ envelope: Gossip_Envelope, from: String, to peer: RemotePeer) {
        let delivery = self.state.withLock { state -> (AsyncStream<ReceivedEnvelope>.Continuation, ReceivedEnvelope)? in
            state.statistics.sent += 1
            guard let (_, local) = self.connect(from: from, to: peer, state: &state) else {
                state.statistics.dropped += 1
                return nil
            }
            if self.conditions.lossRate > 0 {
                let draw = Double(state.random.next() % 1_000_000) / 1_000_000
                if draw < self.conditions.lossRate {
                    state.statistics.dropped += 1
                    return nil
                }
            }
            let received = ReceivedEnvelope(envelope: envelope, connection: local)
            if self.conditions.latency > .zero {
                state.pending.append(
                    Pending(
                        deliverAt: self.clock.now.advanced(by: self.conditions.latency),
                        to: peer.endpoint,
                        received: received
                    )
                )
                return nil
            }
            state.statistics.delivered += 1
            return (state.endpoints[peer.endpoint]!.continuation, received)
        }
        if let (continuation, received) = delivery { continuation.yield(received) }
    }

    fileprivate func probe(from: String, to peer: RemotePeer) throws(GossipError) -> ConnectionInfo {
        let result = self.state.withLock { state in self.connect(from: from, to: peer, state: &state)?.remote }
        guard let result else { throw GossipError(.unreachable, "cannot reach \(peer)") }
        return result
    }

    fileprivate func close(from: String, to pkiID: PKIID) {
        self.state.withLock { state in
            state.connections = state.connections.filter { key, info in
                !((key.from == from && state.endpoints[key.to]?.pkiID == pkiID)
                    || (key.to == from && info.pkiID == pkiID))
            }
        }
    }
}

/// One peer's ``GossipTransport`` on an ``InMemoryNetwork``.
public final class InMemoryTransport: GossipTransport {
    private let network: InMemoryNetwork
    /// The endpoint this transport listens on.
    public let endpoint: String
    public let incoming: AsyncStream<ReceivedEnvelope>

    fileprivate init(network: InMemoryNetwork, endpoint: String, incoming: AsyncStream<ReceivedEnvelope>) {
        self.network = network
        self.endpoint = endpoint
        self.incoming = incoming
    }

    public func send(_ envelope: Gossip_Envelope, to peer: RemotePeer) {
        self.network.send(envelope, from: self.endpoint, to: peer)
    }

    public func probe(_ peer: RemotePeer) async throws(GossipError) -> ConnectionInfo {
        try self.network.probe(from: self.endpoint, to: peer)
    }

    public func closeConnection(to pkiID: PKIID) {
        self.network.close(from: self.endpoint, to: pkiID)
    }
}
