import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Config-update validation (ports of configtx validator_test.go).
@Suite("Config updates")
struct ConfigTxTests {
    let bundle: ChannelBundle
    let admin1 = Fixtures.org1.identity("admin1", roles: [.admin])
    let admin2 = Fixtures.org2.identity("admin2", roles: [.admin])
    let peer1 = Fixtures.org1.identity("peer1", roles: [.peer])

    init() throws {
        self.bundle = try Fixtures.bundle()
    }

    /// The update configtxlator computes for "set Org1MSP's anchor peers": Org1MSP's group goes to version 1,
    /// its existing elements are read at version 0, AnchorPeers is new at version 0.
    func anchorUpdate(channel: String = "mychannel", groupVersion: UInt64 = 1, readVersion: UInt64 = 0)
        -> Common_ConfigUpdate
    {
        let current = bundle.config.channelGroup.groups["Application"]!.groups["Org1MSP"]!
        var read = Common_ConfigGroup()
        read.version = readVersion
        for key in current.values.keys { read.values[key] = Common_ConfigValue() }
        for key in current.policies.keys { read.policies[key] = Common_ConfigPolicy() }
        var write = read
        write.version = groupVersion
        write.modPolicy = "Admins"
        var anchors = Common_ConfigValue()
        anchors.modPolicy = "Admins"
        anchors.value = Fixtures.encode(
            Protos_AnchorPeers.with {
                $0.anchorPeers = [
                    Protos_AnchorPeer.with {
                        $0.host = "peer0.org1"
                        $0.port = 7051
                    }
                ]
            }
        )
        write.values["AnchorPeers"] = anchors
        func wrap(_ org: Common_ConfigGroup) -> Common_ConfigGroup {
            var application = Common_ConfigGroup()
            application.groups["Org1MSP"] = org
            var root = Common_ConfigGroup()
            root.groups["Application"] = application
            return root
        }
        var update = Common_ConfigUpdate()
        update.channelID = channel
        update.readSet = wrap(read)
        update.writeSet = wrap(write)
        return update
    }

