import Foundation
import Gossip
import TestSupport
import Testing
import Wire

/// Builders shared by the simulation-based suites.
enum Scenario {
    /// `count` peers of one org, all bootstrapping to the first.
    static func oneOrg(_ count: Int, seed: UInt64 = 1, organization: String = "Org1MSP") async throws -> GossipSimulation {
        let sim = GossipSimulation(seed: seed)
        for i in 0..<count {
            try sim.addPeer(organization: organization, name: "p\(i)") { config in
                if i > 0 { config.bootstrapPeers = ["p0:7051"] }
            }
        }
        return sim
    }

    static func names(_ sim: GossipSimulation, _ members: [NetworkMember]) -> Set<String> {
        Set(members.compactMap { member in sim.index(of: member.pkiID).map { sim.peers[$0].name } })
    }

    static func signedAlive(
        _ identity: FakeSigningIdentity,
        claiming pkiID: PKIID? = nil,
        endpoint: String,
        inc: UInt64 = 1,
        seq: UInt64 = 1,
        withIdentity: Bool = true
    ) throws -> SignedGossipMessage {
        var alive = Gossip_AliveMessage()
        alive.membership.endpoint = endpoint
        alive.membership.pkiID = (pkiID ?? identity.pkiID).bytes
        alive.timestamp = Gossip_PeerTime(incNum: inc, seqNum: seq)
        if withIdentity { alive.identity = identity.serialized }
        return try SignedGossipMessage.sign(Gossip_GossipMessage(tag: .empty, content: .aliveMsg(alive))) {
            (payload) throws(GossipError) in identity.sign(payload)
        }
    }
}

@Suite("Discovery (gossip/discovery/discovery_test.go)")
struct DiscoveryTests {
    @Test("TestConvergence: peers bootstrapping to one peer all learn each other")
    func convergence() async throws {
        let sim = try await Scenario.oneOrg(8)
        sim.start()
        await sim.run(for: .seconds(30))
        for (i, peer) in sim.peers.enumerated() {
            let expected = Set(sim.peers.indices.filter { $0 != i }.map { sim.peers[$0].name })
            #expect(Scenario.names(sim, peer.core.aliveMembers) == expected, "\(peer.name)")
            // Same org: internal endpoints are known.
            #expect(peer.core.aliveMembers.allSatisfy { !$0.internalEndpoint.isEmpty })
        }
    }

    @Test("TestExpiration: silent peers become dead, then are purged, except bootstrap peers")
    func expiration() async throws {
        let sim = try await Scenario.oneOrg(6)
        sim.start()
        await sim.run(for: .seconds(30))
        #expect(sim.peers[3].core.aliveMembers.count == 5)
        sim.crash(0)  // the bootstrap peer
        sim.crash(5)
        let config = GossipConfig()
        await sim.run(for: config.aliveExpirationTimeout + .seconds(5))
        for i in 1...4 {
            #expect(Scenario.names(sim, sim.peers[i].core.deadMembers) == ["p0", "p5"], "\(sim.peers[i].name)")
            #expect(sim.peers[i].core.aliveMembers.count == 3)
        }
        await sim.run(for: config.aliveMessageTTL + .seconds(10))
        for i in 1...4 {
            // p5 is purged entirely; p0 is a bootstrap peer and stays (dead).
            #expect(Scenario.names(sim, sim.peers[i].core.deadMembers) == ["p0"], "\(sim.peers[i].name)")
        }
    }

    @Test("dead peers that come back are resurrected by a newer alive message")
    func resurrection() async throws {
        let sim = try await Scenario.oneOrg(4)
        sim.start()
        await sim.run(for: .seconds(20))
        sim.partition([[0, 1, 2], [3]])
        await sim.run(for: .seconds(40))
        #expect(Scenario.names(sim, sim.peers[1].core.deadMembers) == ["p3"])
        sim.heal()
        await sim.run(for: GossipConfig().reconnectInterval + .seconds(10))
        #expect(sim.peers[1].core.deadMembers.isEmpty)
        #expect(sim.peers[1].core.aliveMembers.count == 3)
    }

