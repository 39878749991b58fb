import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The config tree's values and validation rules (ports of channel_test, orderer_test, msp_test, bundle_test).
@Suite("Channel bundle")
struct BundleTests {
    func config(_ edit: (inout Common_Config) throws -> Void) throws -> Common_Config {
        var config = try Fixtures.profile().makeConfig()
        try edit(&config)
        return config
    }

    func value(_ message: some SwiftProtobuf.Message) -> Common_ConfigValue {
        var value = Common_ConfigValue()
        value.value = Fixtures.encode(message)
        value.modPolicy = "Admins"
        return value
    }

    func expectError(_ code: ChannelConfigError.Code, _ edit: (inout Common_Config) throws -> Void) throws {
        let config = try config(edit)
        let error = #expect(throws: ChannelConfigError.self) { try Fixtures.bundle(config: config) }
        #expect(error?.code == code, "\(String(describing: error))")
    }

    @Test("a well-formed profile yields its orgs, MSPs, endpoints and batching")
    func wellFormed() throws {
        let bundle = try Fixtures.bundle()
        #expect(bundle.channelID == "mychannel")
        #expect(bundle.channel.hashingAlgorithm == "SHA256")
        #expect(bundle.application?.organizations.keys.sorted() == ["Org1MSP", "Org2MSP"])
        #expect(bundle.orderer?.organizations["OrdererOrg"]?.endpoints == ["orderer0:7050"])
        #expect(bundle.mspManager.mspIDs == ["Org1MSP", "Org2MSP", "OrdererMSP"].sorted())
        #expect(bundle.orderer?.batchTimeout == 2)
        #expect(bundle.orderer?.batchSize.maxMessageCount == 500)
        #expect(bundle.ordererEndpoints.map(\.address) == ["orderer0:7050"])
        #expect(bundle.ordererEndpoints.first?.organization == "OrdererMSP")
        try bundle.checkPeerSupport()
        #expect(bundle.channel.capabilities.mspVersion == .v3_0)
        #expect(bundle.application?.capabilities.v2_0Validation == true)
    }

    @Test("hashing algorithm must be SHA256 or SHA3_256 (TestHashingAlgorithm)")
    func hashing() throws {
        try expectError(.invalidValue) { config in
            config.channelGroup.values["HashingAlgorithm"] = value(Common_HashingAlgorithm.with { $0.name = "MD5" })
        }
        try expectError(.invalidValue) { config in config.channelGroup.values["HashingAlgorithm"] = nil }
        let sha3 = try config { config in
            config.channelGroup.values["HashingAlgorithm"] = value(Common_HashingAlgorithm.with { $0.name = "SHA3_256" })
        }
        let bundle = try Fixtures.bundle(config: sha3)
        #expect(bundle.channel.hash(Data("abc".utf8)) == Digest.sha3_256(Data("abc".utf8)))
    }

    @Test("block data hashing width must be 2^32-1 (TestBlockDataHashingStructure)")
    func width() throws {
        try expectError(.invalidValue) { config in
            config.channelGroup.values["BlockDataHashingStructure"] = value(
                Common_BlockDataHashingStructure.with { $0.width = 7 }
            )
        }
    }

    @Test("orderer addresses: required below V1_4_2, forbidden globally with V3_0 (TestOrdererAddresses)")
    func ordererAddresses() throws {
        try expectError(.invalidValue) { config in
            config.channelGroup.values["OrdererAddresses"] = value(
                Common_OrdererAddresses.with { $0.addresses = ["o:7050"] }
            )
        }
        // V2_0 channel: org endpoints allowed, global addresses optional.
        var profile = Fixtures.profile()
        profile.channelCapabilities = ["V2_0"]
        profile.ordererAddresses = ["global:7050"]
        let bundle = try Fixtures.bundle(profile)
        // Org endpoints win over global addresses.
        #expect(bundle.ordererEndpoints.map(\.address) == ["orderer0:7050"])
        // V1_3 channel: global addresses required and org endpoints forbidden.
        var old = Fixtures.profile()
        old.channelCapabilities = ["V1_3"]
        old.ordererAddresses = ["global:7050"]
        #expect(throws: ChannelConfigError(.invalidValue, "")) { try Fixtures.bundle(old) }
        old.ordererOrgs[0].ordererEndpoints = []
        let legacy = try Fixtures.bundle(old)
        #expect(legacy.ordererEndpoints.map(\.address) == ["global:7050"])
        old.ordererAddresses = []
        #expect(throws: ChannelConfigError(.invalidValue, "")) { try Fixtures.bundle(old) }
    }

