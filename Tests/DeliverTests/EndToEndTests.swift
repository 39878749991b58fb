import ChannelConfig
import Foundation
import MSP
import MetricsTestKit
import SwiftProtobuf
import Synchronization
import TestSupport
import Testing
import Wire

@testable import Deliver

/// The deliverer over real gRPC on 127.0.0.1 against in-test AtomicBroadcast servers, with real X.509 MSPs.
@Suite("Deliver end to end over gRPC")
struct EndToEndTests {
    @Test("blocks are streamed, verified and handed on exactly once, in order")
    func streamsInOrder() async throws {
        let chainProfile = Fixtures.profile(endpoints: ["placeholder:1"])
        let chain = try Fixtures.chain(chainProfile, count: 5)
        let a = TestOrderer.serving("A", chain)
        try await withOrderers([a]) { addresses in
            let profile = Fixtures.profile(endpoints: addresses)
            let bundle = try Fixtures.bundle(profile)
            let ledger = FakeLedger(genesis: chain[0])
            let harness = try ServiceHarness()
            try await harness.run { service in
                let channel = service.channel(
                    Fixtures.channelID,
                    config: { bundle },
                    ledger: ledger,
                    handler: .custom(ledger),
                    isStaticLeader: true
                )
                try await channel.startDeliverForChannel {}
                try await ledger.waitForBlocks(5)
                try channel.stopDeliverForChannel()
                await channel.waitUntilDelivererEnded()
            }
            #expect(ledger.numbers == [1, 2, 3, 4, 5])
            #expect(ledger.blocks.map(\.headerHash) == chain.dropFirst().map(\.headerHash))
            #expect(a.seekStarts == [1])
            #expect(harness.clock.sleeps.isEmpty)
            let seek = try #require(a.connections.first?.seek)
            let identity = try TestPKI.manager.deserializeIdentity(Fixtures.peerSigner.serialized)
            try identity.verify(signature: seek.signature, over: seek.payload)
        }
    }

    enum Tamper: String, CaseIterable, Sendable {
        case badSignature, wrongPreviousHash, tamperedEnvelope, wrongNumber
    }

    static func tampered(_ tamper: Tamper, chain: [Common_Block]) throws -> Common_Block {
        switch tamper {
        case .badSignature:
            return try Fixtures.block(2, after: chain[1], signer: Fixtures.clientSigner)
        case .wrongPreviousHash:
            return try Fixtures.block(2, after: chain[0])
        case .tamperedEnvelope:
            var block = chain[2]
            block.data.data[0] = Fixtures.envelope("forged transaction")
            return block
        case .wrongNumber:
            return chain[3]
        }
    }

    @Test("a bad block is refused, not handed on; the client reconnects and continues", arguments: Tamper.allCases)
    func badBlockRefused(_ tamper: Tamper) async throws {
        let chain = try Fixtures.chain(Fixtures.profile(endpoints: ["placeholder:1"]), count: 4)
        let bad = try Self.tampered(tamper, chain: chain)
        let a = TestOrderer("A") { _ in [.block(chain[1]), .block(bad), .block(chain[3]), .hold] }
        let b = TestOrderer.serving("B", chain)
        try await withOrderers([a, b]) { addresses in
            let bundle = try Fixtures.bundle(Fixtures.profile(endpoints: addresses))
            let ledger = FakeLedger(genesis: chain[0])
            let harness = try ServiceHarness(random: ScriptedRandom(indices: [0, 1]))
            try await harness.run { service in
                let channel = service.channel(
                    Fixtures.channelID,
                    config: { bundle },
                    ledger: ledger,
                    handler: .custom(ledger),
                    isStaticLeader: true
                )
                try await channel.startDeliverForChannel {}
                try await ledger.waitForBlocks(4)
                channel.stop()
                await channel.waitUntilDelivererEnded()
            }
            #expect(ledger.numbers == [1, 2, 3, 4])
            #expect(ledger.blocks.map(\.headerHash) == chain.dropFirst().map(\.headerHash))
            #expect(a.seekStarts == [1])
            #expect(b.seekStarts == [2])
            #expect(harness.clock.sleeps == [.milliseconds(100)])
            let rejected = harness.counter(
                "deliver_blocks_rejected",
                [("channel", Fixtures.channelID), ("endpoint", addresses[0]), ("reason", "badBlock")]
            )
            #expect(rejected == 1)
            let last = try harness.metrics.expectGauge(
                "deliver_last_rejected_block",
                [("channel", Fixtures.channelID), ("endpoint", addresses[0])]
            )
            #expect(last.lastValue == Double(bad.header.number))
        }
    }

