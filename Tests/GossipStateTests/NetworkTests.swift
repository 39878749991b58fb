import Foundation
import Gossip
import GossipState
import MetricsTestKit
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Providers on real ``GossipNode``s over the in-memory transport: heights travel in StateInfo, requests and
/// responses through the real handshake-authenticated connections. Gossip runs on the wall clock with every
/// interval shrunk 20×; anti-entropy runs on a manual clock that the test moves.
@Suite("State transfer over the in-memory gossip network")
struct NetworkTests {
    static let channel = "statechannel"

    /// Records the requests a provider sends, then passes everything to the node's adapter.
    struct RecordingAdapter: StateGossipAdapter {
        let base: GossipNodeStateAdapter
        let requests = Locked<[ClosedRange<UInt64>]>([])

        func blockMessages() -> AsyncStream<ReceivedMessage> { self.base.blockMessages() }
        func stateMessages() -> AsyncStream<ReceivedMessage> { self.base.stateMessages() }
        func send(_ message: Gossip_GossipMessage, to peer: RemotePeer) {
            if case .stateRequest(let request)? = message.content {
                self.requests.withLock { $0.append(request.startSeqNum...request.endSeqNum) }
            }
            self.base.send(message, to: peer)
        }
        func reply(_ message: Gossip_GossipMessage, to connection: ConnectionInfo) {
            self.base.reply(message, to: connection)
        }
        func peersOfChannel() -> [NetworkMember] { self.base.peersOfChannel() }
        func updateLedgerHeight(_ height: UInt64) { self.base.updateLedgerHeight(height) }
    }

    struct Peer: Sendable {
        let name: String
        let node: GossipNode
        let ledger: MemoryLedger
        let adapter: RecordingAdapter
        let provider: GossipStateProvider
        let metrics: TestMetrics

        func counter(_ label: String, _ dimensions: [(String, String)]) -> Int64 {
            (try? self.metrics.expectCounter(label, [("channel", NetworkTests.channel)] + dimensions).totalValue) ?? 0
        }
    }

