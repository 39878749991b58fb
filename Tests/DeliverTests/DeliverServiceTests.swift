import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import Synchronization
import TestSupport
import Testing
import Wire

@testable import Deliver

/// Records what a gossip block handler is given.
final class RecordingGossip: GossipPayloadSink, BlockGossiper {
    private let state = Mutex<(payloads: [Gossip_Payload], gossiped: [Gossip_GossipMessage])>(([], []))
    var payloads: [Gossip_Payload] { self.state.withLock { $0.payloads } }
    var gossiped: [Gossip_GossipMessage] { self.state.withLock { $0.gossiped } }

    func addPayload(_ payload: Gossip_Payload, channelID: String) async throws {
        self.state.withLock { $0.payloads.append(payload) }
    }

    func gossip(_ message: Gossip_GossipMessage) async {
        self.state.withLock { $0.gossiped.append(message) }
    }
}

/// Ports of core/deliverservice/deliveryclient_test.go and gossip_block_handler_test.go: starting, stopping and
/// restarting delivery per channel, finalizers, consensus types, the hand-off to gossip.
@Suite("Deliver service lifecycle")
struct DeliverServiceTests {
    /// A connector serving `blocks` from the seek's start, then holding the stream open.
    static func serving(_ blocks: [Common_Block]) -> ScriptedConnector {
        ScriptedConnector { _, _, seek, onResponse in
            let payload = try Common_Payload(serializedBytes: seek.payload)
            let start = try Orderer_SeekInfo(serializedBytes: payload.data).start.specified.number
            for block in blocks where block.header.number >= start { try await onResponse(blockResponse(block)) }
            try await Task.sleep(for: .seconds(3600))
        }
    }

