public import Election
internal import Foundation
public import Gossip
internal import HeapModule
internal import Logging
public import Wire

/// A deterministic discrete-event simulation of many gossip peers (and their leader elections) in one process.
///
/// Every peer is a real ``GossipCore`` (and ``LeaderElection`` per channel where enabled); the simulation plays
/// the shell: it delivers envelopes between peers after a latency (with loss and partitions), performs the real
/// ConnEstablish handshake once per pair, probes, and wakes each state machine at its next deadline on a virtual
/// clock. The same seed gives the same run, and minutes of protocol time take milliseconds.
public final class GossipSimulation {
    /// One simulated peer.
    public struct Peer {
        /// A readable name (`org1-peer3`).
        public let name: String
        /// The organisation (MSP id).
        public let organization: String
        /// The endpoint (used both as internal and, if enabled, external endpoint).
        public let endpoint: String
        /// The identity.
        public let identity: FakeSigningIdentity
        /// The gossip state machine.
        public var core: GossipCore
        /// Elections per channel, with their message factories.
        public var elections: [ChannelID: (election: LeaderElection, factory: LeadershipMessageFactory)] = [:]
        /// Every message the core delivered to local consumers.
        public var delivered: [ReceivedMessage] = []
        /// Every leadership callback, in order.
        public var leadershipChanges: [(channel: ChannelID, isLeader: Bool, at: GossipInstant)] = []
        /// Whether the peer is running (a crashed peer neither sends nor receives).
        public var isUp = true
    }

    /// One envelope that reached a peer, for checks on who saw what.
    public struct Delivery {
        /// Sender index.
        public let from: Int
        /// Receiver index.
        public let to: Int
        /// The envelope.
        public let envelope: Gossip_Envelope
    }

    private enum EventKind {
        case deliver(to: Int, envelope: Gossip_Envelope, connection: ConnectionInfo, from: Int)
        case wakeCore(Int)
        case wakeElection(Int, ChannelID)
        case probeResult(Int, RemotePeer, ConnectionInfo?)
    }

    private struct Event: Comparable {
        let time: GossipInstant
        let sequence: UInt64
        let kind: EventKind
        static func < (lhs: Event, rhs: Event) -> Bool {
            (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence)
        }
        static func == (lhs: Event, rhs: Event) -> Bool { lhs.time == rhs.time && lhs.sequence == rhs.sequence }
    }

    /// The CA of every peer.
    public let pki: FakePKI
    /// The peers, by index.
    public private(set) var peers: [Peer] = []
    /// Virtual now.
    public private(set) var now: GossipInstant
    /// One-way latency of every envelope.
    public var latency: Duration = .milliseconds(5)
    /// Probability that an envelope is lost.
    public var lossRate: Double = 0
    /// Every envelope delivered (when ``recordsDeliveries`` is on).
    public private(set) var deliveries: [Delivery] = []
    /// Whether to record ``deliveries``.
    public var recordsDeliveries = true
    /// Envelopes sent / dropped.
    public private(set) var sentCount = 0
    public private(set) var droppedCount = 0

    private var queue = Heap<Event>()
    private var sequence: UInt64 = 0
    private var eventsHandled = 0
    private var random: SeededRandom
    private var byEndpoint: [String: Int] = [:]
    private var scheduledCoreWake: [Int: GossipInstant] = [:]
    private var scheduledElectionWake: [String: GossipInstant] = [:]
    private var connections: [Int: [Int: ConnectionInfo]] = [:]
    private var groupOf: [Int: Int] = [:]
    private let seed: UInt64
    private let logger: Logger = {
        var logger = Logger(label: "gossip-simulation")
        logger.logLevel = ProcessInfo.processInfo.environment["GOSSIP_SIM_LOG"] == nil ? .critical : .debug
        return logger
    }()

    /// Creates an empty simulation starting at a fixed virtual time.
    public init(
        seed: UInt64 = 42,
        start: GossipInstant = GossipInstant(nanosecondsSinceEpoch: 1_700_000_000_000_000_000)
    ) {
        self.seed = seed
        self.pki = FakePKI(seed: seed)
        self.now = start
        self.random = SeededRandom(seed: seed)
    }

