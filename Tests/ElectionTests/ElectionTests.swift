import Election
import Foundation
import Gossip
import Testing
import Wire

@Suite("Leader election (gossip/election/election_test.go)")
struct ElectionTests {
    typealias H = ElectionHarness
    let config = ElectionHarness.config

    @Test("TestInitPeersAtSameTime: peers started together elect the lowest ID, and only it")
    func initPeersAtSameTime() {
        var harness = H(ids: [3, 1, 4, 2, 5])
        harness.start()
        harness.run(for: .seconds(6))
        #expect(harness.leaders == [H.id(1)])
        #expect(harness.peers[H.id(1)]!.callbacks == [true])
        for id in harness.order where id != H.id(1) { #expect(harness.peers[id]!.callbacks.isEmpty) }
    }

    @Test("TestInitPeersStartAtIntervals: the first peer to start stays the leader")
    func initPeersStartAtIntervals() {
        var harness = H(ids: [9, 1, 2, 3])
        harness.start([H.id(9)])
        harness.run(for: .seconds(5))
        #expect(harness.leaders == [H.id(9)])
        for n: UInt8 in [1, 2, 3] {
            harness.start([H.id(n)])
            harness.run(for: .milliseconds(700))
        }
        harness.run(for: .seconds(10))
        #expect(harness.leaders == [H.id(9)])
        #expect(harness.peers[H.id(9)]!.callbacks == [true])
    }

    @Test("TestConvergence: two groups with a leader each merge to one leader, the lowest ID")
    func convergence() {
        var harness = H(ids: [1, 2, 3, 4, 5, 6])
        for n: UInt8 in [1, 2, 3] { harness.groups[H.id(n)] = 1 }
        for n: UInt8 in [4, 5, 6] { harness.groups[H.id(n)] = 2 }
        harness.start()
        harness.run(for: .seconds(6))
        #expect(harness.leaders == [H.id(1), H.id(4)])
        harness.groups = [:]
        harness.run(for: .seconds(5))
        #expect(harness.leaders == [H.id(1)])
        #expect(harness.peers[H.id(4)]!.callbacks == [true, false])
    }

    @Test("TestLeadershipTakeover: when the leader stops, the next lowest ID takes over")
    func leadershipTakeover() {
        var harness = H(ids: [1, 2, 3, 4])
        harness.start()
        harness.run(for: .seconds(6))
        #expect(harness.leaders == [H.id(1)])
        harness.stop(H.id(1))
        harness.run(for: .seconds(4))
        #expect(harness.leaders == [H.id(2)])
    }

    @Test("TestPartition: isolated peers each lead; healed, one leader remains")
    func partition() {
        var harness = H(ids: [1, 2, 3, 4, 5])
        harness.start()
        harness.run(for: .seconds(6))
        #expect(harness.leaders == [H.id(1)])
        for (index, id) in harness.order.enumerated() { harness.groups[id] = index + 1 }
        harness.run(for: .seconds(4))
        #expect(harness.leaders.count == 5)
        harness.groups = [:]
        harness.run(for: .seconds(4))
        #expect(harness.leaders == [H.id(1)])
    }

    @Test("TestYield: a yielding leader hands over and does not take leadership back")
    func yield() {
        var harness = H(ids: [1, 2, 3])
        harness.start()
        harness.run(for: .seconds(6))
        #expect(harness.leaders == [H.id(1)])
        harness.yield(H.id(1))
        #expect(harness.peers[H.id(1)]!.callbacks == [true, false])
        #expect(harness.peers[H.id(1)]!.election.isYielding(at: harness.now))
        harness.run(for: .seconds(4))
        #expect(harness.leaders == [H.id(2)])
        // Well past the yield period (6 × threshold) the new leader keeps declaring and stays.
        harness.run(for: self.config.yieldDuration + .seconds(2))
        #expect(harness.leaders == [H.id(2)])
        #expect(!harness.peers[H.id(1)]!.election.isYielding(at: harness.now))
    }

    @Test("TestYieldSinglePeer: a lone peer yields, then leads again after the yield period")
    func yieldSinglePeer() {
        var harness = H(ids: [1])
        harness.start()
        harness.run(for: .seconds(5))
        #expect(harness.leaders == [H.id(1)])
        harness.yield(H.id(1))
        #expect(harness.leaders.isEmpty)
        harness.run(for: .seconds(3))
        #expect(harness.leaders.isEmpty)
        harness.run(for: self.config.yieldDuration)
        #expect(harness.leaders == [H.id(1)])
        #expect(harness.peers[H.id(1)]!.callbacks == [true, false, true])
    }

    @Test("TestYieldAllPeers: when every peer yields in turn, one of them leads again afterwards")
    func yieldAllPeers() {
        var harness = H(ids: [1, 2, 3])
        harness.start()
        harness.run(for: .seconds(6))
        for _ in 0..<3 {
            let leader = harness.leaders.first!
            harness.yield(leader)
            harness.run(for: .seconds(4))
        }
        harness.run(for: self.config.yieldDuration + .seconds(4))
        #expect(harness.leaders.count == 1)
    }

    @Test("a yield by a follower, or a second yield, does nothing")
    func yieldOnlyOnce() {
        var harness = H(ids: [1, 2])
        harness.start()
        harness.run(for: .seconds(6))
        harness.yield(H.id(2))
        #expect(!harness.peers[H.id(2)]!.election.isYielding(at: harness.now))
        harness.yield(H.id(1))
        let until = harness.peers[H.id(1)]!.election.yieldingUntil
        harness.yield(H.id(1))
        #expect(harness.peers[H.id(1)]!.election.yieldingUntil == until)
    }

    @Test("TestStop: a stopped peer sends nothing more")
    func stop() {
        var harness = H(ids: [1, 2])
        harness.start()
        harness.run(for: .seconds(6))
        harness.stop(H.id(1))
        let sent = harness.peers[H.id(1)]!.sent.count
        harness.run(for: .seconds(5))
        #expect(harness.peers[H.id(1)]!.sent.count == sent)
        #expect(harness.peers[H.id(1)]!.election.nextWakeUp == nil)
    }

    @Test("TestMetrics: the leader reports 1, followers 0")
    func metrics() {
        var harness = H(ids: [1, 2])
        harness.start()
        harness.run(for: .seconds(6))
        #expect(harness.peers[H.id(1)]!.metrics.last == true)
        #expect(harness.peers[H.id(2)]!.metrics.last == false)
        #expect(!harness.peers[H.id(2)]!.metrics.contains(true))
    }

    @Test("leaders re-declare every threshold/2; followers without declarations re-elect after a threshold")
    func timing() {
        var harness = H(ids: [1, 2])
        harness.start()
        harness.run(for: .seconds(6))
        let declarations = harness.peers[H.id(1)]!.sent.filter(\.isDeclaration).count
        harness.run(for: .seconds(5))
        let more = harness.peers[H.id(1)]!.sent.filter(\.isDeclaration).count - declarations
        #expect((9...11).contains(more))  // every 500 ms for 5 s
        // Cut the leader off: the follower proposes within one threshold plus an election round.
        harness.groups[H.id(1)] = 1
        harness.run(for: self.config.leaderAliveThreshold + self.config.leaderElectionDuration + .milliseconds(600))
        #expect(harness.leaders.contains(H.id(2)))
    }

    @Test("messages from peers outside the view are ignored")
    func outsideView() {
        var election = LeaderElection(selfID: H.id(5), config: self.config)
        let t0 = GossipInstant(nanosecondsSinceEpoch: 0)
        _ = election.start(now: t0, viewSize: 0)
        _ = election.receive(
            LeadershipMessage(senderID: H.id(1), isDeclaration: true),
            senderInView: false,
            now: t0,
            viewSize: 0
        )
        #expect(!election.leaderExists)
        _ = election.receive(
            LeadershipMessage(senderID: H.id(1), isDeclaration: false),
            senderInView: true,
            now: t0,
            viewSize: 1
        )
        #expect(election.proposals == [H.id(1)])
    }

    @Test("membership wait: sampling stops when the view stops changing, or at the grace period")
    func membershipWait() {
        var election = LeaderElection(selfID: H.id(1), config: self.config)
        var now = GossipInstant(nanosecondsSinceEpoch: 0)
        _ = election.start(now: now, viewSize: 0)
        var size = 0
        // The view keeps growing: no proposal before the grace period ends.
        var proposedAt: GossipInstant?
        while proposedAt == nil {
            now = election.nextWakeUp!
            size += 1
            if election.wake(now: now, viewSize: size).contains(.propose) { proposedAt = now }
        }
        #expect(proposedAt! > GossipInstant(nanosecondsSinceEpoch: 0).advanced(by: self.config.startupGracePeriod))
        // A stable view ends the wait at the next sample.
        var stable = LeaderElection(selfID: H.id(1), config: self.config)
        _ = stable.start(now: .init(nanosecondsSinceEpoch: 0), viewSize: 3)
        #expect(stable.wake(now: stable.nextWakeUp!, viewSize: 3) == [.propose])
    }
}

@Suite("Election adapter and settings (adapter_test.go, gossip service)")
struct ElectionAdapterTests {
    @Test("TestAdapterImpl_CreateMessage: seq increments, inc stays, tag CHAN_AND_ORG, channel set, nonce 0")
    func createMessage() throws {
        let id = PKIID(Data([7, 7]))
        var factory = LeadershipMessageFactory(
            pkiID: id,
            channel: "ch",
            createdAt: GossipInstant(nanosecondsSinceEpoch: 123)
        )
        let first = factory.make(isDeclaration: false)
        let second = factory.make(isDeclaration: true)
        for (message, seq) in [(first, UInt64(1)), (second, 2)] {
            #expect(message.tag == .chanAndOrg)
            #expect(message.nonce == 0)
            #expect(message.channelID == "ch")
            try message.checkTagIsLegal()
            guard case .leadershipMsg(let leadership)? = message.content else {
                Issue.record("not a leadership message")
                continue
            }
            #expect(leadership.timestamp.incNum == 123)
            #expect(leadership.timestamp.seqNum == seq)
            #expect(leadership.pkiID == id.bytes)
        }
        #expect(
            LeadershipMessage(second, channel: "ch")
                == LeadershipMessage(
                    senderID: id,
                    isDeclaration: true,
                    timestamp: Gossip_PeerTime(incNum: 123, seqNum: 2)
                )
        )
        // Accepted only with tag CHAN_AND_ORG and the right channel.
        #expect(LeadershipMessage(second, channel: "other") == nil)
        var wrongTag = second
        wrongTag.tag = .orgOnly
        #expect(LeadershipMessage(wrongTag, channel: "ch") == nil)
    }

