import ChannelConfig
import Election
import Foundation
import Gossip
import MSP
import NetGen
import SwiftProtobuf
import Synchronization
import TestSupport
import Testing
import Wire

/// A ``GossipTransport`` that records every envelope its node receives (with the sender's verified connection)
/// before handing it on: the test's window on what crossed the wire.
final class RecordingTransport: GossipTransport {
    let inner: GRPCGossipTransport
    let incoming: AsyncStream<ReceivedEnvelope>
    private let continuation: AsyncStream<ReceivedEnvelope>.Continuation
    let received = Mutex<[ReceivedEnvelope]>([])

    init(_ inner: GRPCGossipTransport) {
        self.inner = inner
        (self.incoming, self.continuation) = AsyncStream.makeStream(of: ReceivedEnvelope.self)
    }

    func send(_ envelope: Gossip_Envelope, to peer: RemotePeer) { self.inner.send(envelope, to: peer) }
    func probe(_ peer: RemotePeer) async throws(GossipError) -> ConnectionInfo { try await self.inner.probe(peer) }
    func closeConnection(to pkiID: PKIID) { self.inner.closeConnection(to: pkiID) }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { try? await self.inner.run() }
            group.addTask {
                for await envelope in self.inner.incoming {
                    self.received.withLock { $0.append(envelope) }
                    self.continuation.yield(envelope)
                }
                self.continuation.finish()
            }
        }
    }
}

/// Runs jobs as children of one task group until ``stop()``, which cancels them all: one "process" of the test.
final class Runner: Sendable {
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let continuation: AsyncStream<@Sendable () async -> Void>.Continuation

    init() { (self.jobs, self.continuation) = AsyncStream.makeStream() }

    func start(_ job: @escaping @Sendable () async -> Void) { self.continuation.yield(job) }
    func stop() { self.continuation.finish() }

    func run() async {
        await withDiscardingTaskGroup { group in
            for await job in self.jobs { group.addTask { await job() } }
            group.cancelAll()
        }
    }
}

/// Issue 6 acceptance: four gossip nodes of two orgs with netgen identities, on gRPC with mutual TLS over
/// 127.0.0.1 (ports chosen by the OS), running Election. Intervals are scaled down so the whole run takes seconds;
/// every wait is for a condition with a generous deadline, so a loaded machine only makes it slower.
@Suite("Gossip acceptance: four TLS nodes of two orgs (netgen identities)")
struct GossipAcceptanceTests {
    static let electionConfig = ElectionConfig(
        startupGracePeriod: .seconds(3),
        membershipSampleInterval: .milliseconds(300),
        leaderAliveThreshold: .milliseconds(1500),
        leaderElectionDuration: .milliseconds(500)
    )

    static func gossipConfig() -> GossipConfig {
        var config = GossipConfig().scaled(down: 5)
        config.leaderAliveThreshold = Self.electionConfig.leaderAliveThreshold
        // Loaded CI machines: handshakes (TLS + ECDSA) may take a while.
        config.connTimeout = .seconds(20)
        config.dialTimeout = .seconds(20)
        config.maxMessageSize = 4 * 1024 * 1024
        return config
    }

    /// One node: its member crypto, transport, gossip node, election, and the leadership it reported.
    final class Peer: Sendable {
        let member: NetGenFixture.Member
        let transport: RecordingTransport
        let runner = Runner()
        let node = Mutex<GossipNode?>(nil)
        let election = Mutex<LeaderElectionService?>(nil)
        let isLeader = Atomic<Bool>(false)
        let blocks = Mutex<Set<UInt64>>([])

        init(member: NetGenFixture.Member, transport: GRPCGossipTransport) {
            self.member = member
            self.transport = RecordingTransport(transport)
        }

        var gossipNode: GossipNode { self.node.withLock { $0! } }
    }

    static func transport(
        for member: NetGenFixture.Member,
        tls: GRPCGossipTransport.TLS?
    ) throws -> GRPCGossipTransport {
        try GRPCGossipTransport(
            configuration: .init(
                listenHost: "127.0.0.1",
                listenPort: 0,
                identity: member.signer.serialized,
                gossip: Self.gossipConfig(),
                tls: tls
            ),
            mcs: member.mcs
        )
    }

