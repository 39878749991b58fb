import Foundation
import Gossip
import TestSupport
import Testing
import Wire

/// The gRPC transport on loopback: real HTTP/2 streams, the ConnEstablish handshake, GossipNodes on top.
@Suite("gRPC gossip transport (loopback)")
struct GRPCTransportTests {
    static let pki = FakePKI(seed: 31)

    /// Generous handshake timeouts: CI machines may be busy building in parallel.
    static func relaxed(_ config: GossipConfig) -> GossipConfig {
        var config = config
        config.connTimeout = .seconds(20)
        config.dialTimeout = .seconds(20)
        return config
    }

    static func transport(
        _ identity: FakeSigningIdentity,
        config: GossipConfig = GossipConfig()
    ) throws -> GRPCGossipTransport {
        try GRPCGossipTransport(
            configuration: .init(
                listenHost: "127.0.0.1",
                listenPort: 0,
                identity: identity.serialized,
                gossip: Self.relaxed(config)
            ),
            mcs: Self.pki.crypto(for: identity)
        )
    }

    @Test("probe handshakes and reports the remote identity; a wrong expected PKI-ID is refused")
    func probe() async throws {
        let alice = Self.pki.issue(mspID: "Org1MSP", name: "alice")
        let bob = Self.pki.issue(mspID: "Org1MSP", name: "bob")
        let a = try Self.transport(alice)
        let b = try Self.transport(bob)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await a.run() }
            group.addTask { try await b.run() }
            let port = await b.listeningPort()
            let info = try await a.probe(RemotePeer(endpoint: "127.0.0.1:\(port)"))
            #expect(info.pkiID == bob.pkiID)
            #expect(info.identity == bob.serialized)
            await #expect(throws: GossipError.self) {
                try await a.probe(RemotePeer(endpoint: "127.0.0.1:\(port)", pkiID: alice.pkiID))
            }
            group.cancelAll()
        }
    }

    @Test("envelopes flow both ways after the handshake, tagged with the sender's verified identity")
    func streams() async throws {
        let alice = Self.pki.issue(mspID: "Org1MSP", name: "alice")
        let bob = Self.pki.issue(mspID: "Org1MSP", name: "bob")
        var config = GossipConfig()
        config.maxMessageSize = 64 * 1024
        let a = try Self.transport(alice, config: config)
        let b = try Self.transport(bob, config: config)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await a.run() }
            group.addTask { try await b.run() }
            let portA = await a.listeningPort()
            let portB = await b.listeningPort()
            let hello = try SignedGossipMessage.noopSign(
                Gossip_GossipMessage(tag: .empty, content: .empty(Gossip_Empty()))
            ).envelope
            var big = hello
            big.payload = Data(count: 100 * 1024)
            a.send(big, to: RemotePeer(endpoint: "127.0.0.1:\(portB)"))  // over the size limit: dropped
            a.send(hello, to: RemotePeer(endpoint: "127.0.0.1:\(portB)"))
            var incomingB = b.incoming.makeAsyncIterator()
            let atB = try #require(await incomingB.next())
            #expect(atB.connection.pkiID == alice.pkiID)
            #expect(atB.envelope == hello)
            // Bob answers over the same stream, addressed by PKI-ID.
            b.send(hello, to: RemotePeer(endpoint: atB.connection.endpoint, pkiID: alice.pkiID))
            var incomingA = a.incoming.makeAsyncIterator()
            let atA = try #require(await incomingA.next())
            #expect(atA.connection.pkiID == bob.pkiID)
            _ = portA
            group.cancelAll()
        }
    }

    @Test("GossipNodes on gRPC converge on membership and push a block")
    func nodes() async throws {
        var transports: [GRPCGossipTransport] = []
        var identities: [FakeSigningIdentity] = []
        for i in 0..<3 {
            let identity = Self.pki.issue(mspID: "Org1MSP", name: "n\(i)")
            identities.append(identity)
            transports.append(try Self.transport(identity))
        }
        let received = Locked<Set<Int>>([])
        try await withThrowingDiscardingTaskGroup { group in
            for transport in transports { group.addTask { try await transport.run() } }
            var ports: [Int] = []
            for transport in transports { ports.append(await transport.listeningPort()) }
            var nodes: [GossipNode] = []
            for (i, transport) in transports.enumerated() {
                // Scaled by 5, not 20: alive messages may be late by more than a second when the whole suite runs in
                // parallel beside the multi-process tests, and a 1.25 s alive expiry then makes members flap.
                var config = Self.relaxed(GossipConfig().scaled(down: 5))
                config.internalEndpoint = "127.0.0.1:\(ports[i])"
                config.externalEndpoint = config.internalEndpoint
                if i > 0 { config.bootstrapPeers = ["127.0.0.1:\(ports[0])"] }
                let core = try GossipCore(
                    config: config,
                    identity: identities[i].serialized,
                    mcs: Self.pki.crypto(for: identities[i]),
                    advisor: FakeSecurityAdvisor(),
                    now: WallClock().now,
                    seed: UInt64(i + 10)
                )
                let node = GossipNode(core: core, transport: transport, clock: WallClock())
                nodes.append(node)
                group.addTask { await node.run() }
                node.joinChannel(JoinChannelMessage(sequence: 1, organizations: ["Org1MSP"]), channel: "grpc")
                node.updateLedgerHeight(1, channel: "grpc")
                let blocks = node.subscribe {
                    if case .dataMsg = $0.message.message.content { return true } else { return false }
                }
                group.addTask { for await _ in blocks { received.withLock { _ = $0.insert(i) } } }
            }
            let converged = try await GossipNodeTests.eventually {
                nodes.allSatisfy { $0.aliveMembers.count == 2 && $0.peersOfChannel("grpc").count == 2 }
            }
            #expect(converged, "\(nodes.map { $0.aliveMembers.count })")
            var data = Gossip_DataMessage()
            data.payload.seqNum = 1
            data.payload.data = Self.pki.makeBlock(number: 1, channel: "grpc")
            try nodes[0].gossip(Gossip_GossipMessage(channel: "grpc", tag: .chanAndOrg, content: .dataMsg(data)))
            let delivered = try await GossipNodeTests.eventually { received.withLock { $0 == [1, 2] } }
            #expect(delivered)
            group.cancelAll()
        }
    }
}
