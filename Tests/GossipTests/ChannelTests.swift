import Foundation
import Gossip
import SwiftProtobuf
import TestSupport
import Testing
import Wire

@Suite("Channel state (gossip/gossip/channel/channel_test.go, gossip_test.go)")
struct ChannelTests {
    static let channel = "mychannel"

    /// Org1: p0..p(n-1); Org2: q0 (all external), everyone in `channel`.
    static func network(
        org1 count: Int = 3,
        configure: (Int, inout GossipConfig) -> Void = { _, _ in }
    ) async throws -> GossipSimulation {
        let sim = GossipSimulation(seed: 11)
        for i in 0..<count {
            try sim.addPeer(organization: "Org1MSP", name: "p\(i)") { config in
                if i > 0 { config.bootstrapPeers = ["p0:7051"] }
                configure(i, &config)
            }
        }
        try sim.addPeer(organization: "Org2MSP", name: "q0")
        sim.start()
        sim.joinAll(
            channel: Self.channel,
            organizations: ["Org1MSP", "Org2MSP"],
            anchorPeers: [
                AnchorPeer(host: "p0", port: 7051, organization: "Org1MSP"),
                AnchorPeer(host: "q0", port: 7051, organization: "Org2MSP"),
            ]
        )
        await sim.run(for: .seconds(30))
        return sim
    }

    static func blockMessage(_ sim: GossipSimulation, _ number: UInt64, forged: Bool = false) -> Gossip_GossipMessage {
        var bytes = sim.pki.makeBlock(number: number, channel: Self.channel)
        if forged { bytes = FakePKI(seed: 666).makeBlock(number: number, channel: Self.channel) }
        var data = Gossip_DataMessage()
        data.payload.seqNum = number
        data.payload.data = bytes
        return Gossip_GossipMessage(channel: Self.channel, tag: .chanAndOrg, content: .dataMsg(data))
    }

    static func deliveredBlocks(_ peer: GossipSimulation.Peer) -> Set<UInt64> {
        Set(
            peer.delivered.compactMap { received in
                if case .dataMsg(let data)? = received.message.message.content { return data.payload.seqNum }
                return nil
            }
        )
    }

    @Test("StateInfo: peersOfChannel carries the published heights; MAC and no channel field")
    func stateInfo() async throws {
        let sim = try await Self.network()
        sim.withCore(1) { core, now in core.updateLedgerHeight(42, channel: Self.channel, now: now) }
        await sim.run(for: .seconds(10))
        let peers = sim.peers[0].core.peersOfChannel(Self.channel)
        #expect(Scenario.names(sim, peers) == ["p1", "p2", "q0"])
        let p1 = try #require(peers.first { $0.pkiID == sim.peers[1].core.selfPKIID })
        #expect(p1.properties?.ledgerHeight == 42)
        let own = try #require(sim.peers[1].core.selfChannelInfo(Self.channel))
        #expect(own.message.channel.isEmpty)
        #expect(own.message.tag == .chanOrOrg)
        guard case .stateInfo(let info)? = own.message.content else {
            throw GossipError(.malformedMessage, "not StateInfo")
        }
        #expect(info.channelMac == ChannelMAC.of(sim.peers[1].core.selfPKIID, channel: Self.channel))
    }

    @Test("TestChannelPull: blocks reach every same-org channel peer, never another org (TestDataLeakage)")
    func blockDissemination() async throws {
        let sim = try await Self.network(org1: 5)
        for number: UInt64 in 1...5 { try sim.gossip(Self.blockMessage(sim, number), from: 0) }
        await sim.run(for: .seconds(15))
        for i in 1..<5 { #expect(Self.deliveredBlocks(sim.peers[i]) == Set(1...5), "\(sim.peers[i].name)") }
        #expect(Self.deliveredBlocks(sim.peers[5]).isEmpty)
        #expect(
            !sim.deliveries.contains { delivery in
                guard sim.peers[delivery.to].organization == "Org2MSP",
                    let message = try? SignedGossipMessage(envelope: delivery.envelope)
                else { return false }
                if case .dataMsg = message.message.content { return true }
                if case .dataUpdate(let update) = message.message.content { return update.msgType == .blockMsg }
                return false
            }
        )
    }

    @Test("TestChannelBadBlocks: a block that does not verify is neither stored nor delivered")
    func badBlocks() async throws {
        let sim = try await Self.network()
        let forged = try SignedGossipMessage.noopSign(Self.blockMessage(sim, 7, forged: true))
        sim.inject(forged.envelope, from: 1, to: 0)
        let good = try SignedGossipMessage.noopSign(Self.blockMessage(sim, 8))
        sim.inject(good.envelope, from: 1, to: 0)
        await sim.run(for: .milliseconds(20))
        #expect(Self.deliveredBlocks(sim.peers[0]) == [8])
        #expect(sim.peers[0].core.blocksHeld(in: Self.channel) == [8])
    }