    @Test("start, stop, start again (TestStartDeliverForChannel, TestStopDeliverForChannel)")
    func startStopRestart() async throws {
        let profile = Fixtures.profile(endpoints: ["orderer0:7050"])
        let chain = try Fixtures.chain(profile, count: 4)
        let bundle = try Fixtures.bundle(profile)
        let ledger = FakeLedger(genesis: chain[0])
        let connector = Self.serving(Array(chain.prefix(3)))
        let harness = try ServiceHarness(connector: connector)
        let finalizer = FinalizerRecorder()
        try await harness.run { service in
            let channel = service.channel(
                Fixtures.channelID,
                config: { bundle },
                ledger: ledger,
                handler: .custom(ledger),
                isStaticLeader: false
            )
            #expect(throws: DeliverError(.notRunning, "")) { try channel.stopDeliverForChannel() }
            try await channel.startDeliverForChannel(finalizer: finalizer.finalizer)
            await #expect(throws: DeliverError(.alreadyRunning, "")) {
                try await channel.startDeliverForChannel {}
            }
            try await ledger.waitForBlocks(2)
            #expect(channel.isDelivering)
            try channel.stopDeliverForChannel()
            try await eventually { finalizer.calls == 1 }
            #expect(!channel.isDelivering)
            #expect(throws: DeliverError(.notRunning, "")) { try channel.stopDeliverForChannel() }

            try await channel.startDeliverForChannel(finalizer: finalizer.finalizer)
            try await eventually { connector.seekHeights.count == 2 }
            channel.stop()
            try await eventually { finalizer.calls == 2 }
            await #expect(throws: DeliverError(.stopping, "")) { try await channel.startDeliverForChannel {} }
            #expect(throws: DeliverError(.stopping, "")) { try channel.stopDeliverForChannel() }
        }
        #expect(ledger.numbers == [1, 2])
        #expect(connector.seekHeights == [1, 3])
    }

    @Test("delivery needs a ledger with the genesis block, an orderer section and a known consensus type")
    func startPreconditions() async throws {
        let profile = Fixtures.profile(endpoints: ["orderer0:7050"])
        let bundle = try Fixtures.bundle(profile)
        let harness = try ServiceHarness(connector: ScriptedConnector.failing)
        try await harness.run { service in
            let empty = FakeLedger(tip: LedgerTip(height: 0, lastBlockHash: nil))
            let channel = service.channel(
                Fixtures.channelID,
                config: { bundle },
                ledger: empty,
                handler: .custom(empty),
                isStaticLeader: true
            )
            await #expect(throws: DeliverError(.ledger, "")) { try await channel.startDeliverForChannel {} }
            #expect(!channel.isDelivering)

            var kafka = profile
            kafka.consensusType = "kafka"
            let kafkaBundle = try Fixtures.bundle(kafka)
            let ledger = FakeLedger(genesis: try profile.makeGenesisBlock())
            let other = service.channel(
                Fixtures.channelID,
                config: { kafkaBundle },
                ledger: ledger,
                handler: .custom(ledger),
                isStaticLeader: true
            )
            await #expect(throws: DeliverError(.badConfig, "")) { try await other.startDeliverForChannel {} }
            // A failed start leaves the channel startable.
            #expect(throws: DeliverError(.notRunning, "")) { try other.stopDeliverForChannel() }
        }
        #expect(
            try ChannelDeliverService.delivererKind(for: bundle, policy: .cluster) == .cft
        )
    }

    @Test("BFT channels use the CFT loop: policy simple as Fabric, policy cluster without block gossip and yielding")
    func bftKinds() throws {
        let bft = try Fixtures.bundle(Fixtures.profile(endpoints: ["orderer0:7050"], consensusType: "BFT"))
        #expect(try ChannelDeliverService.delivererKind(for: bft, policy: .simple) == .cft)
        #expect(try ChannelDeliverService.delivererKind(for: bft, policy: .cluster) == .bftWithoutCensorshipMonitor)
    }

    @Test("an elected leader whose reconnections exceed the threshold gives up and yields (finalizer runs)")
    func leaderYields() async throws {
        let profile = Fixtures.profile(endpoints: ["orderer0:7050"])
        let bundle = try Fixtures.bundle(profile)
        var config = DeliverConfig()
        config.reconnectTotalTimeThreshold = .seconds(10)
        let harness = try ServiceHarness(config: config, connector: ScriptedConnector.failing)
        let yielded = FinalizerRecorder()
        try await harness.run { service in
            let ledger = FakeLedger(genesis: try profile.makeGenesisBlock())
            let channel = service.channel(
                Fixtures.channelID,
                config: { bundle },
                ledger: ledger,
                handler: .custom(ledger),
                isStaticLeader: false
            )
            try await channel.startDeliverForChannel(finalizer: yielded.finalizer)
            await channel.waitUntilDelivererEnded()
            #expect(yielded.calls == 1)
            #expect(!channel.isDelivering)
            // As in Fabric the deliverer stays registered until leadership is lost (stop), then can start again.
            await #expect(throws: DeliverError(.alreadyRunning, "")) { try await channel.startDeliverForChannel {} }
            try channel.stopDeliverForChannel()
        }
        #expect(harness.clock.sleeps.reduce(Duration.zero, +) <= .seconds(10))
        #expect(harness.counter("deliver_gave_up", [("channel", Fixtures.channelID)]) == 1)
    }

    @Test("a static org leader never gives up")
    func staticLeaderKeepsGoing() async throws {
        let profile = Fixtures.profile(endpoints: ["orderer0:7050"])
        let bundle = try Fixtures.bundle(profile)
        var config = DeliverConfig()
        config.reconnectTotalTimeThreshold = .seconds(1)
        let harness = try ServiceHarness(
            config: config,
            connector: ScriptedConnector.failing,
            clock: InstantClock(pauseAfter: 40)
        )
        let finalizer = FinalizerRecorder()
        try await harness.run { service in
            let ledger = FakeLedger(genesis: try profile.makeGenesisBlock())
            let channel = service.channel(
                Fixtures.channelID,
                config: { bundle },
                ledger: ledger,
                handler: .custom(ledger),
                isStaticLeader: true
            )
            try await channel.startDeliverForChannel(finalizer: finalizer.finalizer)
            try await harness.clock.waitForSleeps(41)
            #expect(channel.isDelivering)
            #expect(finalizer.calls == 0)
        }
        // Stopping the service stops the deliverer and runs its finalizer.
        #expect(finalizer.calls == 1)
        #expect(harness.clock.sleeps.count == 41)
    }

    @Test("the service's stop ends run(), stops every channel, and refuses new starts")
    func serviceStop() async throws {
        let profile = Fixtures.profile(endpoints: ["orderer0:7050"])
        let chain = try Fixtures.chain(profile, count: 1)
        let bundle = try Fixtures.bundle(profile)
        let harness = try ServiceHarness(connector: Self.serving(chain))
        let ledger = FakeLedger(genesis: chain[0])
        let channel = harness.service.channel(
            Fixtures.channelID,
            config: { bundle },
            ledger: ledger,
            handler: .custom(ledger),
            isStaticLeader: true
        )
        let finalizer = FinalizerRecorder()
        try await harness.run { _ in
            try await channel.startDeliverForChannel(finalizer: finalizer.finalizer)
            try await ledger.waitForBlocks(1)
        }
        #expect(finalizer.calls == 1)
        #expect(harness.service.isStopped)
        await #expect(throws: DeliverError(.stopping, "")) { try await channel.startDeliverForChannel {} }
    }

    @Test("D-Q1 fixed: each start reads the channel's current config, not the one captured at channel init")
    func startUsesCurrentConfig() async throws {
        let old = Fixtures.profile(endpoints: ["old-orderer:7050"])
        let new = Fixtures.profile(endpoints: ["new-orderer:7050"])
        let chain = try Fixtures.chain(old, count: 1)
        let current = Mutex(try Fixtures.bundle(old))
        let connector = Self.serving(chain)
        let harness = try ServiceHarness(connector: connector)
        try await harness.run { service in
            let ledger = FakeLedger(genesis: chain[0])
            let channel = service.channel(
                Fixtures.channelID,
                config: { current.withLock { $0 } },
                ledger: ledger,
                handler: .custom(ledger),
                isStaticLeader: false
            )
            try await channel.startDeliverForChannel {}
            try await eventually { connector.addresses.count == 1 }
            try channel.stopDeliverForChannel()
            await channel.waitUntilDelivererEnded()
            let updated = try Fixtures.bundle(new)
            current.withLock { $0 = updated }
            try await channel.startDeliverForChannel {}
            try await eventually { connector.addresses.count == 2 }
            try channel.stopDeliverForChannel()
        }
        #expect(connector.addresses == ["old-orderer:7050", "new-orderer:7050"])
    }

    @Test(
        "the gossip hand-off: payload{seq_num, block bytes} to gossip state; DataMessage gossiped only when enabled and CFT (TestGossipBlockHandler_HandleBlock)",
        arguments: [(true, "etcdraft", true), (false, "etcdraft", false), (true, "BFT", false)]
    )
    func gossipHandOff(_ enabled: Bool, _ consensus: String, _ expectGossip: Bool) async throws {
        let profile = Fixtures.profile(endpoints: ["orderer0:7050"], consensusType: consensus)
        let chain = try Fixtures.chain(profile, count: 2)
        let bundle = try Fixtures.bundle(profile)
        var config = DeliverConfig()
        config.blockGossipEnabled = enabled
        let harness = try ServiceHarness(config: config, connector: Self.serving(chain))
        let gossip = RecordingGossip()
        let ledger = FakeLedger(genesis: chain[0])
        try await harness.run { service in
            let channel = service.channel(
                Fixtures.channelID,
                config: { bundle },
                ledger: ledger,
                handler: .gossip(sink: gossip, gossiper: gossip),
                isStaticLeader: true
            )
            try await channel.startDeliverForChannel {}
            try await eventually { gossip.payloads.count == 2 }
            channel.stop()
            await channel.waitUntilDelivererEnded()
        }
        #expect(gossip.payloads.map(\.seqNum) == [1, 2])
        #expect(try gossip.payloads.map { try Common_Block(serializedBytes: $0.data) } == Array(chain.dropFirst()))
        if expectGossip {
            #expect(gossip.gossiped.count == 2)
            let message = try #require(gossip.gossiped.first)
            #expect(message.nonce == 0 && message.tag == .chanAndOrg)
            #expect(message.channel == Data(Fixtures.channelID.utf8))
            #expect(message.dataMsg.payload == gossip.payloads[0])
        } else {
            #expect(gossip.gossiped.isEmpty)
        }
    }
}