    @Test("TestIdentityExpiration: a peer whose certificate expired is dropped and becomes dead for the others")
    func identityExpiration() async throws {
        let sim = GossipSimulation(seed: 8)
        let expiry = sim.now.advanced(by: .seconds(60))
        for i in 0..<4 {
            try sim.addPeer(organization: "Org1MSP", name: "p\(i)", certificateExpiresAt: i == 3 ? expiry : nil) { config in
                if i > 0 { config.bootstrapPeers = ["p0:7051"] }
            }
        }
        sim.start()
        await sim.run(for: .seconds(30))
        let expiring = sim.peers[3].core.selfPKIID
        #expect(sim.peers[0].core.aliveMembers.count == 3)
        await sim.run(for: .seconds(30) + GossipConfig().aliveExpirationTimeout + .seconds(10))
        for i in 0..<3 {
            #expect(sim.peers[i].core.identities.lookup(expiring) == nil, "\(sim.peers[i].name)")
            #expect(Scenario.names(sim, sim.peers[i].core.deadMembers) == ["p3"], "\(sim.peers[i].name)")
        }
    }

    @Test("TestValidation: forged or misattributed alive messages are not learned")
    func validation() async throws {
        let sim = try await Scenario.oneOrg(3)
        sim.start()
        await sim.run(for: .seconds(15))
        let mallory = sim.pki.issue(mspID: "Org1MSP", name: "mallory")
        // Mallory claims p2's PKI-ID with her own signature.
        let spoof = try Scenario.signedAlive(
            mallory,
            claiming: sim.peers[2].core.selfPKIID,
            endpoint: "evil:1",
            inc: .max,
            seq: 1,
            withIdentity: false
        )
        sim.inject(spoof.envelope, from: 1, to: 0)
        // A message whose payload was altered after signing.
        var tampered = try Scenario.signedAlive(mallory, endpoint: "evil:2")
        tampered.envelope.payload.append(0)
        sim.inject(tampered.envelope, from: 1, to: 0)
        // A NoopSigned alive message.
        let unsigned = try SignedGossipMessage.noopSign(tampered.message)
        sim.inject(unsigned.envelope, from: 1, to: 0)
        await sim.run(for: .seconds(1))
        let members = sim.peers[0].core.aliveMembers
        #expect(members.count == 2)
        #expect(members.allSatisfy { $0.endpoint != "evil:1" && $0.endpoint != "evil:2" })
    }

    @Test("TestMembershipRequestSpoofing: a membership request carrying another peer's self information is dropped")
    func membershipRequestSpoofing() async throws {
        let sim = try await Scenario.oneOrg(3)
        sim.start()
        await sim.run(for: .seconds(15))
        let before = sim.deliveries.count
        // p1 sends p0 a membership request with p2's (genuine) alive message as self information.
        let p2Alive = try Scenario.signedAlive(sim.peers[2].identity, endpoint: "p2:7051", inc: 1, seq: 1)
        var request = Gossip_MembershipRequest()
        request.selfInformation = p2Alive.envelope
        let envelope = try SignedGossipMessage.noopSign(
            Gossip_GossipMessage(nonce: 77, tag: .empty, content: .memReq(request))
        ).envelope
        sim.recordsDeliveries = true
        sim.inject(envelope, from: 1, to: 0)
        await sim.run(for: .milliseconds(50))
        let responses = sim.deliveries[before...].filter { delivery in
            guard let message = try? SignedGossipMessage(envelope: delivery.envelope) else { return false }
            if case .memRes = message.message.content { return message.message.nonce == 77 } else { return false }
        }
        #expect(responses.isEmpty)
        // A genuine request is answered with the same nonce.
        var genuine = Gossip_MembershipRequest()
        genuine.selfInformation = try Scenario.signedAlive(sim.peers[1].identity, endpoint: "p1:7051", inc: 1, seq: 1)
            .envelope
        let good = try SignedGossipMessage.noopSign(
            Gossip_GossipMessage(nonce: 78, tag: .empty, content: .memReq(genuine))
        ).envelope
        sim.inject(good, from: 1, to: 0)
        await sim.run(for: .milliseconds(50))
        let answered = sim.deliveries.filter { delivery in
            guard delivery.to == 1, let message = try? SignedGossipMessage(envelope: delivery.envelope) else {
                return false
            }
            if case .memRes = message.message.content { return message.message.nonce == 78 } else { return false }
        }
        #expect(answered.count == 1)
    }
}

