import Election
import Foundation
import Gossip
import Synchronization
import TestSupport
import Testing
import Wire

/// A value behind a lock, shareable between tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { self.mutex = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { self.mutex.withLock { body(&$0) } }
}

/// The async shells (``GossipNode``, ``LeaderElectionService``) on the in-memory transport with the wall clock and
/// every interval shrunk 10×: the same protocol as the simulation, through the real I/O path.
@Suite("GossipNode on the in-memory transport")
struct GossipNodeTests {
    static let channel = "nodechannel"

    struct Cluster {
        let network: InMemoryNetwork
        let nodes: [GossipNode]
        let identities: [FakeSigningIdentity]
    }

    static func cluster(
        _ specs: [(org: String, name: String)],
        conditions: InMemoryNetwork.Conditions = .init()
    ) throws -> Cluster {
        let pki = FakePKI(seed: 77)
        let network = InMemoryNetwork(conditions: conditions)
        var nodes: [GossipNode] = []
        var identities: [FakeSigningIdentity] = []
        for (index, spec) in specs.enumerated() {
            let identity = pki.issue(mspID: spec.org, name: spec.name)
            // 5x faster than Fabric: at 20x, alive expiry (1.25 s) flapped on a loaded 2-core machine, and at 10x
            // (2.5 s) it still did once while the whole suite ran beside it (membership never held for 60 s).
            var config = GossipConfig().scaled(down: 5)
            config.internalEndpoint = "\(spec.name):7051"
            config.externalEndpoint = config.internalEndpoint
            if let first = specs.first(where: { $0.org == spec.org }), first.name != spec.name {
                config.bootstrapPeers = ["\(first.name):7051"]
            }
            let mcs = pki.crypto(for: identity)
            let core = try GossipCore(
                config: config,
                identity: identity.serialized,
                mcs: mcs,
                advisor: FakeSecurityAdvisor(),
                now: WallClock().now,
                seed: UInt64(index + 1)
            )
            let transport = try network.transport(
                endpoint: config.internalEndpoint,
                identity: identity.serialized,
                mcs: mcs
            )
            nodes.append(GossipNode(core: core, transport: transport, clock: WallClock()))
            identities.append(identity)
        }
        return Cluster(network: network, nodes: nodes, identities: identities)
    }