    /// Adds a peer of `organization`; `configure` adjusts its config (bootstrap peers, endpoints, intervals).
    @discardableResult
    public func addPeer(
        organization: String,
        name: String,
        externalEndpoint: Bool = true,
        certificateExpiresAt: GossipInstant? = nil,
        config: GossipConfig = GossipConfig(),
        configure: (inout GossipConfig) -> Void = { _ in }
    ) throws -> Int {
        let index = self.peers.count
        let endpoint = "\(name):7051"
        let identity = self.pki.issue(mspID: organization, name: name, expiresAt: certificateExpiresAt?.date)
        var config = config
        config.internalEndpoint = endpoint
        config.externalEndpoint = externalEndpoint ? endpoint : ""
        configure(&config)
        let core = try GossipCore(
            config: config,
            identity: identity.serialized,
            mcs: self.pki.crypto(for: identity),
            advisor: FakeSecurityAdvisor(),
            now: self.now,
            seed: self.seed &+ UInt64(index) &* 7919,
            logger: self.logger
        )
        self.peers.append(
            Peer(name: name, organization: organization, endpoint: endpoint, identity: identity, core: core)
        )
        self.byEndpoint[endpoint] = index
        return index
    }

    /// Starts every peer's core.
    public func start() {
        for index in self.peers.indices { self.startPeer(index) }
    }

    /// Starts one peer (also used to start late joiners).
    public func startPeer(_ index: Int) {
        let actions = self.peers[index].core.start(now: self.now)
        self.perform(actions, of: index)
        self.scheduleWakes(index)
    }

    /// Every peer joins `channel` with `organizations` (sequence 1) and publishes `height`.
    public func joinAll(channel: ChannelID, organizations: [String], anchorPeers: [AnchorPeer] = [], height: UInt64 = 1)
    {
        for index in self.peers.indices {
            self.join(index, channel: channel, organizations: organizations, anchorPeers: anchorPeers, height: height)
        }
    }

    /// One peer joins `channel`.
    public func join(
        _ index: Int,
        channel: ChannelID,
        organizations: [String],
        anchorPeers: [AnchorPeer] = [],
        height: UInt64 = 1
    ) {
        let join = JoinChannelMessage(sequence: 1, organizations: organizations, anchorPeers: anchorPeers)
        var actions = self.peers[index].core.joinChannel(join, channel: channel, now: self.now)
        actions += self.peers[index].core.updateLedgerHeight(height, channel: channel, now: self.now)
        self.perform(actions, of: index)
        self.scheduleWakes(index)
    }

    /// Starts leader election for `channel` on every peer.
    public func enableElection(channel: ChannelID, config: ElectionConfig) {
        for index in self.peers.indices { self.enableElection(index, channel: channel, config: config) }
    }

    /// Starts leader election for `channel` on one peer.
    public func enableElection(_ index: Int, channel: ChannelID, config: ElectionConfig) {
        let selfID = self.peers[index].core.selfPKIID
        var election = LeaderElection(selfID: selfID, config: config)
        let actions = election.start(now: self.now, viewSize: self.view(index, channel: channel).count)
        self.peers[index].elections[channel] = (
            election, LeadershipMessageFactory(pkiID: selfID, channel: channel, createdAt: self.now)
        )
        self.performElection(actions, of: index, channel: channel)
        self.scheduleWakes(index)
    }

    /// Makes peer `index` yield leadership of `channel`.
    public func yieldLeadership(_ index: Int, channel: ChannelID) {
        guard var entry = self.peers[index].elections[channel] else { return }
        let actions = entry.election.yield(now: self.now)
        self.peers[index].elections[channel] = entry
        self.performElection(actions, of: index, channel: channel)
        self.scheduleWakes(index)
    }

    /// Gossips `message` from peer `index` (a block from the deliverer, say).
    public func gossip(_ message: Gossip_GossipMessage, from index: Int) throws {
        let actions = try self.peers[index].core.gossip(message, now: self.now)
        self.perform(actions, of: index)
        self.scheduleWakes(index)
    }

    /// Applies `body` to a peer's core and performs the actions it returns.
    public func withCore(_ index: Int, _ body: (inout GossipCore, GossipInstant) throws -> [GossipAction]) rethrows {
        let actions = try body(&self.peers[index].core, self.now)
        self.perform(actions, of: index)
        self.scheduleWakes(index)
    }

    /// Delivers `envelope` to peer `to` as if `from` had sent it (after the latency): for tests that play a
    /// misbehaving peer.
    public func inject(_ envelope: Gossip_Envelope, from: Int, to: Int) {
        guard let connection = self.connection(from: from, to: to, expected: nil) else { return }
        self.push(
            self.now.advanced(by: self.latency),
            .deliver(to: to, envelope: envelope, connection: connection, from: from)
        )
    }

