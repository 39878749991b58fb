import ChannelConfig
import DevOrderer
import Foundation
import GRPCCore
import Ledger
import MSP
import NetGen
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Broadcast over real gRPC on 127.0.0.1 against a netgen network's orderer, with the batch timer on a manual clock.
@Suite("DevOrderer broadcast and block cutting", .timeLimit(.minutes(2)))
struct BroadcastTests {
    let network = TestNetwork.shared

    @Test("blocks are cut by MaxMessageCount and by BatchTimeout, signed so a peer's verifier accepts them")
    func cutsByCountAndTimeout() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let clock = ManualClock()
            let orderer = try network.makeOrderer(data: directory.url, clock: clock)
            let channel = try #require(orderer.channel(TestNetwork.channelID))
            let envelopes = try (0..<12).map { try network.transaction("key\($0)") }
            try await DevOrderer.withRunning(orderer) { address in
                let responses = try await OrdererClient.broadcast(address, envelopes)
                #expect(responses.map(\.status) == Array(repeating: .success, count: 12))
                // Two full blocks of 5 were cut before the answers came back; 2 envelopes wait for the timer.
                #expect(channel.height == 3)
                clock.advance(by: TestNetwork.batchTimeout - .milliseconds(1))
                #expect(channel.height == 3)
                clock.advance(by: .milliseconds(1))
                var tail = channel.store.blocks(from: 3).makeAsyncIterator()
                let last = try #require(try await tail.next())
                #expect(last.data.data.count == 2)
            }
            let blocks = try storedBlocks(channel)
            #expect(blocks.count == 4)
            #expect(blocks.map(\.data.data.count) == [1, 5, 5, 2])
            #expect(try blocks.dropFirst().flatMap(txIDs) == envelopes.map(txID))
            #expect(blocks[0].headerHash == network.genesis.headerHash)
            try verifyChain(blocks, genesisBundle: network.bundle)
            for block in blocks.dropFirst() {
                #expect(try BlockVerifier.lastConfigIndex(block) == 0)
                #expect(block.metadata.metadata.count == 5)
                #expect(block.metadata.metadata[Int(Common_BlockMetadataIndex.transactionsFilter.rawValue)].isEmpty)
                // Blocks carry the envelopes exactly as the clients sent them.
                #expect(block.header.dataHash == block.data.hash)
            }
        }
    }

    @Test("a timer started for a batch that was then cut by count does not cut the next batch early")
    func staleTimerIgnored() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let clock = ManualClock()
            let orderer = try network.makeOrderer(data: directory.url, clock: clock)
            let channel = try #require(orderer.channel(TestNetwork.channelID))
            try await DevOrderer.withRunning(orderer) { address in
                // Batch 1 starts at t=0 and is cut by count; batch 2 starts at t=1s.
                _ = try await OrdererClient.broadcast(address, try (0..<5).map { try network.transaction("a\($0)") })
                #expect(channel.height == 2)
                clock.advance(by: .seconds(1))
                _ = try await OrdererClient.broadcast(address, [try network.transaction("b0")])
                clock.advance(by: .seconds(1))  // t=2s: the first batch's timer, stale
                _ = try await OrdererClient.broadcast(address, [try network.transaction("b1")])
                #expect(channel.height == 2)
                clock.advance(by: .seconds(1))  // t=3s: batch 2's timer
                var tail = channel.store.blocks(from: 2).makeAsyncIterator()
                let block = try #require(try await tail.next())
                #expect(block.data.data.count == 2)
            }
        }
    }

    @Test("refusals carry Fabric's status and a reason, and end the stream")
    func refusals() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let orderer = try network.makeOrderer(data: directory.url)
            let channel = try #require(orderer.channel(TestNetwork.channelID))
            try await DevOrderer.withRunning(orderer) { address in
                func refusal(_ envelope: Common_Envelope) async throws -> Orderer_BroadcastResponse {
                    // A refused envelope ends the stream: the second one is never answered.
                    let responses = try await OrdererClient.broadcast(
                        address,
                        [envelope, try network.transaction("after")]
                    )
                    #expect(responses.count == 1)
                    return try #require(responses.first)
                }
                let outsider = try await refusal(try network.transaction("x", creator: TestNetwork.outsider))
                #expect(outsider.status == .forbidden)
                #expect(outsider.info.contains("/Channel/Writers"))

                let peer = try await refusal(try network.transaction("x", creator: network.peer))
                #expect(peer.status == .forbidden)

                var forged = try network.transaction("x")
                forged.signature = try network.client2.sign(forged.payload)
                #expect(try await refusal(forged).status == .forbidden)

                var garbage = Common_Envelope()
                garbage.payload = Data([0xff, 0x01, 0x02])
                garbage.signature = Data([1])
                let malformed = try await refusal(garbage)
                #expect(malformed.status == .badRequest)
                #expect(malformed.info.contains("could not determine channel ID"))

                let empty = try await refusal(Common_Envelope())
                #expect(empty.status == .badRequest)

                let unknown = try await refusal(try network.transaction("x", channel: "nosuchchannel"))
                #expect(unknown.status == .badRequest)
                #expect(unknown.info.contains("channel does not exist"))

                let large = try await refusal(try network.transaction("big", padding: 70 * 1024))
                #expect(large.status == .badRequest)
                #expect(large.info.contains("exceeds maximum allowed"))

                let config = try await refusal(network.genesis.data.data[0].asEnvelope())
                #expect(config.status == .badRequest)
                #expect(config.info.contains("cannot be processed directly"))
            }
            // Nothing was ordered.
            #expect(channel.height == 1)
        }
    }

    @Test("a message above PreferredMaxBytes cuts the pending batch and goes in a block of its own")
    func largeMessageOwnBlock() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let orderer = try network.makeOrderer(data: directory.url)
            let channel = try #require(orderer.channel(TestNetwork.channelID))
            try await DevOrderer.withRunning(orderer) { address in
                let small = try network.transaction("small")
                let large = try network.transaction("large", padding: 40 * 1024)
                let responses = try await OrdererClient.broadcast(address, [small, large])
                #expect(responses.map(\.status) == [.success, .success])
                #expect(channel.height == 3)
                #expect(try channel.store.block(number: 1)!.data.data.count == 1)
                #expect(try txIDs(channel.store.block(number: 2)!) == [try txID(large)])
            }
        }
    }

    @Test("an orderer identity that does not satisfy BlockValidation is refused at start")
    func signerMustSatisfyBlockValidation() throws {
        try TemporaryDirectory.withSync("devorderer") { directory in
            #expect(throws: DevOrdererError(.badConfiguration, "")) {
                try DevOrderer(configuration: network.configuration(data: directory.url), signer: network.client)
            }
            // Nothing of the refused channel is left in the data directory.
            #expect(
                !FileManager.default.fileExists(atPath: directory.appending("chains/\(TestNetwork.channelID)").path)
            )
        }
    }
}

extension Data {
    func asEnvelope() throws -> Common_Envelope { try Common_Envelope(serializedBytes: self) }
}

extension TemporaryDirectory {
    @discardableResult
    static func withSync<T>(_ prefix: String, _ body: (TemporaryDirectory) throws -> T) throws -> T {
        let directory = try TemporaryDirectory(prefix)
        defer { directory.remove() }
        return try body(directory)
    }
}