    func envelope(_ update: Common_ConfigUpdate, signers: [FakeIdentity], channel: String = "mychannel") throws
        -> Common_Envelope
    {
        var updateEnvelope = Common_ConfigUpdateEnvelope()
        updateEnvelope.configUpdate = Fixtures.encode(update)
        for signer in signers {
            var header = Common_SignatureHeader()
            header.creator = signer.serialized
            header.nonce = Data([1, 2, 3])
            var signature = Common_ConfigSignature()
            signature.signatureHeader = Fixtures.encode(header)
            signature.signature = try signer.sign(signature.signatureHeader + updateEnvelope.configUpdate)
            updateEnvelope.signatures.append(signature)
        }
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.configUpdate.rawValue)
        channelHeader.channelID = channel
        var payload = Common_Payload()
        payload.header.channelHeader = Fixtures.encode(channelHeader)
        payload.header.signatureHeader = Fixtures.encode(Common_SignatureHeader())
        payload.data = Fixtures.encode(updateEnvelope)
        var envelope = Common_Envelope()
        envelope.payload = Fixtures.encode(payload)
        return envelope
    }

    /// The config the anchor update should produce.
    func expectedConfig() throws -> Common_Config {
        var profile = Fixtures.profile()
        profile.applicationOrgs[0].anchorPeers = [(host: "peer0.org1", port: 7051)]
        var config = try profile.makeConfig()
        config.sequence = 1
        config.channelGroup.groups["Application"]!.groups["Org1MSP"]!.version = 1
        return config
    }

    @Test("a correctly signed update validates and yields the new config (TestValidConfigChange)")
    func validChange() throws {
        let update = try envelope(anchorUpdate(), signers: [admin1])
        let proposed = try bundle.configTxValidator.proposeConfigUpdate(update)
        let expected = try expectedConfig()
        #expect(proposed.config == expected)
        try bundle.configTxValidator.validate(proposed)
        let next = try bundle.applying(proposed, mspBuilder: FakeMSP.builder)
        #expect(next.sequence == 1)
        #expect(next.application?.organizations["Org1MSP"]?.anchorPeers.map(\.host) == ["peer0.org1"])
    }

    @Test("sequence must be current + 1 (TestConfigChangeRegressedSequence, TestConfigChangeOldSequence)")
    func sequence() throws {
        var proposed = try bundle.configTxValidator.proposeConfigUpdate(envelope(anchorUpdate(), signers: [admin1]))
        proposed.config.sequence = 0
        #expect(throws: ChannelConfigError(.wrongSequence, "")) { try bundle.configTxValidator.validate(proposed) }
        proposed.config.sequence = 2
        #expect(throws: ChannelConfigError(.wrongSequence, "")) { try bundle.configTxValidator.validate(proposed) }
    }

    @Test("a config that the update does not produce is refused (TestSilentConfigModification)")
    func silentModification() throws {
        var proposed = try bundle.configTxValidator.proposeConfigUpdate(envelope(anchorUpdate(), signers: [admin1]))
        proposed.config.channelGroup.groups["Application"]!.groups["Org2MSP"]!.values["AnchorPeers"] =
            proposed.config.channelGroup.groups["Application"]!.groups["Org1MSP"]!.values["AnchorPeers"]
        #expect(throws: ChannelConfigError(.configMismatch, "")) { try bundle.configTxValidator.validate(proposed) }
    }

    @Test("the element's current mod_policy must be satisfied (TestConfigChangeViolatesPolicy)")
    func policyViolation() throws {
        for signers in [[], [peer1], [admin2]] {
            let update = try envelope(anchorUpdate(), signers: signers)
            let error = #expect(throws: ChannelConfigError.self) {
                try bundle.configTxValidator.proposeConfigUpdate(update)
            }
            #expect(error?.code == .policyNotSatisfied)
            #expect(error?.message.contains("[Group]  /Channel/Application/Org1MSP") == true)
        }
        // A signature over different bytes does not count.
        var forged = try envelope(anchorUpdate(), signers: [admin1])
        var payload = try Common_Payload(serializedBytes: forged.payload)
        var updateEnvelope = try Common_ConfigUpdateEnvelope(serializedBytes: payload.data)
        var changed = anchorUpdate()
        changed.writeSet.groups["Application"]!.groups["Org1MSP"]!.values["AnchorPeers"]!.value = Data([0x0a, 0x00])
        updateEnvelope.configUpdate = Fixtures.encode(changed)
        payload.data = Fixtures.encode(updateEnvelope)
        forged.payload = Fixtures.encode(payload)
        #expect(throws: ChannelConfigError(.policyNotSatisfied, "")) {
            try bundle.configTxValidator.proposeConfigUpdate(forged)
        }
    }

    @Test("an update with no changes is refused (TestEmptyConfigUpdate)")
    func empty() throws {
        var update = anchorUpdate()
        update.writeSet = update.readSet
        #expect(throws: ChannelConfigError(.invalidUpdate, "")) {
            try bundle.configTxValidator.proposeConfigUpdate(try envelope(update, signers: [admin1]))
        }
    }

    @Test("read set versions, element versions and channel must match")
    func versionsAndChannel() throws {
        #expect(throws: ChannelConfigError(.invalidUpdate, "")) {
            try bundle.configTxValidator.proposeConfigUpdate(try envelope(anchorUpdate(readVersion: 3), signers: [admin1]))
        }
        #expect(throws: ChannelConfigError(.invalidUpdate, "")) {
            try bundle.configTxValidator.proposeConfigUpdate(
                try envelope(anchorUpdate(groupVersion: 2), signers: [admin1])
            )
        }
        #expect(throws: ChannelConfigError(.wrongChannel, "")) {
            try bundle.configTxValidator.proposeConfigUpdate(
                try envelope(anchorUpdate(channel: "other"), signers: [admin1])
            )
        }
        // A new element must start at version 0.
        var update = anchorUpdate()
        update.writeSet.groups["Application"]!.groups["Org1MSP"]!.values["AnchorPeers"]!.version = 4
        #expect(throws: ChannelConfigError(.invalidUpdate, "")) {
            try bundle.configTxValidator.proposeConfigUpdate(try envelope(update, signers: [admin1]))
        }
        // An illegal element name is refused.
        var illegal = anchorUpdate()
        illegal.writeSet.groups["Application"]!.groups["Org1MSP"]!.values["Anchor Peers!"] = Common_ConfigValue()
        #expect(throws: ChannelConfigError(.invalidUpdate, "")) {
            try bundle.configTxValidator.proposeConfigUpdate(try envelope(illegal, signers: [admin1]))
        }
    }

    @Test("channel ids follow Fabric's rule")
    func channelIDs() throws {
        for good in ["a", "mychannel", "my-channel.2", String(repeating: "a", count: 249)] {
            try validateChannelID(good)
        }
        for bad in ["", "MyChannel", "1abc", "my_channel", "a b", String(repeating: "a", count: 250)] {
            #expect(throws: ChannelConfigError(.wrongChannel, "")) { try validateChannelID(bad) }
        }
    }
}