    @Test("V3_0 requires every orderer org to have endpoints")
    func v3Endpoints() throws {
        var profile = Fixtures.profile()
        profile.ordererOrgs[0].ordererEndpoints = []
        #expect(throws: ChannelConfigError(.invalidValue, "")) { try Fixtures.bundle(profile) }
    }

    @Test("batch size and timeout rules (TestBatchSize, TestBatchTimeout)", arguments: [
        (UInt32(0), UInt32(10), UInt32(5), "2s"), (10, 0, 5, "2s"), (10, 10, 0, "2s"), (10, 10, 11, "2s"),
        (10, 10, 5, "0s"), (10, 10, 5, "-1s"), (10, 10, 5, "two seconds"), (10, 10, 5, ""),
    ])
    func batching(_ count: UInt32, _ absolute: UInt32, _ preferred: UInt32, _ timeout: String) throws {
        var profile = Fixtures.profile()
        profile.maxMessageCount = count
        profile.absoluteMaxBytes = absolute
        profile.preferredMaxBytes = preferred
        profile.batchTimeout = timeout
        #expect(throws: ChannelConfigError(.invalidValue, "")) { try Fixtures.bundle(profile) }
    }

    @Test("batch timeouts parse as Go durations")
    func durations() throws {
        for (text, seconds) in [("500ms", 0.5), ("1h2m3.5s", 3723.5), ("1.5m", 90.0), ("250us", 0.00025)] {
            var profile = Fixtures.profile()
            profile.batchTimeout = text
            #expect(try Fixtures.bundle(profile).orderer?.batchTimeout == seconds, "\(text)")
        }
    }

    @Test("unknown value keys, disallowed groups and org sub-groups are refused")
    func structure() throws {
        try expectError(.unexpectedKey) { config in
            config.channelGroup.values["Bogus"] = value(Common_Consortium())
        }
        try expectError(.unexpectedKey) { config in
            config.channelGroup.groups["Orderer"]!.groups["OrdererOrg"]!.values["AnchorPeers"] = value(
                Protos_AnchorPeers()
            )
        }
        try expectError(.badStructure) { config in
            config.channelGroup.groups["Bogus"] = Common_ConfigGroup()
        }
        try expectError(.badStructure) { config in
            config.channelGroup.groups["Application"]!.groups["Org1MSP"]!.groups["Sub"] = Common_ConfigGroup()
        }
        try expectError(.malformedValue) { config in
            config.channelGroup.groups["Orderer"]!.values["BatchSize"]!.value = Data([0xff, 0xff])
        }
    }

    @Test("ACLs need the ACLs capability")
    func acls() throws {
        let acls = Protos_ACLs.with { $0.acls["peer/Propose"] = Protos_APIResource.with { $0.policyRef = "Writers" } }
        let withACLs = try config { config in config.channelGroup.groups["Application"]!.values["ACLs"] = value(acls) }
        #expect(try Fixtures.bundle(config: withACLs).application?.acls == ["peer/Propose": "Writers"])
        var profile = Fixtures.profile()
        profile.applicationCapabilities = ["V1_1"]
        var old = try profile.makeConfig()
        old.channelGroup.groups["Application"]!.values["ACLs"] = value(acls)
        #expect(throws: ChannelConfigError(.invalidValue, "")) { try Fixtures.bundle(config: old) }
    }

    @Test("one MSP id in two orgs: identical definitions merge, differing ones fail (TestMSPConfigFailure)")
    func duplicateMSP() throws {
        var profile = Fixtures.profile()
        profile.ordererOrgs.append(.ordererOrg(name: "Org1AsOrderer", msp: FakeMSP.config("Org1MSP"), endpoints: ["x:1"]))
        let merged = try Fixtures.bundle(profile)
        #expect(merged.mspManager.mspIDs.count == 3)
        var differing = FakeMSP.config("Org1MSP")
        differing.admins = [Data("admin".utf8)]
        profile.ordererOrgs[1] = .ordererOrg(name: "Org1AsOrderer", msp: differing, endpoints: ["x:1"])
        #expect(throws: ChannelConfigError(.badMSP, "")) { try Fixtures.bundle(profile) }
    }