    static func eventually(_ timeout: Duration = .seconds(90), _ condition: () -> Bool) async throws -> Bool {
        try await GossipNodeTests.eventually(timeout: timeout, condition)
    }

    @Test("membership, org-only traffic, one leader per org, takeover, unknown CAs and forged messages refused")
    func fourNodes() async throws {
        let fixture = try NetGenFixture(prefix: "gossip-accept")
        let rogue = try NetGenFixture(prefix: "gossip-accept-rogue")
        let channel = fixture.channel
        let roots = ChannelMSPRegistry([fixture.bundle]).tlsRootCertificates
        var made: [Peer] = []
        for org in 0..<2 {
            for index in 0..<2 {
                let member = try fixture.member(organization: org, peer: index)
                made.append(
                    Peer(member: member, transport: try Self.transport(for: member, tls: member.tls(trusting: roots)))
                )
            }
        }
        let peers = made
        // peers[0], peers[2]: peer0 of Org1/Org2, anchor peers with an external endpoint; peers[1], peers[3]:
        // peer1 of each org, no external endpoint (invisible to the other org), bootstrapping from their peer0.
        let org1 = [0, 1]
        let org2 = [2, 3]
        func leaders(_ indices: [Int]) -> [Int] {
            indices.filter { peers[$0].isLeader.load(ordering: .acquiring) }
        }

        try await withThrowingDiscardingTaskGroup { group in
            for peer in peers {
                group.addTask { await peer.runner.run() }
                peer.runner.start { await peer.transport.run() }
            }
            var ports: [Int] = []
            for peer in peers { ports.append(await peer.transport.inner.listeningPort()) }
            let anchors = [
                AnchorPeer(host: "127.0.0.1", port: ports[0], organization: "Org1MSP"),
                AnchorPeer(host: "127.0.0.1", port: ports[2], organization: "Org2MSP"),
            ]
            for (i, peer) in peers.enumerated() {
                var config = Self.gossipConfig()
                config.internalEndpoint = "127.0.0.1:\(ports[i])"
                config.externalEndpoint = i % 2 == 0 ? config.internalEndpoint : ""
                if i % 2 == 1 { config.bootstrapPeers = ["127.0.0.1:\(ports[i - 1])"] }
                let core = try GossipCore(
                    config: config,
                    identity: peer.member.signer.serialized,
                    mcs: peer.member.mcs,
                    advisor: peer.member.advisor,
                    now: WallClock().now,
                    seed: UInt64(100 + i)
                )
                let node = GossipNode(core: core, transport: peer.transport, clock: WallClock())
                peer.node.withLock { $0 = node }
                peer.runner.start { await node.run() }
                node.joinChannel(
                    JoinChannelMessage(sequence: 1, organizations: ["Org1MSP", "Org2MSP"], anchorPeers: anchors),
                    channel: channel
                )
                node.updateLedgerHeight(1, channel: channel)
                let blocks = node.subscribe {
                    if case .dataMsg = $0.message.message.content { return true } else { return false }
                }
                peer.runner.start {
                    for await received in blocks {
                        if case .dataMsg(let data)? = received.message.message.content {
                            _ = peer.blocks.withLock { $0.insert(data.payload.seqNum) }
                        }
                    }
                }
                let election = LeaderElectionService(
                    selfID: node.pkiID,
                    channel: channel,
                    config: Self.electionConfig,
                    adapter: GossipElectionAdapter(node: node, channel: channel),
                    clock: WallClock()
                ) { isLeader in peer.isLeader.store(isLeader, ordering: .releasing) }
                peer.election.withLock { $0 = election }
                peer.runner.start { await election.run() }
            }

            // 1. Membership converges to what the disclosure rules allow: everyone of the own org; of the other
            //    org only peers with an external endpoint, and only for peers that have one themselves.
            func names(_ members: [NetworkMember]) -> Set<Int> {
                Set(members.compactMap { member in peers.firstIndex { $0.member.pkiID == member.pkiID } })
            }
            let expectedView: [Set<Int>] = [[1, 2], [0], [3, 0], [2]]
            let converged = try await Self.eventually {
                peers.indices.allSatisfy { names(peers[$0].gossipNode.aliveMembers) == expectedView[$0] }
                    && peers.indices.allSatisfy {
                        peers[$0].gossipNode.peersOfChannel(channel).count == expectedView[$0].count
                    }
            }
            #expect(converged, "views: \(peers.map { names($0.gossipNode.aliveMembers).sorted() })")

            // 2. Each org elects exactly one leader.
            let elected = try await Self.eventually { leaders(org1).count == 1 && leaders(org2).count == 1 }
            #expect(elected, "leaders: \(leaders(org1)) \(leaders(org2))")

            // 3. A block signed by the orderer, gossiped by Org1's leader, reaches Org1's other peer only.
            let orderer = try fixture.ordererSigner()
            let leader1 = try #require(leaders(org1).first)
            var data = Gossip_DataMessage()
            data.payload.seqNum = 1
            data.payload.data = try fixture.block(number: 1, signer: orderer).serializedBytes()
            try peers[leader1].gossipNode.gossip(
                Gossip_GossipMessage(channel: channel, tag: .chanAndOrg, content: .dataMsg(data))
            )
            let follower1 = org1.first { $0 != leader1 }!
            let delivered = try await Self.eventually { peers[follower1].blocks.withLock { $0.contains(1) } }
            #expect(delivered)

            // 4. SendWithAck: Org1's leader sends to its follower, which acknowledges.
            let ackRequests = peers[follower1].gossipNode.subscribe {
                if case .privateData = $0.message.message.content { return true } else { return false }
            }
            peers[follower1].runner.start {
                for await request in ackRequests { try? peers[follower1].gossipNode.acknowledge(request) }
            }
            var push = Gossip_PrivateDataMessage()
            push.payload.collectionName = "collection"
            let acks = try await peers[leader1].gossipNode.sendWithAck(
                Gossip_GossipMessage(channel: channel, tag: .chanOnly, content: .privateData(push)),
                to: [RemotePeer(endpoint: "127.0.0.1:\(ports[follower1])", pkiID: peers[follower1].member.pkiID)],
                minAck: 1,
                timeout: .seconds(60)
            )
            #expect(acks.successes == 1, "\(acks)")

            // 5. A node whose identity comes from an unknown CA cannot connect: with its own TLS CA the TLS
            //    handshake fails; with a TLS certificate the network trusts, its ConnEstablish does not validate.
            let impostor = try rogue.member(organization: 0, peer: 0)
            let untrustedTLS = try Self.transport(for: impostor, tls: impostor.tls(trusting: roots))
            let borrowedTLS = try Self.transport(
                for: impostor,
                tls: try fixture.member(organization: 0, peer: nil).tls(trusting: roots)
            )
            let mallory = try fixture.member(organization: 0, peer: nil)  // Org1's user: a valid identity
            let malloryTransport = try Self.transport(for: mallory, tls: mallory.tls(trusting: roots))
            let outsiders = Runner()
            group.addTask { await outsiders.run() }
            outsiders.start { try? await untrustedTLS.run() }
            outsiders.start { try? await borrowedTLS.run() }
            outsiders.start { try? await malloryTransport.run() }
            let target = RemotePeer(endpoint: "127.0.0.1:\(ports[0])")
            await #expect(throws: GossipError.self) { try await untrustedTLS.probe(target) }
            let refusedBefore = peers[0].transport.inner.rejectedHandshakes
            let ping = try SignedGossipMessage.noopSign(
                Gossip_GossipMessage(tag: .empty, content: .empty(Gossip_Empty()))
            )
            borrowedTLS.send(ping.envelope, to: target)
            let refused = try await Self.eventually { peers[0].transport.inner.rejectedHandshakes > refusedBefore }
            #expect(refused, "Org1 peer0 did not refuse the impostor's handshake")
            #expect(!peers[0].gossipNode.aliveMembers.contains { $0.pkiID == impostor.pkiID })
            #expect(!peers[0].transport.received.withLock { $0.contains { $0.connection.pkiID == impostor.pkiID } })
            // A valid identity of the network (Org1's user) does connect.
            let malloryInfo = try await malloryTransport.probe(target)
            #expect(malloryInfo.pkiID == peers[0].member.pkiID)

            // 6. Forged signed messages are dropped and counted: an alive message claiming Org1 peer1's PKI-ID
            //    signed by Mallory, and a block signed by Mallory instead of the orderer.
            let before = peers[0].gossipNode.rejectedMessages
            var alive = Gossip_AliveMessage()
            alive.membership.pkiID = peers[1].member.pkiID.bytes
            alive.membership.endpoint = "127.0.0.1:1"
            alive.timestamp.incNum = UInt64(Date().timeIntervalSince1970 * 1e9)
            alive.timestamp.seqNum = 1_000_000
            let forgedAlive = try SignedGossipMessage.sign(Gossip_GossipMessage(tag: .empty, content: .aliveMsg(alive)))
            {
                (payload) throws(GossipError) in try mallory.mcs.sign(payload)
            }
            var forgedData = Gossip_DataMessage()
            forgedData.payload.seqNum = 2
            forgedData.payload.data = try fixture.block(number: 2, signer: mallory.signer).serializedBytes()
            let forgedBlock = try SignedGossipMessage.noopSign(
                Gossip_GossipMessage(channel: channel, tag: .chanAndOrg, content: .dataMsg(forgedData))
            )
            malloryTransport.send(forgedAlive.envelope, to: target)
            malloryTransport.send(forgedBlock.envelope, to: target)
            let counted = try await Self.eventually {
                let now = peers[0].gossipNode.rejectedMessages
                return now.badSignature > before.badSignature && now.badBlock > before.badBlock
            }
            #expect(counted, "\(peers[0].gossipNode.rejectedMessages)")
            #expect(!peers[0].blocks.withLock { $0.contains(2) })
            outsiders.stop()

            // 7. Org-only traffic never reached the other org: no CHAN_AND_ORG/ORG_ONLY message, no alive message
            //    (pushed or inside a membership response) of a peer without external endpoint, no secret
            //    envelope (internal endpoint), no block.
            for (mine, theirs) in [(org1, org2), (org2, org1)] {
                let hidden = Set(theirs.filter { $0 % 2 == 1 }.map { peers[$0].member.pkiID })
                let theirOrg = peers[theirs[0]].member.organization
                for index in mine {
                    let inbox = peers[index].transport.received.withLock { $0 }
                    for received in inbox {
                        guard let signed = try? SignedGossipMessage(envelope: received.envelope) else { continue }
                        let fromOtherOrg =
                            peers.first { $0.member.pkiID == received.connection.pkiID }?
                            .member.organization == theirOrg
                        var alives: [SignedGossipMessage] = []
                        switch signed.message.content {
                        case .aliveMsg: alives.append(signed)
                        case .memRes(let response):
                            alives += response.alive.compactMap { try? SignedGossipMessage(envelope: $0) }
                        default: break
                        }
                        for alive in alives {
                            guard case .aliveMsg(let message)? = alive.message.content else { continue }
                            #expect(
                                !hidden.contains(PKIID(message.membership.pkiID)),
                                "peer \(index) learned of an endpoint-less peer of \(theirOrg)"
                            )
                            if fromOtherOrg {
                                #expect(!alive.envelope.hasSecretEnvelope, "internal endpoint leaked to \(index)")
                            }
                        }
                        guard fromOtherOrg else { continue }
                        #expect(
                            signed.message.tag != .chanAndOrg && signed.message.tag != .orgOnly,
                            "peer \(index) got \(signed.message.contentName) tagged \(signed.message.tag) from \(theirOrg)"
                        )
                    }
                }
            }
            for index in org2 { #expect(peers[index].blocks.withLock { $0.isEmpty }) }

            // 8. Killing Org1's leader: the other Org1 peer takes over; Org2 keeps its leader.
            let leader2 = try #require(leaders(org2).first)
            peers[leader1].isLeader.store(false, ordering: .releasing)
            peers[leader1].runner.stop()
            let killedAt = ContinuousClock.now
            let takeover = try await Self.eventually { leaders(org1) == [follower1] }
            let took = ContinuousClock.now - killedAt
            #expect(takeover, "leaders of Org1 after the kill: \(leaders(org1))")
            #expect(leaders(org2) == [leader2])
            print(
                "gossip acceptance: Org1 takeover after \(took) (leaderAliveThreshold "
                    + "\(Self.electionConfig.leaderAliveThreshold), election \(Self.electionConfig.leaderElectionDuration))"
            )

            for peer in peers { peer.runner.stop() }
        }
    }
}
