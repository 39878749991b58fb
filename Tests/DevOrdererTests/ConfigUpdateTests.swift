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

/// CONFIG_UPDATE transactions: validated against the channel's config, wrapped in a CONFIG envelope signed by the
/// orderer and cut in a block of their own; the new config applies from the next block on.
@Suite("DevOrderer config updates", .timeLimit(.minutes(2)))
struct ConfigUpdateTests {
    let network = TestNetwork.shared

    /// A CONFIG_UPDATE setting BatchSize.max_message_count to `count`, signed by `signers` and sent by `sender`.
    func batchSizeUpdate(
        count: UInt32,
        signers: [any SigningIdentity],
        sender: any SigningIdentity
    ) throws
        -> Common_Envelope
    {
        let current = network.bundle.config.channelGroup.groups["Orderer"]!
        var batchSize = network.bundle.orderer!.batchSize
        batchSize.maxMessageCount = count
        var value = current.values["BatchSize"]!
        value.version += 1
        value.value = try batchSize.serializedBytes()
        var readOrderer = Common_ConfigGroup()
        readOrderer.version = current.version
        var writeOrderer = readOrderer
        writeOrderer.values["BatchSize"] = value
        var read = Common_ConfigGroup()
        read.version = network.bundle.config.channelGroup.version
        var write = read
        read.groups["Orderer"] = readOrderer
        write.groups["Orderer"] = writeOrderer
        var update = Common_ConfigUpdate()
        update.channelID = TestNetwork.channelID
        update.readSet = read
        update.writeSet = write
        var updateEnvelope = Common_ConfigUpdateEnvelope()
        updateEnvelope.configUpdate = try update.serializedBytes()
        for signer in signers {
            var header = Common_SignatureHeader()
            header.creator = signer.serialized
            header.nonce = TransactionBuilder.randomBytes(24)
            var signature = Common_ConfigSignature()
            signature.signatureHeader = try header.serializedBytes()
            signature.signature = try signer.sign(signature.signatureHeader + updateEnvelope.configUpdate)
            updateEnvelope.signatures.append(signature)
        }
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.configUpdate.rawValue)
        channelHeader.channelID = TestNetwork.channelID
        channelHeader.timestamp = .init(date: Date())
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = sender.serialized
        signatureHeader.nonce = TransactionBuilder.randomBytes(24)
        var payload = Common_Payload()
        payload.header.channelHeader = try channelHeader.serializedBytes()
        payload.header.signatureHeader = try signatureHeader.serializedBytes()
        payload.data = try updateEnvelope.serializedBytes()
        var envelope = Common_Envelope()
        envelope.payload = try payload.serializedBytes()
        envelope.signature = try sender.sign(envelope.payload)
        return envelope
    }

    @Test("an authorised update is cut alone after the pending batch, and its config applies from then on")
    func appliesUpdate() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let clock = ManualClock()
            let orderer = try network.makeOrderer(data: directory.url, clock: clock)
            let channel = try #require(orderer.channel(TestNetwork.channelID))
            try await DevOrderer.withRunning(orderer) { address in
                let update = try batchSizeUpdate(
                    count: 2,
                    signers: [network.ordererAdmin],
                    sender: network.ordererAdmin
                )
                let pending = try (0..<3).map { try network.transaction("p\($0)") }
                let responses = try await OrdererClient.broadcast(address, pending + [update])
                #expect(responses.map(\.status) == [.success, .success, .success, .success])
                #expect(channel.height == 3)  // the pending batch, then the config block
                #expect(channel.lastConfigBlock == 2)
                #expect(channel.bundle.orderer?.batchSize.maxMessageCount == 2)
                // The new BatchSize cuts blocks of two.
                _ = try await OrdererClient.broadcast(address, try (0..<4).map { try network.transaction("n\($0)") })
                #expect(channel.height == 5)
            }
            let blocks = try storedBlocks(channel)
            #expect(blocks.map(\.data.data.count) == [1, 3, 1, 2, 2])
            #expect(BlockVerifier.isConfigBlock(blocks[2]))
            #expect(
                try blocks.map { $0.header.number == 0 ? 0 : try BlockVerifier.lastConfigIndex($0) } == [0, 0, 2, 2, 2]
            )
            // The config block is verified under the old config, the rest under the new one.
            try verifyChain(blocks, genesisBundle: network.bundle)
            // The CONFIG envelope is the orderer's, with the client's update as last_update.
            let config = try TransactionEnvelope(bytes: blocks[2].data.data[0])
            #expect(config.headerType == .config)
            #expect(config.signatureHeader.creator == network.orderer.serialized)
            #expect(config.txID.isEmpty)
            let applied = try network.bundle.applying(
                try config.payload.unpackConfigEnvelope(),
                mspBuilder: MSPBuilders.x509
            )
            #expect(applied.sequence == 1)
        }
    }

    @Test("an update whose signatures do not satisfy the mod_policy is refused, and nothing is written")
    func refusesUnauthorisedUpdate() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let orderer = try network.makeOrderer(data: directory.url)
            let channel = try #require(orderer.channel(TestNetwork.channelID))
            try await DevOrderer.withRunning(orderer) { address in
                let byClient = try batchSizeUpdate(count: 2, signers: [network.client], sender: network.client)
                let refused = try await OrdererClient.broadcast(address, [byClient])
                #expect(refused.map(\.status) == [.badRequest])
                #expect(refused.first?.info.contains("error applying config update") == true)
                let byOutsider = try batchSizeUpdate(
                    count: 2,
                    signers: [network.ordererAdmin],
                    sender: TestNetwork.outsider
                )
                let forbidden = try await OrdererClient.broadcast(address, [byOutsider])
                #expect(forbidden.map(\.status) == [.forbidden])
            }
            #expect(channel.height == 1)
            #expect(channel.bundle.sequence == 0)
        }
    }
}