    /// Crashes a peer: it stops, and envelopes to it are lost.
    public func crash(_ index: Int) {
        self.peers[index].isUp = false
        for (key, _) in self.connections where key == index { self.connections[key] = [:] }
        for key in self.connections.keys { self.connections[key]?[index] = nil }
    }

    /// Splits peers into groups that cannot reach each other.
    public func partition(_ groups: [[Int]]) {
        self.groupOf = [:]
        for (number, group) in groups.enumerated() { for index in group { self.groupOf[index] = number + 1 } }
    }

    /// Heals every partition.
    public func heal() { self.groupOf = [:] }

    /// Runs the simulation for `duration` of virtual time.
    public func run(for duration: Duration) {
        let end = self.now.advanced(by: duration)
        while !self.step(until: end, maxEvents: .max) {}
    }

    /// Runs the simulation for `duration` of virtual time, yielding the thread every `chunk` events so that a
    /// long simulation does not starve other tasks of the cooperative pool (tests run in parallel).
    public func run(for duration: Duration, yieldingEvery chunk: Int = 2_000) async {
        let end = self.now.advanced(by: duration)
        while !self.step(until: end, maxEvents: chunk) { await Task.yield() }
    }

    /// Handles up to `maxEvents` events due by `end`; true when none is left before `end` (time is then `end`).
    private func step(until end: GossipInstant, maxEvents: Int) -> Bool {
        var handled = 0
        while let next = self.queue.min, next.time <= end {
            guard handled < maxEvents else { return false }
            handled += 1
            self.eventsHandled += 1
            precondition(self.eventsHandled < 500_000_000, "simulation does not make progress at \(self.now)")
            let event = self.queue.removeMin()
            self.now = max(self.now, event.time)
            self.handle(event.kind)
        }
        self.now = end
        return true
    }

    /// The peer index of a PKI-ID.
    public func index(of pkiID: PKIID) -> Int? { self.peers.firstIndex { $0.core.selfPKIID == pkiID } }

    /// The election view of a peer: same-org peers of the channel.
    public func view(_ index: Int, channel: ChannelID) -> [PKIID] {
        let core = self.peers[index].core
        return core.peersOfChannel(channel).filter { core.organization(of: $0.pkiID) == core.selfOrganization }.map(
            \.pkiID
        )
    }

    /// The peers that consider themselves leader of `channel`.
    public func leaders(of channel: ChannelID) -> [Int] {
        self.peers.indices.filter {
            self.peers[$0].isUp && self.peers[$0].elections[channel]?.election.isLeader == true
        }
    }

    // MARK: - Events

    private func push(_ time: GossipInstant, _ kind: EventKind) {
        self.sequence += 1
        self.queue.insert(Event(time: time, sequence: self.sequence, kind: kind))
    }

    private func handle(_ kind: EventKind) {
        switch kind {
        case .deliver(let to, let envelope, let connection, let from):
            guard self.peers[to].isUp else { return }
            if self.recordsDeliveries { self.deliveries.append(Delivery(from: from, to: to, envelope: envelope)) }
            let actions = self.peers[to].core.receive(envelope, from: connection, now: self.now)
            self.perform(actions, of: to)
            self.scheduleWakes(to)
        case .wakeCore(let index):
            guard
                self.scheduledCoreWake[index] == self.now
                    || self.scheduledCoreWake[index].map({ $0 <= self.now }) == true
            else { return }
            self.scheduledCoreWake[index] = nil
            guard self.peers[index].isUp else { return }
            let actions = self.peers[index].core.tick(now: self.now)
            self.perform(actions, of: index)
            self.scheduleWakes(index)
        case .wakeElection(let index, let channel):
            let key = "\(index)/\(channel)"
            guard let scheduled = self.scheduledElectionWake[key], scheduled <= self.now else { return }
            self.scheduledElectionWake[key] = nil
            guard self.peers[index].isUp, var entry = self.peers[index].elections[channel] else { return }
            let actions = entry.election.wake(now: self.now, viewSize: self.view(index, channel: channel).count)
            self.peers[index].elections[channel] = entry
            self.performElection(actions, of: index, channel: channel)
            self.scheduleWakes(index)
        case .probeResult(let index, let peer, let result):
            guard self.peers[index].isUp else { return }
            let actions = self.peers[index].core.probed(peer, result: result, now: self.now)
            self.perform(actions, of: index)
            self.scheduleWakes(index)
        }
    }