    enum Ending: String, CaseIterable, Sendable {
        case success, notFound, serviceUnavailable, close
    }

    @Test(
        "a status (SUCCESS too) or a closed stream makes the client reconnect to another endpoint",
        arguments: Ending.allCases
    )
    func statusOrCloseReconnects(_ ending: Ending) async throws {
        let chain = try Fixtures.chain(Fixtures.profile(endpoints: ["placeholder:1"]), count: 3)
        let last: TestOrderer.Action =
            switch ending {
            case .success: .status(.success)
            case .notFound: .status(.notFound)
            case .serviceUnavailable: .status(.serviceUnavailable)
            case .close: .close
            }
        let a = TestOrderer("A") { _ in [.block(chain[1]), last] }
        let b = TestOrderer.serving("B", chain)
        try await withOrderers([a, b]) { addresses in
            let bundle = try Fixtures.bundle(Fixtures.profile(endpoints: addresses))
            let ledger = FakeLedger(genesis: chain[0])
            let harness = try ServiceHarness(random: ScriptedRandom(indices: [0, 1]))
            try await harness.run { service in
                let channel = service.channel(
                    Fixtures.channelID,
                    config: { bundle },
                    ledger: ledger,
                    handler: .custom(ledger),
                    isStaticLeader: false
                )
                try await channel.startDeliverForChannel {}
                try await ledger.waitForBlocks(3)
                try channel.stopDeliverForChannel()
                await channel.waitUntilDelivererEnded()
            }
            #expect(ledger.numbers == [1, 2, 3])
            #expect(a.seekStarts == [1])
            #expect(b.seekStarts == [2])
            // One block reset the counter, then one failure: a single 100 ms backoff.
            #expect(harness.clock.sleeps == [.milliseconds(100)])
        }
    }

    @Test("a config block is verified under the old config, then switches the verifier and the endpoints")
    func configBlockSwitchesVerifier() async throws {
        // Block 2 moves the channel to a new orderer org (new CA) at another endpoint; blocks 3 and 4 are signed by
        // the new org's orderer and only verify under the new config.
        let chainBox = ChainBox()
        let serverA = TestOrderer("A") { connection in
            chainBox.blocks.filter { $0.header.number >= connection.start && $0.header.number <= 2 }.map { .block($0) }
                + [.hold]
        }
        let serverB = TestOrderer("B") { connection in
            chainBox.blocks.filter { $0.header.number >= connection.start }.map { .block($0) } + [.hold]
        }
        try await withOrderers([serverA, serverB]) { addresses in
            let oldProfile = Fixtures.profile(endpoints: [addresses[0]])
            let newProfile = Fixtures.profile(endpoints: [addresses[1]], ordererOrg: TestPKI.ordererOrg2)
            var blocks = [try oldProfile.makeGenesisBlock()]
            blocks.append(try Fixtures.block(1, after: blocks[0]))
            blocks.append(try Fixtures.configBlock(2, after: blocks[1], profile: newProfile))
            blocks.append(try Fixtures.block(3, after: blocks[2], signer: Fixtures.ordererSigner2, lastConfig: 2))
            blocks.append(try Fixtures.block(4, after: blocks[3], signer: Fixtures.ordererSigner2, lastConfig: 2))
            chainBox.blocks = blocks
            let bundle = try Fixtures.bundle(oldProfile)
            let ledger = FakeLedger(genesis: blocks[0])
            let harness = try ServiceHarness()
            try await harness.run { service in
                let channel = service.channel(
                    Fixtures.channelID,
                    config: { bundle },
                    ledger: ledger,
                    handler: .custom(ledger),
                    isStaticLeader: true
                )
                try await channel.startDeliverForChannel {}
                try await ledger.waitForBlocks(4)
                channel.stop()
                await channel.waitUntilDelivererEnded()
            }
            #expect(ledger.numbers == [1, 2, 3, 4])
            #expect(serverA.seekStarts == [1])
            #expect(serverB.seekStarts == [3])
            // The refresh is not a failure: no backoff.
            #expect(harness.clock.sleeps.isEmpty)
        }
    }
}

/// Blocks shared between a test and its server scripts.
final class ChainBox: Sendable {
    private let state = Mutex<[Common_Block]>([])
    var blocks: [Common_Block] {
        get { self.state.withLock { $0 } }
        set { self.state.withLock { $0 = newValue } }
    }
}
