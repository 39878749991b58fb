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

/// The chain survives a restart: the orderer resumes from its stored blocks and keeps chaining.
@Suite("DevOrderer restart", .timeLimit(.minutes(2)))
struct RestartTests {
    let network = TestNetwork.shared

    @Test("a restarted orderer resumes the stored chain, with or without the genesis block given again")
    func resumesChain() async throws {
        for giveGenesis in [false, true] {
            try await TemporaryDirectory.with("devorderer") { directory in
                do {
                    let first = try network.makeOrderer(data: directory.url)
                    try await DevOrderer.withRunning(first) { address in
                        _ = try await OrdererClient.broadcast(
                            address,
                            try (0..<10).map { try network.transaction("a\($0)") }
                        )
                    }
                    #expect(first.channel(TestNetwork.channelID)?.height == 3)
                }
                let second = try network.makeOrderer(data: directory.url, genesis: giveGenesis)
                #expect(second.channelIDs == [TestNetwork.channelID])
                let channel = try #require(second.channel(TestNetwork.channelID))
                #expect(channel.height == 3)
                try await DevOrderer.withRunning(second) { address in
                    _ = try await OrdererClient.broadcast(
                        address,
                        try (0..<5).map { try network.transaction("b\($0)") }
                    )
                    let all = try await OrdererClient.deliver(
                        address,
                        try OrdererClient.seek(
                            start: OrdererClient.oldest,
                            stop: OrdererClient.newest,
                            signer: network.peer
                        )
                    )
                    #expect(all.blocks.map(\.header.number) == [0, 1, 2, 3])
                    try verifyChain(all.blocks, genesisBundle: network.bundle)
                }
            }
        }
    }

    @Test("another genesis block for a stored channel is refused")
    func conflictingGenesis() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            do {
                let first = try network.makeOrderer(data: directory.url)
                try await DevOrderer.withRunning(first) { _ in }
            }
            var other = network.genesis
            other.header.dataHash = Data(repeating: 7, count: 32)
            var configuration = network.configuration(data: directory.url)
            configuration.genesisBlocks = [other]
            #expect(throws: DevOrdererError(.channelConflict, "")) {
                try DevOrderer(configuration: configuration, signer: network.orderer)
            }
        }
    }

    @Test("two orderers cannot share a data directory")
    func dataDirectoryLocked() throws {
        try TemporaryDirectory.withSync("devorderer") { directory in
            let first = try network.makeOrderer(data: directory.url)
            #expect(throws: DevOrdererError(.badConfiguration, "")) {
                try network.makeOrderer(data: directory.url)
            }
            withExtendedLifetime(first) {}
        }
    }

    @Test("a channel can be added while the orderer runs")
    func addChannelWhileRunning() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let orderer = try network.makeOrderer(data: directory.url, genesis: false)
            #expect(orderer.channelIDs.isEmpty)
            try await DevOrderer.withRunning(orderer) { address in
                let refused = try await OrdererClient.broadcast(address, [try network.transaction("x")])
                #expect(refused.map(\.status) == [.badRequest])
                try orderer.addChannel(genesisBlock: network.genesis)
                let accepted = try await OrdererClient.broadcast(
                    address,
                    try (0..<5).map { try network.transaction("y\($0)") }
                )
                #expect(accepted.map(\.status) == Array(repeating: .success, count: 5))
                #expect(orderer.channel(TestNetwork.channelID)?.height == 2)
            }
        }
    }
}
