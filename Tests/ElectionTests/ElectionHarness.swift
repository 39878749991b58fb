import Election
import Foundation
import Gossip

/// Runs several ``LeaderElection`` state machines on virtual time with an instant message bus, like Fabric's
/// election tests run goroutines over a fake adapter. Peers see (and hear) only the peers they are connected to.
struct ElectionHarness {
    struct Peer {
        var election: LeaderElection
        var callbacks: [Bool] = []
        var metrics: [Bool] = []
        var sent: [LeadershipMessage] = []
        var isUp = true
        var started = false
    }

    static let config = ElectionConfig(
        startupGracePeriod: .seconds(3),
        membershipSampleInterval: .milliseconds(100),
        leaderAliveThreshold: .seconds(1),
        leaderElectionDuration: .milliseconds(500)
    )

    var peers: [PKIID: Peer] = [:]
    var order: [PKIID] = []
    var now = GossipInstant(nanosecondsSinceEpoch: 1_000_000_000_000_000_000)
    /// Pairs that cannot talk; nil means everyone is connected.
    var groups: [PKIID: Int] = [:]

    static func id(_ n: UInt8) -> PKIID { PKIID(Data([n])) }

    init(ids: [UInt8], config: ElectionConfig = Self.config) {
        for n in ids {
            let id = Self.id(n)
            self.peers[id] = Peer(election: LeaderElection(selfID: id, config: config))
            self.order.append(id)
        }
    }

    func connected(_ a: PKIID, _ b: PKIID) -> Bool {
        a != b && self.peers[a]!.isUp && self.peers[b]!.isUp && self.peers[a]!.started && self.peers[b]!.started
            && self.groups[a, default: 0] == self.groups[b, default: 0]
    }

    func view(_ id: PKIID) -> [PKIID] { self.order.filter { self.connected(id, $0) } }

    mutating func start(_ ids: [PKIID]? = nil) {
        for id in ids ?? self.order { self.peers[id]!.started = true }
        for id in ids ?? self.order {
            let actions = self.peers[id]!.election.start(now: self.now, viewSize: self.view(id).count)
            self.apply(actions, of: id)
        }
    }

    mutating func stop(_ id: PKIID) {
        self.peers[id]!.election.stop()
        self.peers[id]!.isUp = false
    }

    mutating func yield(_ id: PKIID) {
        let actions = self.peers[id]!.election.yield(now: self.now)
        self.apply(actions, of: id)
    }

    /// Advances virtual time in 10 ms steps, waking machines whose time has come.
    mutating func run(for duration: Duration) {
        let end = self.now.advanced(by: duration)
        while self.now < end {
            self.now = self.now.advanced(by: .milliseconds(10))
            for id in self.order where self.peers[id]!.isUp && self.peers[id]!.started {
                if let wake = self.peers[id]!.election.nextWakeUp, wake <= self.now {
                    let actions = self.peers[id]!.election.wake(now: self.now, viewSize: self.view(id).count)
                    self.apply(actions, of: id)
                }
            }
        }
    }

    private mutating func apply(_ actions: [LeaderElection.Action], of id: PKIID) {
        for action in actions {
            switch action {
            case .propose, .declare:
                let isDeclaration: Bool
                if case .declare = action { isDeclaration = true } else { isDeclaration = false }
                let message = LeadershipMessage(senderID: id, isDeclaration: isDeclaration)
                self.peers[id]!.sent.append(message)
                for other in self.order where self.connected(id, other) {
                    let view = self.view(other)
                    let reactions = self.peers[other]!.election.receive(
                        message,
                        senderInView: view.contains(id),
                        now: self.now,
                        viewSize: view.count
                    )
                    self.apply(reactions, of: other)
                }
            case .leadershipChanged(let isLeader):
                self.peers[id]!.callbacks.append(isLeader)
            case .reportMetric(let isLeader):
                self.peers[id]!.metrics.append(isLeader)
            }
        }
    }

    var leaders: [PKIID] { self.order.filter { self.peers[$0]!.isUp && self.peers[$0]!.election.isLeader } }
}
