internal import Foundation
internal import Logging
internal import Synchronization
public import Wire

/// The thin I/O shell around a ``GossipCore``: feeds it received envelopes, timer ticks and API calls, and carries
/// out the actions it returns on a ``GossipTransport``.
///
/// Run it with ``run()`` inside a task group (structured concurrency: the node lives exactly as long as that
/// task); it stops when the task is cancelled. All protocol decisions are in the core; this type only moves
/// bytes, reads the clock and fans deliveries out to subscribers.
public final class GossipNode: Sendable {
    private struct Subscriber {
        let filter: @Sendable (ReceivedMessage) -> Bool
        let continuation: AsyncStream<ReceivedMessage>.Continuation
    }

    private struct State {
        var core: GossipCore
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriberID = 0
    }

    private let state: Mutex<State>
    private let transport: any GossipTransport
    private let clock: any GossipClock
    private let wake = WakeSignal()
    private let probeRequests: AsyncStream<RemotePeer>
    private let probeContinuation: AsyncStream<RemotePeer>.Continuation
    /// This peer's PKI-ID.
    public let pkiID: PKIID
    /// This peer's organisation.
    public let organization: String

    /// Creates a node over `core`, sending on `transport` and reading time from `clock`.
    public init(core: GossipCore, transport: any GossipTransport, clock: any GossipClock) {
        self.pkiID = core.selfPKIID
        self.organization = core.selfOrganization
        self.state = Mutex(State(core: core))
        self.transport = transport
        self.clock = clock
        (self.probeRequests, self.probeContinuation) = AsyncStream.makeStream(of: RemotePeer.self)
    }

    /// Runs the node until the calling task is cancelled: starts the core, handles received envelopes, ticks the
    /// timers, probes peers the core asks for.
    public func run() async {
        self.perform(self.state.withLock { $0.core.start(now: self.clock.now) })
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await received in self.transport.incoming {
                    let actions = self.state.withLock {
                        $0.core.receive(received.envelope, from: received.connection, now: self.clock.now)
                    }
                    self.perform(actions)
                    self.wake.signal()
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    let deadline = self.state.withLock { $0.core.nextDeadline }
                    await self.wake.sleep(until: deadline, on: self.clock)
                    if Task.isCancelled { break }
                    self.perform(self.state.withLock { $0.core.tick(now: self.clock.now) })
                }
            }
            group.addTask {
                await withDiscardingTaskGroup { probes in
                    for await peer in self.probeRequests {
                        probes.addTask {
                            let result = try? await self.transport.probe(peer)
                            self.perform(
                                self.state.withLock { $0.core.probed(peer, result: result, now: self.clock.now) }
                            )
                        }
                    }
                }
            }
        }
        self.probeContinuation.finish()
        let subscribers = self.state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.continuation.finish() }
    }

    // MARK: - API

    /// Pushes `message` to the network (see ``GossipCore/gossip(_:now:)``).
    public func gossip(_ message: Gossip_GossipMessage) throws(GossipError) {
        let actions = try self.state.withLock { (state) throws(GossipError) -> [GossipAction] in
            try state.core.gossip(message, now: self.clock.now)
        }
        self.perform(actions)
        self.wake.signal()
    }

    /// Sends `message` unsigned to `peers`.
    public func send(_ message: Gossip_GossipMessage, to peers: [RemotePeer]) throws(GossipError) {
        let actions = try self.state.withLock { (state) throws(GossipError) -> [GossipAction] in
            try state.core.send(message, to: peers)
        }
        self.perform(actions)
    }

    /// Joins or reconfigures a channel.
    public func joinChannel(_ join: JoinChannelMessage, channel: ChannelID) {
        self.mutate { $0.joinChannel(join, channel: channel, now: $1) }
    }

    /// Leaves a channel.
    public func leaveChannel(_ channel: ChannelID) {
        self.mutate { $0.leaveChannel(channel, now: $1) }
    }

    /// Publishes the ledger height of a channel.
    public func updateLedgerHeight(_ height: UInt64, channel: ChannelID) {
        self.mutate { $0.updateLedgerHeight(height, channel: channel, now: $1) }
    }

    /// Publishes the chaincodes of a channel.
    public func updateChaincodes(_ chaincodes: [Gossip_Chaincode], channel: ChannelID) {
        self.mutate { $0.updateChaincodes(chaincodes, channel: channel, now: $1) }
    }

    /// The alive members.
    public var aliveMembers: [NetworkMember] { self.state.withLock { $0.core.aliveMembers } }

    /// The members of a channel (see ``GossipCore/peersOfChannel(_:)``).
    public func peersOfChannel(_ channel: ChannelID) -> [NetworkMember] {
        self.state.withLock { $0.core.peersOfChannel(channel) }
    }

    /// The organisation of a peer, if known.
    public func organization(of pkiID: PKIID) -> String? { self.state.withLock { $0.core.organization(of: pkiID) } }

    /// A read-only look at the core (for diagnostics and tests).
    public func inspect<Result>(_ body: (GossipCore) -> Result) -> Result { self.state.withLock { body($0.core) } }

    /// Messages delivered by the core that match `filter`: verified channel messages (blocks, leadership,
    /// StateInfo) and pass-through point-to-point messages (state transfer, private data, acks). The stream ends
    /// when the node stops.
    public func subscribe(_ filter: @escaping @Sendable (ReceivedMessage) -> Bool) -> AsyncStream<ReceivedMessage> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ReceivedMessage.self,
            bufferingPolicy: .bufferingNewest(1024)
        )
        let id = self.state.withLock { state in
            let id = state.nextSubscriberID
            state.nextSubscriberID += 1
            state.subscribers[id] = Subscriber(filter: filter, continuation: continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    // MARK: - Carrying out actions

    private func mutate(_ body: (inout GossipCore, GossipInstant) -> [GossipAction]) {
        let now = self.clock.now
        let actions = self.state.withLock { body(&$0.core, now) }
        self.perform(actions)
        self.wake.signal()
    }

    private func perform(_ actions: [GossipAction]) {
        guard !actions.isEmpty else { return }
        var deliveries: [ReceivedMessage] = []
        for action in actions {
            switch action {
            case .send(let envelope, let peer):
                self.transport.send(envelope, to: peer)
            case .probe(let peer):
                self.probeContinuation.yield(peer)
            case .closeConnection(let pkiID):
                self.transport.closeConnection(to: pkiID)
            case .deliver(let received):
                deliveries.append(received)
            }
        }
        guard !deliveries.isEmpty else { return }
        let subscribers = self.state.withLock { Array($0.subscribers.values) }
        for received in deliveries {
            for subscriber in subscribers where subscriber.filter(received) {
                subscriber.continuation.yield(received)
            }
        }
    }
}