    @Test("TestChannelPulledBadBlocks: an update with one forged block is rejected whole")
    func pulledBadBlocks() async throws {
        // p0 pushes nothing (propagateIterations 0): its blocks can only be pulled.
        let sim = try await Self.network(org1: 2) { i, config in if i == 0 { config.propagateIterations = 0 } }
        sim.withCore(0) { core, now in try! core.gossip(Self.blockMessage(sim, 5), now: now) }
        sim.withCore(0) { core, now in try! core.gossip(Self.blockMessage(sim, 6, forged: true), now: now) }
        #expect(sim.peers[0].core.blocksHeld(in: Self.channel) == [5, 6])
        await sim.run(for: .seconds(20))
        #expect(sim.peers[1].core.blocksHeld(in: Self.channel).isEmpty)
        #expect(Self.deliveredBlocks(sim.peers[1]).isEmpty)
        // Without the forged block, the pull brings block 5.
        let clean = try await Self.network(org1: 2) { i, config in if i == 0 { config.propagateIterations = 0 } }
        clean.withCore(0) { core, now in try! core.gossip(Self.blockMessage(clean, 5), now: now) }
        await clean.run(for: .seconds(20))
        #expect(clean.peers[1].core.blocksHeld(in: Self.channel) == [5])
        #expect(Self.deliveredBlocks(clean.peers[1]) == [5])
    }

    @Test("TestChannelPullWithDigestsFilter: blocks below the own ledger height are not requested")
    func digestFilter() async throws {
        let sim = try await Self.network(org1: 2) { i, config in if i == 0 { config.propagateIterations = 0 } }
        sim.withCore(1) { core, now in core.updateLedgerHeight(5, channel: Self.channel, now: now) }
        for number: UInt64 in 3...7 {
            sim.withCore(0) { core, now in try! core.gossip(Self.blockMessage(sim, number), now: now) }
        }
        await sim.run(for: .seconds(20))
        #expect(sim.peers[1].core.blocksHeld(in: Self.channel) == [5, 6, 7])
    }

    @Test("TestChannelPullAccessControl: a peer of another org gets no digest for its block hello")
    func pullAccessControl() async throws {
        let sim = try await Self.network()
        try sim.gossip(Self.blockMessage(sim, 1), from: 0)
        await sim.run(for: .seconds(1))
        var hello = Gossip_GossipHello()
        hello.nonce = 4242
        hello.msgType = .blockMsg
        let envelope = try SignedGossipMessage.noopSign(
            Gossip_GossipMessage(channel: Self.channel, tag: .chanAndOrg, content: .hello(hello))
        ).envelope
        let start = sim.deliveries.count
        sim.inject(envelope, from: 3, to: 0)  // q0 (Org2) asks p0
        sim.inject(envelope, from: 1, to: 0)  // p1 (Org1) asks p0
        await sim.run(for: .milliseconds(50))
        let digests = sim.deliveries[start...].filter { delivery in
            guard let message = try? SignedGossipMessage(envelope: delivery.envelope),
                case .dataDig(let digest)? = message.message.content
            else { return false }
            return digest.nonce == 4242
        }
        #expect(digests.map(\.to) == [1])
    }

