import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The real channel's config with real X.509 MSPs: orderer signatures on every block, and the real config update.
@Suite("Conformance signatures and config update", .enabled(if: Conformance.isAvailable, Conformance.missingReason))
struct ConformanceSignatureTests {
    static let genesis: ChannelBundle? = try? ChannelBundle(configBlock: Conformance.block(0), mspBuilder: MSPBuilders.x509)

    func genesis() throws -> ChannelBundle { try #require(Self.genesis) }

    @Test("the genesis block sets up real MSPs for every org")
    func realMSPs() throws {
        let bundle = try genesis()
        #expect(bundle.mspManager.mspIDs == ["OrdererMSP", "Org1MSP", "Org2MSP"])
        for id in bundle.mspManager.mspIDs {
            #expect(bundle.mspManager.provider(id) is X509MSP)
        }
        #expect(!bundle.ordererEndpoints[0].tlsRootCAs.isEmpty)
    }

    @Test("every block after the genesis block carries orderer signatures satisfying BlockValidation, and chains")
    func blockSignatures() throws {
        let verifier = BlockVerifier(bundle: try genesis())
        let blocks = try Conformance.blocks()
        for (index, block) in blocks.enumerated().dropFirst() {
            try verifier.verify(block, previous: (blocks[index - 1].header.number, blocks[index - 1].headerHash))
        }
        #expect(try BlockVerifier.lastConfigIndex(blocks[22]) == 0)
        #expect(try BlockVerifier.lastConfigIndex(blocks[23]) == 23)
        #expect(try BlockVerifier.lastConfigIndex(blocks[29]) == 23)
    }

    @Test("flipping one byte of the header or of a signature breaks the signature check", arguments: [1, 12, 23, 29])
    func flippedBytes(_ number: UInt64) throws {
        let verifier = BlockVerifier(bundle: try genesis())
        let block = try Conformance.block(number)
        try verifier.verifySignatures(block)
        for flip in ["number", "previous", "data", "signature", "value"] {
            var tampered = block
            switch flip {
            case "number": tampered.header.number ^= 1
            case "previous": tampered.header.previousHash[3] ^= 0x01
            case "data": tampered.header.dataHash[31] ^= 0x80
            default:
                var metadata = try Common_Metadata(serializedBytes: tampered.metadata.metadata[0])
                if flip == "signature" {
                    let last = metadata.signatures[0].signature.count - 1
                    metadata.signatures[0].signature[last] ^= 0x01
                } else {
                    metadata.value.append(0x00)
                }
                tampered.metadata.metadata[0] = try metadata.serializedBytes()
            }
            #expect(throws: ChannelConfigError(.badBlockSignature, ""), "\(flip) of block \(number)") {
                try verifier.verifySignatures(tampered)
            }
        }
    }

    @Test("the real config update in block 23 validates against the genesis config and yields block 23's config")
    func realConfigUpdate() throws {
        let genesis = try genesis()
        let block = try Conformance.block(23)
        let envelope = try TransactionEnvelope(bytes: block.data.data[0])
        let configEnvelope = try envelope.payload.unpackConfigEnvelope()
        try genesis.configTxValidator.validate(configEnvelope)
        let next = try genesis.applying(configEnvelope, mspBuilder: MSPBuilders.x509)
        #expect(next.sequence == 1)
        #expect(next.application?.organizations["Org1MSP"]?.anchorPeers.map { "\($0.host):\($0.port)" } == ["127.0.0.1:7051"])
        // Recomputing from the update alone gives exactly the carried config.
        let proposed = try genesis.configTxValidator.proposeConfigUpdate(configEnvelope.lastUpdate)
        #expect(proposed.config == configEnvelope.config)
        // Blocks after the config block verify under the new config too.
        try BlockVerifier(bundle: next).verifySignatures(try Conformance.block(24))
    }

    @Test("the real update fails against a config at the wrong sequence, and when its signature is altered")
    func realConfigUpdateFailures() throws {
        let genesis = try genesis()
        let envelope = try TransactionEnvelope(bytes: try Conformance.block(23).data.data[0])
        var configEnvelope = try envelope.payload.unpackConfigEnvelope()
        // Validating the same update twice (sequence 1 against the new config) fails on the sequence.
        let next = try genesis.applying(configEnvelope, mspBuilder: MSPBuilders.x509)
        #expect(throws: ChannelConfigError(.wrongSequence, "")) { try next.configTxValidator.validate(configEnvelope) }
        // An altered admin signature no longer satisfies Org1's Admins mod_policy.
        var payload = try Common_Payload(serializedBytes: configEnvelope.lastUpdate.payload)
        var update = try Common_ConfigUpdateEnvelope(serializedBytes: payload.data)
        let last = update.signatures[0].signature.count - 2
        update.signatures[0].signature[last] ^= 0x01
        payload.data = try update.serializedBytes()
        configEnvelope.lastUpdate.payload = try payload.serializedBytes()
        #expect(throws: ChannelConfigError(.policyNotSatisfied, "")) { try genesis.configTxValidator.validate(configEnvelope) }
    }
}