@Suite(
    "Disclosure policy (TestDisclosurePolicyWithPull, TestMemRespDisclosurePol, TestInterOrgExternalEndpointDisclosure)"
)
struct DisclosureTests {
    /// Org1: a0 (external), a1 (internal only). Org2: b0 (external), b1 (internal only). Anchors a0 and b0.
    static func twoOrgs() async throws -> GossipSimulation {
        let sim = GossipSimulation(seed: 5)
        try sim.addPeer(organization: "Org1MSP", name: "a0")
        try sim.addPeer(organization: "Org1MSP", name: "a1", externalEndpoint: false) {
            $0.bootstrapPeers = ["a0:7051"]
        }
        try sim.addPeer(organization: "Org2MSP", name: "b0")
        try sim.addPeer(organization: "Org2MSP", name: "b1", externalEndpoint: false) {
            $0.bootstrapPeers = ["b0:7051"]
        }
        sim.start()
        let anchors = [
            AnchorPeer(host: "a0", port: 7051, organization: "Org1MSP"),
            AnchorPeer(host: "b0", port: 7051, organization: "Org2MSP"),
        ]
        sim.joinAll(channel: "ch", organizations: ["Org1MSP", "Org2MSP"], anchorPeers: anchors)
        await sim.run(for: .seconds(60))
        return sim
    }

    @Test("peers without external endpoints stay invisible to other orgs; internal endpoints never leave the org")
    func disclosure() async throws {
        let sim = try await Self.twoOrgs()
        #expect(Scenario.names(sim, sim.peers[0].core.aliveMembers) == ["a1", "b0"])
        #expect(Scenario.names(sim, sim.peers[1].core.aliveMembers) == ["a0"])
        #expect(Scenario.names(sim, sim.peers[2].core.aliveMembers) == ["a0", "b1"])
        #expect(Scenario.names(sim, sim.peers[3].core.aliveMembers) == ["b0"])
        // b0 knows a0 only by its external endpoint.
        let a0AtB0 = try #require(sim.peers[2].core.aliveMembers.first { $0.pkiID == sim.peers[0].core.selfPKIID })
        #expect(a0AtB0.internalEndpoint.isEmpty)
        // No secret envelope ever crossed an organisation boundary, at any nesting level.
        var crossOrg = 0
        for delivery in sim.deliveries
        where sim.peers[delivery.from].organization != sim.peers[delivery.to].organization {
            crossOrg += 1
            for inner in try Self.aliveEnvelopes(delivery.envelope) {
                #expect(
                    !inner.hasSecretEnvelope,
                    "secret leaked from \(sim.peers[delivery.from].name) to \(sim.peers[delivery.to].name)"
                )
            }
        }
        #expect(crossOrg > 0)
    }

    @Test("the channel membership crosses orgs only for peers with external endpoints")
    func channelPeers() async throws {
        let sim = try await Self.twoOrgs()
        #expect(Scenario.names(sim, sim.peers[2].core.peersOfChannel("ch")) == ["a0", "b1"])
        #expect(Scenario.names(sim, sim.peers[0].core.peersOfChannel("ch")) == ["a1", "b0"])
    }

    /// Every alive envelope in `envelope`, including those nested in membership messages.
    static func aliveEnvelopes(_ envelope: Gossip_Envelope) throws -> [Gossip_Envelope] {
        let message = try SignedGossipMessage(envelope: envelope).message
        switch message.content {
        case .aliveMsg: return [envelope]
        case .memReq(let request): return [request.selfInformation]
        case .memRes(let response): return response.alive + response.dead
        default: return []
        }
    }
}