    @Test(
        "TestChannelStateInfoSnapshot: snapshots answer pull requests; own-org peers without external endpoint are withheld from other orgs"
    )
    func stateInfoSnapshot() async throws {
        let sim = try await Self.network(org1: 3) { i, config in if i == 2 { config.externalEndpoint = "" } }
        var request = Gossip_StateInfoPullRequest()
        request.channelMac = ChannelMAC.of(sim.peers[3].core.selfPKIID, channel: Self.channel)
        let envelope = try SignedGossipMessage.noopSign(
            Gossip_GossipMessage(nonce: 9, tag: .chanOrOrg, content: .stateInfoPullReq(request))
        ).envelope
        let start = sim.deliveries.count
        sim.inject(envelope, from: 3, to: 0)
        var ownOrgRequest = Gossip_StateInfoPullRequest()
        ownOrgRequest.channelMac = ChannelMAC.of(sim.peers[1].core.selfPKIID, channel: Self.channel)
        sim.inject(
            try SignedGossipMessage.noopSign(
                Gossip_GossipMessage(nonce: 10, tag: .chanOrOrg, content: .stateInfoPullReq(ownOrgRequest))
            ).envelope,
            from: 1,
            to: 0
        )
        await sim.run(for: .milliseconds(50))
        func snapshot(nonce: UInt64) throws -> Set<String> {
            let delivery = try #require(
                sim.deliveries[start...].first { delivery in
                    guard let message = try? SignedGossipMessage(envelope: delivery.envelope) else { return false }
                    if case .stateSnapshot = message.message.content { return message.message.nonce == nonce }
                    return false
                }
            )
            let message = try SignedGossipMessage(envelope: delivery.envelope)
            guard case .stateSnapshot(let snapshot)? = message.message.content else { return [] }
            return Set(
                try snapshot.elements.map { element in
                    guard case .stateInfo(let info)? = try SignedGossipMessage(envelope: element).message.content else {
                        return "?"
                    }
                    return sim.index(of: PKIID(info.pkiID)).map { sim.peers[$0].name } ?? "?"
                }
            )
        }
        #expect(try snapshot(nonce: 9) == ["p0", "p1", "q0"])
        #expect(try snapshot(nonce: 10) == ["p0", "p1", "p2", "q0"])
        // A request whose MAC is computed with someone else's PKI-ID matches no channel: no answer.
        let forgedStart = sim.deliveries.count
        sim.inject(envelope, from: 1, to: 0)
        await sim.run(for: .milliseconds(50))
        #expect(
            !sim.deliveries[forgedStart...].contains {
                ($0.to == 1)
                    && ((try? SignedGossipMessage(envelope: $0.envelope))?.message.contentName == "state_snapshot")
            }
        )
    }

    @Test("an empty StateInfoSnapshot still sets its oneof (§10.4)")
    func emptySnapshotOneof() async throws {
        let message = Gossip_GossipMessage(
            channel: "c",
            tag: .chanOrOrg,
            content: .stateSnapshot(Gossip_StateInfoSnapshot())
        )
        let bytes: Data = try message.serializedBytes()
        // Field 16, wire type 2 (tag bytes 0x82 0x01), length 0.
        #expect(bytes.range(of: Data([0x82, 0x01, 0x00])) != nil)
        let decoded = try Gossip_GossipMessage(serializedBytes: bytes)
        #expect(decoded.contentName == "state_snapshot")
        try decoded.checkTagIsLegal()
    }

    @Test("TestLeaveChannel: a peer that left disappears from peersOfChannel and sees nobody")
    func leaveChannel() async throws {
        let sim = try await Self.network()
        sim.withCore(2) { core, now in core.leaveChannel(Self.channel, now: now) }
        await sim.run(for: .seconds(10))
        #expect(Scenario.names(sim, sim.peers[0].core.peersOfChannel(Self.channel)) == ["p1", "q0"])
        #expect(sim.peers[2].core.peersOfChannel(Self.channel).isEmpty)
    }

    @Test("TestFilterForeignOrgLeadershipMessages: leadership messages from another org are dropped")
    func foreignLeadership() async throws {
        let sim = try await Self.network()
        func leadership(_ sender: Int, seq: UInt64) throws -> Gossip_Envelope {
            var message = Gossip_LeadershipMessage()
            message.pkiID = sim.peers[sender].core.selfPKIID.bytes
            message.isDeclaration = true
            message.timestamp = Gossip_PeerTime(incNum: 1, seqNum: seq)
            let identity = sim.peers[sender].identity
            return try SignedGossipMessage.sign(
                Gossip_GossipMessage(channel: Self.channel, tag: .chanAndOrg, content: .leadershipMsg(message))
            ) {
                (payload) throws(GossipError) in identity.sign(payload)
            }.envelope
        }
        sim.inject(try leadership(3, seq: 1), from: 3, to: 0)
        sim.inject(try leadership(1, seq: 1), from: 1, to: 0)
        // Signed by p2 but claiming to be p1: dropped.
        var forged = try SignedGossipMessage(envelope: try leadership(1, seq: 2))
        forged.envelope.signature = sim.peers[2].identity.sign(forged.envelope.payload)
        sim.inject(forged.envelope, from: 2, to: 0)
        await sim.run(for: .milliseconds(20))
        let senders = sim.peers[0].delivered.compactMap { received -> PKIID? in
            if case .leadershipMsg(let message)? = received.message.message.content { return PKIID(message.pkiID) }
            return nil
        }
        #expect(senders == [sim.peers[1].core.selfPKIID])
    }

    @Test("JoinChan: no organisations or a lower sequence is ignored; an equal sequence is accepted")
    func joinSequence() async throws {
        let sim = GossipSimulation()
        let index = try sim.addPeer(organization: "Org1MSP", name: "p0")
        sim.start()
        sim.withCore(index) { core, now in
            core.joinChannel(JoinChannelMessage(sequence: 5, organizations: ["Org1MSP"]), channel: "c", now: now)
        }
        sim.withCore(index) { core, now in
            core.joinChannel(JoinChannelMessage(sequence: 4, organizations: ["Org2MSP"]), channel: "c", now: now)
        }
        #expect(sim.peers[index].core.organizations(of: "c") == ["Org1MSP"])
        sim.withCore(index) { core, now in
            core.joinChannel(JoinChannelMessage(sequence: 5, organizations: []), channel: "c", now: now)
        }
        #expect(sim.peers[index].core.organizations(of: "c") == ["Org1MSP"])
        sim.withCore(index) { core, now in
            core.joinChannel(
                JoinChannelMessage(sequence: 5, organizations: ["Org1MSP", "Org2MSP"]),
                channel: "c",
                now: now
            )
        }
        #expect(sim.peers[index].core.organizations(of: "c") == ["Org1MSP", "Org2MSP"])
    }
}
