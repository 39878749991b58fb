import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The real genesis block and config update of the conformance channel, parsed structurally (MSPs as fakes
/// named by their config; signature checks over real certificates are in ConformanceSignatureTests).
@Suite("Conformance config", .enabled(if: Conformance.isAvailable, Conformance.missingReason))
struct GenesisTests {
    func genesis() throws -> ChannelBundle {
        try ChannelBundle(configBlock: Conformance.block(0), mspBuilder: FakeMSP.builder)
    }

    @Test("the genesis bundle has the orgs, MSPs, endpoints, capabilities and batching README.md describes")
    func genesisBundle() throws {
        let bundle = try genesis()
        #expect(bundle.channelID == "conformance")
        #expect(bundle.sequence == 0)
        #expect(bundle.channel.hashingAlgorithm == "SHA256")
        #expect(bundle.channel.ordererAddresses.isEmpty)
        #expect(bundle.channel.capabilities.names == ["V3_0"])
        #expect(bundle.application?.capabilities.names == ["V2_5"])
        #expect(bundle.orderer?.capabilities.names == ["V2_0"])
        let application = try #require(bundle.application)
        #expect(application.organizations.keys.sorted() == ["Org1MSP", "Org2MSP"])
        #expect(application.organizations.values.map(\.mspID).sorted() == ["Org1MSP", "Org2MSP"])
        #expect(application.organizations.values.allSatisfy { $0.anchorPeers.isEmpty })
        let orderer = try #require(bundle.orderer)
        #expect(orderer.organizations.keys.sorted() == ["OrdererOrg"])
        #expect(orderer.organizations["OrdererOrg"]?.mspID == "OrdererMSP")
        #expect(orderer.organizations["OrdererOrg"]?.endpoints == ["127.0.0.1:7050"])
        #expect(orderer.consensusType.type == "etcdraft")
        #expect(orderer.batchSize.maxMessageCount == 10)
        #expect(orderer.batchSize.absoluteMaxBytes == 10 * 1024 * 1024)
        #expect(orderer.batchSize.preferredMaxBytes == 2 * 1024 * 1024)
        #expect(orderer.batchTimeout == 0.5)
        #expect(bundle.mspManager.mspIDs == ["OrdererMSP", "Org1MSP", "Org2MSP"])
        #expect(bundle.ordererEndpoints.map(\.address) == ["127.0.0.1:7050"])
        try bundle.checkPeerSupport()
    }

    @Test("the genesis policies are where configtx.yaml puts them, with its rules")
    func genesisPolicies() throws {
        let bundle = try genesis()
        let manager = bundle.policyManager
        for path in [
            "/Channel/Readers", "/Channel/Writers", "/Channel/Admins", "/Channel/Application/Readers",
            "/Channel/Application/Writers", "/Channel/Application/Admins", "/Channel/Application/Endorsement",
            "/Channel/Application/LifecycleEndorsement", "/Channel/Orderer/BlockValidation",
            "/Channel/Orderer/Readers", "/Channel/Orderer/Writers", "/Channel/Orderer/Admins",
            "/Channel/Application/Org1MSP/Endorsement", "/Channel/Orderer/OrdererOrg/Writers",
        ] {
            #expect(manager.policy(path).found, "\(path)")
        }
        let meta = try #require(manager.policy("/Channel/Application/LifecycleEndorsement").policy as? ImplicitMetaPolicy)
        #expect(meta.rule == .majority && meta.subPolicyName == "Endorsement" && meta.threshold == 2)
        let validation = try #require(manager.policy("/Channel/Orderer/BlockValidation").policy as? ImplicitMetaPolicy)
        #expect(validation.rule == .any && validation.subPolicyName == "Writers" && validation.threshold == 1)

        // Our policy-language parser produces exactly the bytes configtxgen wrote for every org policy.
        let rules: [(String, String, String)] = [
            ("Application", "Org1MSP", "Readers:OR('Org1MSP.admin', 'Org1MSP.peer', 'Org1MSP.client')"),
            ("Application", "Org1MSP", "Writers:OR('Org1MSP.admin', 'Org1MSP.client')"),
            ("Application", "Org1MSP", "Admins:OR('Org1MSP.admin')"),
            ("Application", "Org1MSP", "Endorsement:OR('Org1MSP.peer')"),
            ("Application", "Org2MSP", "Readers:OR('Org2MSP.admin', 'Org2MSP.peer', 'Org2MSP.client')"),
            ("Application", "Org2MSP", "Endorsement:OR('Org2MSP.peer')"),
            ("Orderer", "OrdererOrg", "Readers:OR('OrdererMSP.member')"),
            ("Orderer", "OrdererOrg", "Admins:OR('OrdererMSP.admin')"),
        ]
        for (section, org, rule) in rules {
            let name = String(rule.prefix { $0 != ":" })
            let text = String(rule.dropFirst(name.count + 1))
            let stored = try #require(bundle.config.channelGroup.groups[section]?.groups[org]?.policies[name])
            #expect(stored.policy.type == 1)
            let parsed: Data = try PolicyDSL.parse(text).serializedBytes()
            #expect(parsed == stored.policy.value, "\(org)/\(name)")
        }
    }

    @Test("block 23 carries sequence 1 with Org1's anchor peer, and proposes from the genesis config")
    func anchorConfig() throws {
        let block = try Conformance.block(23)
        let bundle = try ChannelBundle(configBlock: block, mspBuilder: FakeMSP.builder)
        #expect(bundle.sequence == 1)
        let anchors = try #require(bundle.application?.organizations["Org1MSP"]?.anchorPeers)
        #expect(anchors.map { "\($0.host):\($0.port)" } == ["127.0.0.1:7051"])
        #expect(bundle.application?.organizations["Org2MSP"]?.anchorPeers.isEmpty == true)
        let genesis = try genesis()
        try genesis.validateNew(bundle)
    }

    @Test("a profile shaped like configtx.yaml builds the same config tree as configtxgen, MSPs aside")
    func profileMatchesConfigtxgen() throws {
        let genesis = try genesis()
        let real = genesis.config.channelGroup
        func msp(_ section: String, _ org: String) throws -> Msp_FabricMSPConfig {
            let value = try #require(real.groups[section]?.groups[org]?.values["MSP"])
            let config = try Msp_MSPConfig(serializedBytes: value.value)
            return try Msp_FabricMSPConfig(serializedBytes: config.config)
        }
        var profile = ChannelProfile(
            channelID: "conformance",
            applicationOrgs: [
                .peerOrg(name: "Org1MSP", msp: try msp("Application", "Org1MSP")),
                .peerOrg(name: "Org2MSP", msp: try msp("Application", "Org2MSP")),
            ],
            ordererOrgs: [
                .ordererOrg(name: "OrdererOrg", msp: try msp("Orderer", "OrdererOrg"), endpoints: ["127.0.0.1:7050"])
            ]
        )
        profile.maxMessageCount = 10
        profile.batchTimeout = "500ms"
        let consensus = try Orderer_ConsensusType(
            serializedBytes: try #require(real.groups["Orderer"]?.values["ConsensusType"]).value
        )
        profile.consensusMetadata = consensus.metadata
        let built = try profile.makeConfig().channelGroup
        #expect(built == real)
    }
}