    private func scheduleWakes(_ index: Int) {
        guard self.peers[index].isUp else { return }
        let deadline = max(self.peers[index].core.nextDeadline, self.now)
        if let scheduled = self.scheduledCoreWake[index], scheduled <= deadline, scheduled >= self.now {
        } else {
            self.scheduledCoreWake[index] = deadline
            self.push(deadline, .wakeCore(index))
        }
        for (channel, entry) in self.peers[index].elections {
            guard let wake = entry.election.nextWakeUp else { continue }
            let key = "\(index)/\(channel)"
            let deadline = max(wake, self.now)
            if let scheduled = self.scheduledElectionWake[key], scheduled <= deadline, scheduled >= self.now {
                continue
            }
            self.scheduledElectionWake[key] = deadline
            self.push(deadline, .wakeElection(index, channel))
        }
    }

    private func reachable(_ from: Int, _ to: Int) -> Bool {
        self.peers[to].isUp && self.groupOf[from, default: 0] == self.groupOf[to, default: 0]
    }

    /// The handshake between two peers (cached): what `to` verified about `from`, or nil when it fails.
    private func connection(from: Int, to: Int, expected: PKIID?) -> ConnectionInfo? {
        let source = self.peers[from]
        let target = self.peers[to]
        if let expected, expected != target.core.selfPKIID { return nil }
        if let cached = self.connections[to]?[from] { return cached }
        do {
            let sourceCrypto = self.pki.crypto(for: source.identity)
            let targetCrypto = self.pki.crypto(for: target.identity)
            let hello = try Handshake.connEstablish(identity: source.identity.serialized, mcs: sourceCrypto)
            let info = try Handshake.verify(hello, endpoint: source.endpoint, mcs: targetCrypto)
            let back = try Handshake.connEstablish(identity: target.identity.serialized, mcs: targetCrypto)
            _ = try Handshake.verify(back, endpoint: target.endpoint, expectedPKIID: expected, mcs: sourceCrypto)
            self.connections[to, default: [:]][from] = info
            return info
        } catch {
            return nil
        }
    }

    private func perform(_ actions: [GossipAction], of index: Int) {
        for action in actions {
            switch action {
            case .send(let envelope, let peer):
                self.sentCount += 1
                guard let target = self.byEndpoint[peer.endpoint], target != index, self.reachable(index, target),
                    let connection = self.connection(from: index, to: target, expected: peer.pkiID)
                else {
                    self.droppedCount += 1
                    continue
                }
                if self.lossRate > 0, Double(self.random.next() % 1_000_000) / 1_000_000 < self.lossRate {
                    self.droppedCount += 1
                    continue
                }
                self.push(
                    self.now.advanced(by: self.latency),
                    .deliver(to: target, envelope: envelope, connection: connection, from: index)
                )
            case .probe(let peer):
                var result: ConnectionInfo?
                if let target = self.byEndpoint[peer.endpoint], self.reachable(index, target),
                    self.connection(from: index, to: target, expected: peer.pkiID) != nil
                {
                    result = self.connection(from: target, to: index, expected: nil)
                }
                self.push(self.now.advanced(by: self.latency * 2), .probeResult(index, peer, result))
            case .closeConnection(let pkiID):
                if let other = self.index(of: pkiID) {
                    self.connections[index]?[other] = nil
                    self.connections[other]?[index] = nil
                }
            case .deliver(let received):
                self.peers[index].delivered.append(received)
                let channel = received.channel
                if let leadership = LeadershipMessage(received.message.message, channel: channel),
                    var entry = self.peers[index].elections[channel]
                {
                    let view = self.view(index, channel: channel)
                    let electionActions = entry.election.receive(
                        leadership,
                        senderInView: view.contains(leadership.senderID),
                        now: self.now,
                        viewSize: view.count
                    )
                    self.peers[index].elections[channel] = entry
                    self.performElection(electionActions, of: index, channel: channel)
                }
            }
        }
    }

    private func performElection(_ actions: [LeaderElection.Action], of index: Int, channel: ChannelID) {
        for action in actions {
            switch action {
            case .propose, .declare:
                guard var entry = self.peers[index].elections[channel] else { continue }
                let isDeclaration: Bool
                if case .declare = action { isDeclaration = true } else { isDeclaration = false }
                let message = entry.factory.make(isDeclaration: isDeclaration)
                self.peers[index].elections[channel] = entry
                if let gossipActions = try? self.peers[index].core.gossip(message, now: self.now) {
                    self.perform(gossipActions, of: index)
                }
            case .leadershipChanged(let isLeader):
                self.peers[index].leadershipChanges.append((channel, isLeader, self.now))
            case .reportMetric:
                break
            }
        }
    }
}
