import Election
import Foundation
import Gossip
import TestSupport
import Testing
import Wire

@Suite("Simulation: 20 peers in two orgs on the simulated network")
struct SimulationTests {
    static let channel = "simchannel"

    /// 10 peers per org; peer 0 of each org is its bootstrap and anchor peer; every 3rd peer has no external
    /// endpoint. Latency 5 ms, 1% loss.
    static func network(seed: UInt64 = 2024) throws -> GossipSimulation {
        let sim = GossipSimulation(seed: seed)
        sim.lossRate = 0.01
        for org in 1...2 {
            for i in 0..<10 {
                try sim.addPeer(organization: "Org\(org)MSP", name: "org\(org)-p\(i)", externalEndpoint: i % 3 != 2) {
                    config in
                    if i > 0 { config.bootstrapPeers = ["org\(org)-p0:7051"] }
                }
            }
        }
        sim.start()
        sim.joinAll(
            channel: Self.channel,
            organizations: ["Org1MSP", "Org2MSP"],
            anchorPeers: [
                AnchorPeer(host: "org1-p0", port: 7051, organization: "Org1MSP"),
                AnchorPeer(host: "org2-p0", port: 7051, organization: "Org2MSP"),
            ]
        )
        sim.enableElection(channel: Self.channel, config: ElectionConfig())
        return sim
    }

    /// Who a peer should see: everyone of its org; of the other org, those with an external endpoint, and only
    /// if the peer itself has one.
    static func expectedView(_ sim: GossipSimulation, of index: Int) -> Set<String> {
        let me = sim.peers[index]
        let iAmExternal = !me.core.config.externalEndpoint.isEmpty
        return Set(
            sim.peers.indices.filter { other in
                guard other != index else { return false }
                let peer = sim.peers[other]
                if peer.organization == me.organization { return true }
                return iAmExternal && !peer.core.config.externalEndpoint.isEmpty
            }.map { sim.peers[$0].name }
        )
    }

    @Test("membership converges, org-only traffic stays in its org, and each org elects exactly one leader")
    func twentyPeers() async throws {
        let sim = try Self.network()
        await sim.run(for: .seconds(60))

        // Membership: each peer sees exactly what the disclosure policy allows.
        for index in sim.peers.indices {
            let seen = Scenario.names(sim, sim.peers[index].core.aliveMembers)
            #expect(seen == Self.expectedView(sim, of: index), "\(sim.peers[index].name)")
        }

        // Election: exactly one leader per org, the lowest PKI-ID of the org, and every peer agrees.
        for org in ["Org1MSP", "Org2MSP"] {
            let leaders = sim.leaders(of: Self.channel).filter { sim.peers[$0].organization == org }
            #expect(leaders.count == 1, "\(org) has leaders \(leaders.map { sim.peers[$0].name })")
            let lowest = sim.peers.indices.filter { sim.peers[$0].organization == org }
                .min { sim.peers[$0].core.selfPKIID < sim.peers[$1].core.selfPKIID }
            #expect(leaders.first == lowest)
        }

        // Blocks from each org's leader reach all its org's peers.
        for org in ["Org1MSP", "Org2MSP"] {
            let leader = try #require(sim.leaders(of: Self.channel).first { sim.peers[$0].organization == org })
            for number: UInt64 in 1...3 {
                var data = Gossip_DataMessage()
                data.payload.seqNum = number
                data.payload.data = sim.pki.makeBlock(number: number, channel: Self.channel)
                try sim.gossip(
                    Gossip_GossipMessage(channel: Self.channel, tag: .chanAndOrg, content: .dataMsg(data)),
                    from: leader
                )
            }
        }
        await sim.run(for: .seconds(10))
        let leaders = Set(sim.leaders(of: Self.channel))
        for (index, peer) in sim.peers.enumerated() where !leaders.contains(index) {
            #expect(ChannelTests.deliveredBlocks(peer) == [1, 2, 3], "\(peer.name)")
        }
        print(
            "simulation: \(sim.sentCount) envelopes sent, \(sim.deliveries.count) delivered, \(sim.droppedCount) dropped"
        )

        // Org-only traffic (CHAN_AND_ORG, ORG_ONLY, block pull) and secrets never crossed orgs.
        var crossOrg = 0
        for delivery in sim.deliveries
        where sim.peers[delivery.from].organization != sim.peers[delivery.to].organization {
            crossOrg += 1
            let message = try SignedGossipMessage(envelope: delivery.envelope).message
            #expect(!message.isOrgRestricted, "\(message.contentName) crossed orgs")
            #expect(message.pullMessageType != .blockMsg)
            for inner in try DisclosureTests.aliveEnvelopes(delivery.envelope) { #expect(!inner.hasSecretEnvelope) }
        }
        #expect(crossOrg > 0)
    }

    @Test("a crashed leader is replaced; the org still has exactly one leader")
    func leaderCrash() async throws {
        let sim = try Self.network(seed: 7)
        await sim.run(for: .seconds(45))
        let leader = try #require(sim.leaders(of: Self.channel).first { sim.peers[$0].organization == "Org1MSP" })
        sim.crash(leader)
        await sim.run(for: .seconds(45))
        let leaders = sim.leaders(of: Self.channel).filter { sim.peers[$0].organization == "Org1MSP" }
        #expect(leaders.count == 1)
        #expect(leaders.first != leader)
    }

    @Test("the same seed gives the same run")
    func deterministic() async throws {
        func run() async throws -> [String] {
            let sim = try Self.network(seed: 99)
            sim.recordsDeliveries = false
            await sim.run(for: .seconds(20))
            return sim.peers.map { peer in
                "\(peer.name):\(peer.core.aliveMembers.count):\(peer.leadershipChanges.count)"
            } + ["\(sim.sentCount)"]
        }
        let first = try await run()
        let second = try await run()
        #expect(first == second)
    }
}
