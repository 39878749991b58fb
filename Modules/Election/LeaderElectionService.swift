internal import Foundation
public import Gossip
internal import Logging
internal import Metrics
internal import Synchronization
internal import Wire

/// The thin async shell that runs a ``LeaderElection`` for one channel: it feeds the state machine leadership
/// messages from the adapter and timer wake-ups from the clock, and carries out its actions (gossip, callback,
/// metric `gossip_leader_election_leader{channel}`).
///
/// Run it with ``run()`` inside a task group; it stops when that task is cancelled.
public final class LeaderElectionService: Sendable {
    private struct State {
        var election: LeaderElection
        var factory: LeadershipMessageFactory
    }

    private let state: Mutex<State>
    private let adapter: any ElectionAdapter
    private let clock: any GossipClock
    private let callback: @Sendable (Bool) -> Void
    private let wake = WakeSignal()
    private let gauge: Gauge
    private let logger: Logger
    /// The channel.
    public let channel: ChannelID

    /// Creates the service for `channel`; `callback(true)` when this peer becomes the leader, `callback(false)`
    /// when it stops being it.
    public init(
        selfID: PKIID,
        channel: ChannelID,
        config: ElectionConfig,
        adapter: any ElectionAdapter,
        clock: any GossipClock,
        callback: @escaping @Sendable (Bool) -> Void
    ) {
        self.state = Mutex(
            State(
                election: LeaderElection(selfID: selfID, config: config),
                factory: LeadershipMessageFactory(pkiID: selfID, channel: channel, createdAt: clock.now)
            )
        )
        self.adapter = adapter
        self.clock = clock
        self.callback = callback
        self.channel = channel
        self.gauge = Gauge(label: "gossip_leader_election_leader", dimensions: [("channel", channel)])
        var logger = Logger(label: "election")
        logger[metadataKey: "channel"] = "\(channel)"
        self.logger = logger
    }

    /// Whether this peer is the leader of the channel.
    public var isLeader: Bool { self.state.withLock { $0.election.isLeader } }

    /// Gives up leadership for a while (the deliverer could not reach the ordering service).
    public func yield() {
        self.apply { $0.yield(now: $1) }
    }

    /// Runs the election until the calling task is cancelled.
    public func run() async {
        self.apply { $0.start(now: $1, viewSize: self.adapter.peers().count) }
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await message in self.adapter.leadershipMessages() {
                    let view = Set(self.adapter.peers())
                    self.apply {
                        $0.receive(
                            message,
                            senderInView: view.contains(message.senderID),
                            now: $1,
                            viewSize: view.count
                        )
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    guard let deadline = self.state.withLock({ $0.election.nextWakeUp }) else { break }
                    await self.wake.sleep(until: deadline, on: self.clock)
                    if Task.isCancelled { break }
                    let viewSize = self.adapter.peers().count
                    self.apply { $0.wake(now: $1, viewSize: viewSize) }
                }
            }
        }
        self.state.withLock { $0.election.stop() }
    }

    private func apply(_ body: (inout LeaderElection, GossipInstant) -> [LeaderElection.Action]) {
        let now = self.clock.now
        let (actions, messages) = self.state.withLock { state -> ([LeaderElection.Action], [Gossip_GossipMessage]) in
            let actions = body(&state.election, now)
            var messages: [Gossip_GossipMessage] = []
            for action in actions {
                switch action {
                case .propose: messages.append(state.factory.make(isDeclaration: false))
                case .declare: messages.append(state.factory.make(isDeclaration: true))
                default: break
                }
            }
            return (actions, messages)
        }
        for message in messages { self.adapter.gossip(message) }
        for action in actions {
            switch action {
            case .leadershipChanged(let isLeader):
                self.logger.info("\(isLeader ? "became the leader" : "stopped being the leader")")
                self.callback(isLeader)
            case .reportMetric(let isLeader):
                self.gauge.record(isLeader ? 1 : 0)
            case .propose, .declare:
                break
            }
        }
        self.wake.signal()
    }
}