    /// Polls `condition` every 20 ms for up to `timeout`.
    static func eventually(timeout: Duration = .seconds(60), _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test("nodes converge, gossip a block to subscribers, and elect one leader per org")
    func nodesAndElection() async throws {
        let specs = [("Org1MSP", "a0"), ("Org1MSP", "a1"), ("Org1MSP", "a2"), ("Org2MSP", "b0"), ("Org2MSP", "b1")]
        let cluster = try Self.cluster(
            specs.map { (org: $0.0, name: $0.1) },
            conditions: .init(latency: .milliseconds(1))
        )
        let electionConfig = ElectionConfig(
            startupGracePeriod: .seconds(1),
            membershipSampleInterval: .milliseconds(100),
            leaderAliveThreshold: .seconds(1),
            leaderElectionDuration: .milliseconds(300)
        )
        let leadership = Locked<[Int: Bool]>([:])
        let received = Locked<[Int: Set<UInt64>]>([:])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await cluster.network.run() }
            for node in cluster.nodes { group.addTask { await node.run() } }
            let anchors = [
                AnchorPeer(host: "a0", port: 7051, organization: "Org1MSP"),
                AnchorPeer(host: "b0", port: 7051, organization: "Org2MSP"),
            ]
            for node in cluster.nodes {
                node.joinChannel(
                    JoinChannelMessage(sequence: 1, organizations: ["Org1MSP", "Org2MSP"], anchorPeers: anchors),
                    channel: Self.channel
                )
                node.updateLedgerHeight(1, channel: Self.channel)
            }
            for (index, node) in cluster.nodes.enumerated() {
                let blocks = node.subscribe {
                    if case .dataMsg = $0.message.message.content { return true } else { return false }
                }
                group.addTask {
                    for await message in blocks {
                        if case .dataMsg(let data)? = message.message.message.content {
                            received.withLock { _ = $0[index, default: []].insert(data.payload.seqNum) }
                        }
                    }
                }
                let service = LeaderElectionService(
                    selfID: node.pkiID,
                    channel: Self.channel,
                    config: electionConfig,
                    adapter: GossipElectionAdapter(node: node, channel: Self.channel),
                    clock: WallClock()
                ) { isLeader in leadership.withLock { $0[index] = isLeader } }
                group.addTask { await service.run() }
            }

            let converged = try await Self.eventually {
                cluster.nodes.allSatisfy { $0.aliveMembers.count == 4 && $0.peersOfChannel(Self.channel).count == 4 }
            }
            #expect(converged, "membership: \(cluster.nodes.map { $0.aliveMembers.count })")

            // One leader per org, and it stays the leader.
            let org1 = [0, 1, 2]
            let org2 = [3, 4]
            func leaders(_ members: [Int]) -> [Int] {
                leadership.withLock { state in members.filter { state[$0] == true } }
            }
            let elected = try await Self.eventually { leaders(org1).count == 1 && leaders(org2).count == 1 }
            #expect(elected, "leaders: \(leadership.withLock { $0 })")
            let chosen = (leaders(org1), leaders(org2))
            try await Task.sleep(for: .milliseconds(1500))
            #expect(leaders(org1) == chosen.0)
            #expect(leaders(org2) == chosen.1)

            // A block gossiped by a0 reaches a1 and a2, never Org2.
            var data = Gossip_DataMessage()
            data.payload.seqNum = 1
            data.payload.data = FakePKI(seed: 77).makeBlock(number: 1, channel: Self.channel)
            try cluster.nodes[0].gossip(
                Gossip_GossipMessage(channel: Self.channel, tag: .chanAndOrg, content: .dataMsg(data))
            )
            let delivered = try await Self.eventually {
                received.withLock { $0[1]?.contains(1) == true && $0[2]?.contains(1) == true }
            }
            #expect(delivered)
            try await Task.sleep(for: .milliseconds(200))
            #expect(received.withLock { $0[3] == nil && $0[4] == nil })

            group.cancelAll()
        }
        #expect(cluster.network.statistics.handshakes > 0)
    }

    @Test("the in-memory transport authenticates with the real handshake and refuses an unexpected identity")
    func transportHandshake() async throws {
        let pki = FakePKI(seed: 5)
        let network = InMemoryNetwork()
        let alice = pki.issue(mspID: "Org1MSP", name: "alice")
        let bob = pki.issue(mspID: "Org1MSP", name: "bob")
        let carol = pki.issue(mspID: "Org2MSP", name: "carol")
        let a = try network.transport(endpoint: "alice:1", identity: alice.serialized, mcs: pki.crypto(for: alice))
        let b = try network.transport(endpoint: "bob:1", identity: bob.serialized, mcs: pki.crypto(for: bob))
        _ = b
        let info = try await a.probe(RemotePeer(endpoint: "bob:1"))
        #expect(info.pkiID == bob.pkiID)
        #expect(info.identity == bob.serialized)
        // The auth info is bob's signed ConnEstablish.
        let hello = try SignedGossipMessage(
            envelope: {
                var envelope = Gossip_Envelope()
                envelope.payload = info.auth.signedData
                envelope.signature = info.auth.signature
                return envelope
            }()
        )
        try hello.verify(identity: bob.serialized, using: pki.crypto(for: alice))
        // Expecting carol at bob's endpoint fails the handshake.
        await #expect(throws: GossipError.self) { try await a.probe(RemotePeer(endpoint: "bob:1", pkiID: carol.pkiID)) }
        // An identity from another CA is refused by the receiver.
        let stranger = FakePKI(seed: 6).issue(mspID: "Org1MSP", name: "stranger")
        let s = try network.transport(
            endpoint: "stranger:1",
            identity: stranger.serialized,
            mcs: FakePKI(seed: 6).crypto(for: stranger)
        )
        s.send(Gossip_Envelope(), to: RemotePeer(endpoint: "alice:1"))
        #expect(network.statistics.dropped == 1)
    }
}