    @Test("useLeaderElection and orgLeader both true is a startup error, not a crash")
    func settings() throws {
        #expect(throws: ElectionError(.conflictingLeaderSettings, "")) {
            try LeadershipSettings(useLeaderElection: true, orgLeader: true).mode()
        }
        #expect(try LeadershipSettings(useLeaderElection: false, orgLeader: true).mode() == .staticLeader)
        #expect(try LeadershipSettings(useLeaderElection: false, orgLeader: false).mode() == .follower)
        #expect(try LeadershipSettings(useLeaderElection: true, orgLeader: false).mode() == .election(ElectionConfig()))
        var bad = ElectionConfig()
        bad.leaderAliveThreshold = .zero
        #expect(throws: ElectionError(.badConfiguration, "")) {
            try LeadershipSettings(useLeaderElection: true, orgLeader: false, election: bad).mode()
        }
        let defaults = ElectionConfig()
        #expect(defaults.startupGracePeriod == .seconds(15))
        #expect(defaults.membershipSampleInterval == .seconds(1))
        #expect(defaults.leaderAliveThreshold == .seconds(10))
        #expect(defaults.leaderElectionDuration == .seconds(5))
        #expect(defaults.declarationInterval == .seconds(5))
        #expect(defaults.yieldDuration == .seconds(60))
    }
}