    @Test("idemix and unknown MSP types are refused; an empty MSP id is refused")
    func mspTypes() throws {
        try expectError(.badMSP) { config in
            var msp = Msp_MSPConfig()
            msp.type = 1
            config.channelGroup.groups["Application"]!.groups["Org1MSP"]!.values["MSP"] = value(msp)
        }
        try expectError(.badMSP) { config in
            var msp = Msp_MSPConfig()
            msp.type = 7
            config.channelGroup.groups["Application"]!.groups["Org1MSP"]!.values["MSP"] = value(msp)
        }
        try expectError(.badMSP) { config in
            var msp = Msp_MSPConfig()
            msp.config = Fixtures.encode(Msp_FabricMSPConfig())
            config.channelGroup.groups["Application"]!.groups["Org1MSP"]!.values["MSP"] = value(msp)
        }
    }

    @Test("capabilities need orderer support first (TestPrevalidation)")
    func prevalidation() throws {
        try expectError(.invalidValue) { config in
            config.channelGroup.groups["Orderer"]!.values["Capabilities"] = nil
        }
        // Without channel and application capabilities, a missing orderer capability is fine.
        var profile = Fixtures.profile()
        profile.channelCapabilities = []
        profile.applicationCapabilities = []
        profile.ordererAddresses = ["o:7050"]
        profile.ordererOrgs[0].ordererEndpoints = []
        var config = try profile.makeConfig()
        config.channelGroup.values["Capabilities"] = nil
        config.channelGroup.groups["Application"]!.values["Capabilities"] = nil
        config.channelGroup.groups["Orderer"]!.values["Capabilities"] = nil
        let bundle = try Fixtures.bundle(config: config)
        #expect(bundle.channel.capabilities.mspVersion == .v1_0)
    }

    @Test("ValidateNew refuses disappearing sections, consensus changes without migration and MSP id changes")
    func validateNew() throws {
        let current = try Fixtures.bundle()
        try current.validateNew(try Fixtures.bundle())

        var noApplication = try Fixtures.profile().makeConfig()
        noApplication.channelGroup.groups["Application"] = nil
        #expect(throws: ChannelConfigError(.invalidTransition, "")) {
            try current.validateNew(try Fixtures.bundle(config: noApplication))
        }
        var noOrderer = try Fixtures.profile().makeConfig()
        noOrderer.channelGroup.groups["Orderer"] = nil
        #expect(throws: ChannelConfigError(.invalidTransition, "")) {
            try current.validateNew(try Fixtures.bundle(config: noOrderer))
        }
        // Org1MSP's group now holds the MSP of Org3MSP.
        var renamed = Fixtures.profile()
        renamed.applicationOrgs[0] = .peerOrg(name: "Org1MSP", msp: FakeMSP.config("Org3MSP"))
        #expect(throws: ChannelConfigError(.invalidTransition, "")) {
            try current.validateNew(try Fixtures.bundle(renamed))
        }
        // Consensus type change: allowed with V3_0 (migration capability), refused with V1_3.
        var bft = Fixtures.profile()
        bft.consensusType = "BFT"
        try current.validateNew(try Fixtures.bundle(bft))
        var old = Fixtures.profile()
        old.channelCapabilities = ["V1_3"]
        old.ordererAddresses = ["o:7050"]
        old.ordererOrgs[0].ordererEndpoints = []
        let oldBundle = try Fixtures.bundle(old)
        old.consensusType = "BFT"
        #expect(throws: ChannelConfigError(.invalidTransition, "")) {
            try oldBundle.validateNew(try Fixtures.bundle(old))
        }
    }

    @Test("upgrading to V3_0 requires orderer org endpoints (TestValidateNewWithOrgEndpoints)")
    func upgradeToV3() throws {
        var v2 = Fixtures.profile()
        v2.channelCapabilities = ["V2_0"]
        v2.ordererAddresses = ["o:7050"]
        v2.ordererOrgs[0].ordererEndpoints = []
        let current = try Fixtures.bundle(v2)
        var v3 = Fixtures.profile()
        v3.ordererOrgs[0].ordererEndpoints = ["orderer0:7050"]
        try current.validateNew(try Fixtures.bundle(v3))
    }

    @Test("BundleSource runs callbacks in order on creation and on every update")
    func bundleSource() throws {
        final class Log: @unchecked Sendable {
            // Guarded by `lock`.
            private var entries: [String] = []
            private let lock = NSLock()
            func add(_ entry: String) { lock.withLock { entries.append(entry) } }
            var all: [String] { lock.withLock { entries } }
        }
        let log = Log()
        let first = try Fixtures.bundle()
        let source = BundleSource(first, callbacks: [
            { log.add("a:\($0.channelID)") }, { log.add("b:\($0.channelID)") },
        ])
        #expect(log.all == ["a:mychannel", "b:mychannel"])
        let second = try Fixtures.bundle(Fixtures.profile(channel: "other"))
        source.update(second)
        #expect(log.all == ["a:mychannel", "b:mychannel", "a:other", "b:other"])
        #expect(source.bundle.channelID == "other")
    }
}