    @Test("a lagging peer catches up from a higher one in batches; a peer outside the Readers policy is refused")
    func catchUp() async throws {
        let pki = FakePKI(seed: 77)
        let network = InMemoryNetwork()
        let clock = ManualGossipClock()
        let chain = try fakeChain(pki, channel: Self.channel, count: 25)
        let specs: [(org: String, name: String, height: Int)] = [
            ("Org1MSP", "p0", 25), ("Org1MSP", "p1", 1), ("Org2MSP", "q0", 1),
        ]
        let anchors = [
            AnchorPeer(host: "p0", port: 7051, organization: "Org1MSP"),
            AnchorPeer(host: "q0", port: 7051, organization: "Org2MSP"),
        ]
        var peers: [Peer] = []
        for (index, spec) in specs.enumerated() {
            let identity = pki.issue(mspID: spec.org, name: spec.name)
            var config = GossipConfig().scaled(down: 5)  // 20 made membership flap on a loaded machine
            config.internalEndpoint = "\(spec.name):7051"
            config.externalEndpoint = config.internalEndpoint
            if spec.name == "p1" { config.bootstrapPeers = ["p0:7051"] }
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
            let node = GossipNode(core: core, transport: transport, clock: WallClock())
            node.joinChannel(
                JoinChannelMessage(sequence: 1, organizations: ["Org1MSP", "Org2MSP"], anchorPeers: anchors),
                channel: Self.channel
            )
            var stateConfig = StateConfig()
            stateConfig.enabled = true
            stateConfig.batchSize = 5
            let ledger = try MemoryLedger(Array(chain.prefix(spec.height)))
            let adapter = RecordingAdapter(base: GossipNodeStateAdapter(node: node, channel: Self.channel))
            let metrics = TestMetrics()
            let provider = try GossipStateProvider(
                channel: Self.channel,
                config: stateConfig,
                gossip: adapter,
                coordinator: ledger,
                blockSource: ledger,
                accessPolicy: OrganizationReaders(pki: pki, organizations: ["Org1MSP"], verifier: identity),
                mcs: mcs,
                clock: clock,
                seed: UInt64(index + 100),
                metrics: StateMetrics(factory: metrics)
            )
            peers.append(
                Peer(
                    name: spec.name,
                    node: node,
                    ledger: ledger,
                    adapter: adapter,
                    provider: provider,
                    metrics: metrics
                )
            )
        }
        let (p0, p1, q0) = (peers[0], peers[1], peers[2])

        try await withThrowingDiscardingTaskGroup { group async throws -> Void in
            for peer in peers {
                group.addTask { await peer.node.run() }
                group.addTask { await peer.provider.run() }
            }
            func advertised(_ peer: Peer) -> UInt64 {
                peer.node.peersOfChannel(Self.channel).first { $0.pkiID == p0.node.pkiID }?.properties?.ledgerHeight
                    ?? 0
            }
            #expect(try await eventually { advertised(p1) == 25 && advertised(q0) == 25 })

            // Time for anti-entropy moves a second every 10 polls (≈ 50 ms): the 3 s response timeout is then
            // ≈ 150 ms of real time, enough for an answer when the whole suite loads the machine (one second per
            // 5 ms poll timed requests out before their answers arrived).
            var polls = 0
            func tick() {
                polls += 1
                if polls % 10 == 0 { clock.advance(by: .seconds(1)) }
            }
            #expect(try await eventually(step: tick) { p1.ledger.height == 25 })
            #expect(
                try await eventually(step: tick) {
                    p0.counter("gossip_state_requests_refused", [("reason", "notReader")]) >= 1
                        && q0.counter("gossip_state_transfers_abandoned", []) >= 1
                }
            )
            for peer in peers { peer.provider.stop() }
            group.cancelAll()
        }
        #expect(p1.ledger.blocks == chain)
        #expect(q0.ledger.height == 1)
        #expect(q0.provider.bufferedBlocks.isEmpty)
        // Every request stayed within the batch limit and p1 asked for nothing it already had.
        let requests = p1.adapter.requests.value
        #expect(!requests.isEmpty)
        #expect(requests.allSatisfy { $0.upperBound - $0.lowerBound <= 5 && $0.lowerBound >= 1 && $0.upperBound <= 24 })
        #expect(requests.first?.lowerBound == 1)
        #expect(p0.counter("gossip_state_requests_served", []) >= 4)
    }

    @Test("blocks pushed over gossip enter the buffer only once gossip has verified them; forged ones never do")
    func gossipedBlocksAreVerified() async throws {
        let pki = FakePKI(seed: 78)
        let network = InMemoryNetwork()
        let chain = try fakeChain(pki, channel: Self.channel, count: 4)
        var nodes: [GossipNode] = []
        var ledgers: [MemoryLedger] = []
        var providers: [GossipStateProvider] = []
        for (index, name) in ["a0", "a1"].enumerated() {
            let identity = pki.issue(mspID: "Org1MSP", name: name)
            var config = GossipConfig().scaled(down: 5)  // 20 made membership flap on a loaded machine
            config.internalEndpoint = "\(name):7051"
            config.externalEndpoint = config.internalEndpoint
            if index == 1 { config.bootstrapPeers = ["a0:7051"] }
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
            let node = GossipNode(core: core, transport: transport, clock: WallClock())
            node.joinChannel(JoinChannelMessage(sequence: 1, organizations: ["Org1MSP"]), channel: Self.channel)
            let ledger = try MemoryLedger([chain[0]])
            providers.append(
                try GossipStateProvider(
                    channel: Self.channel,
                    config: StateConfig(),
                    gossip: GossipNodeStateAdapter(node: node, channel: Self.channel),
                    coordinator: ledger,
                    blockSource: ledger,
                    accessPolicy: OrganizationReaders(pki: pki, organizations: ["Org1MSP"], verifier: identity),
                    mcs: mcs,
                    clock: ManualGossipClock(),
                    seed: UInt64(index + 50),
                    metrics: StateMetrics(factory: TestMetrics())
                )
            )
            nodes.append(node)
            ledgers.append(ledger)
        }
        func push(_ number: UInt64, _ bytes: Data) throws {
            var data = Gossip_DataMessage()
            data.payload = payload(number, bytes)
            try nodes[0].gossip(Gossip_GossipMessage(channel: Self.channel, tag: .chanAndOrg, content: .dataMsg(data)))
        }
        let forger = FakePKI(seed: 999)
        let previous = try Common_Block(serializedBytes: chain[0]).headerHash
        let rogueIdentity = pki.issue(mspID: "Org1MSP", name: "rogue")
        let rogue = try network.transport(
            endpoint: "rogue:7051",
            identity: rogueIdentity.serialized,
            mcs: pki.crypto(for: rogueIdentity)
        )
        try await withThrowingDiscardingTaskGroup { group async throws -> Void in
            for node in nodes { group.addTask { await node.run() } }
            for provider in providers { group.addTask { await provider.run() } }
            #expect(try await eventually { nodes.allSatisfy { $0.peersOfChannel(Self.channel).count == 1 } })
            // A forged block 1 (another orderer's signature) straight from a peer of the org, not through its gossip
            // core; then the genuine blocks 1…3 pushed by a0.
            var forgedData = Gossip_DataMessage()
            forgedData.payload = payload(
                1,
                forger.makeBlock(number: 1, channel: Self.channel, previousHash: previous, transactions: 2)
            )
            let forged = try SignedGossipMessage.noopSign(
                Gossip_GossipMessage(channel: Self.channel, tag: .chanAndOrg, content: .dataMsg(forgedData))
            )
            rogue.send(forged.envelope, to: RemotePeer(endpoint: "a1:7051"))
            for number in 1..<4 { try push(UInt64(number), chain[number]) }
            #expect(try await eventually { ledgers[1].height == 4 })
            for provider in providers { provider.stop() }
            group.cancelAll()
        }
        #expect(ledgers[1].blocks == chain)
        #expect(ledgers[1].attempts == [1, 2, 3])
        #expect(providers[1].commitFailure == nil)
    }
}