@Suite("Capabilities")
struct CapabilityTests {
    @Test("unknown capability names are reported by name")
    func unknown() throws {
        let error = #expect(throws: ChannelConfigError.self) { try ChannelCapabilities(["V3_0", "V9_9"]).checkSupported() }
        #expect(error?.code == .unsupportedCapability)
        #expect(error?.message.contains("V9_9") == true)
        #expect(error?.message.contains("Channel") == true)
        #expect(throws: ChannelConfigError(.unsupportedCapability, "")) {
            try ApplicationCapabilities(["V2_6"]).checkSupported()
        }
        try ApplicationCapabilities(["V2_5", "V1_1_PVTDATA_EXPERIMENTAL"]).checkSupported()
        try OrdererCapabilities(["V2_0"]).checkSupported()
    }

    @Test("an unsupported capability in the config fails the peer's check, not the bundle")
    func peerSupport() throws {
        var profile = Fixtures.profile()
        profile.applicationCapabilities = ["V2_5", "V7_0"]
        let bundle = try Fixtures.bundle(profile)
        #expect(throws: ChannelConfigError(.unsupportedCapability, "")) { try bundle.checkPeerSupport() }
    }

    @Test("channel capabilities map to MSP versions (TestChannelV30)")
    func mspVersions() {
        #expect(ChannelCapabilities(["V3_0"]).mspVersion == .v3_0)
        #expect(ChannelCapabilities(["V2_0"]).mspVersion == .v1_4_3)
        #expect(ChannelCapabilities(["V1_4_3"]).mspVersion == .v1_4_3)
        #expect(ChannelCapabilities(["V1_4_2"]).mspVersion == .v1_3)
        #expect(ChannelCapabilities(["V1_3"]).mspVersion == .v1_3)
        #expect(ChannelCapabilities(["V1_1"]).mspVersion == .v1_1)
        #expect(ChannelCapabilities([]).mspVersion == .v1_0)
        #expect(ChannelCapabilities(["V3_0"]).consensusTypeBFT)
        #expect(!ChannelCapabilities(["V2_0"]).consensusTypeBFT)
        #expect(ChannelCapabilities(["V1_4_2"]).orgSpecificOrdererEndpoints)
        #expect(!ChannelCapabilities(["V1_3"]).orgSpecificOrdererEndpoints)
    }

    @Test("application flags are cumulative (TestApplicationV25)")
    func applicationFlags() {
        let v25 = ApplicationCapabilities(["V2_5"])
        #expect(v25.acls && v25.forbidDuplicateTXIdInBlock && v25.privateChannelData && v25.keyLevelEndorsement)
        #expect(v25.storePvtDataOfInvalidTx && v25.v2_0Validation && v25.lifecycleV20 && v25.purgePvtData)
        #expect(!v25.metadataLifecycle)
        let v20 = ApplicationCapabilities(["V2_0"])
        #expect(v20.v2_0Validation && !v20.purgePvtData)
        let v11 = ApplicationCapabilities(["V1_1"])
        #expect(v11.forbidDuplicateTXIdInBlock && !v11.acls && !v11.privateChannelData)
        #expect(ApplicationCapabilities(["V1_1_PVTDATA_EXPERIMENTAL"]).privateChannelData)
        #expect(!ApplicationCapabilities([]).v1_1Validation)
    }
}
