import SwiftProtobuf
public import Foundation
public import Wire

/// A description of a channel from which a config tree and a genesis block are built, shaped like
/// configtxgen's output: every group, value and policy at version 0 with mod_policy `Admins`; org policies from
/// Fabric's policy language; section policies implicit meta.
public struct ChannelProfile: Sendable {
    /// An organisation of the profile.
    public struct Organization: Sendable {
        /// The group name (configtxgen's `Name`).
        public var name: String
        /// The MSP config (type FABRIC) carried in the org's `MSP` value.
        public var msp: Msp_FabricMSPConfig
        /// Policy name → rule in Fabric's policy language, e.g. `Readers: OR('Org1MSP.member')`.
        public var policies: [String: String]
        /// Anchor peers (application orgs).
        public var anchorPeers: [(host: String, port: Int32)]
        /// Orderer endpoints "host:port" (orderer orgs, V1_4_2+).
        public var ordererEndpoints: [String]

        /// An org with the policies configtxgen's sample profiles give a peer org: Readers admin|peer|client,
        /// Writers admin|client, Admins admin, Endorsement peer.
        public static func peerOrg(
            name: String,
            msp: Msp_FabricMSPConfig,
            anchorPeers: [(host: String, port: Int32)] = []
        ) -> Organization {
            let id = msp.name
            return Organization(
                name: name,
                msp: msp,
                policies: [
                    "Readers": "OR('\(id).admin', '\(id).peer', '\(id).client')",
                    "Writers": "OR('\(id).admin', '\(id).client')",
                    "Admins": "OR('\(id).admin')",
                    "Endorsement": "OR('\(id).peer')",
                ],
                anchorPeers: anchorPeers,
                ordererEndpoints: []
            )
        }

        /// An orderer org with member Readers/Writers and admin Admins.
        public static func ordererOrg(name: String, msp: Msp_FabricMSPConfig, endpoints: [String]) -> Organization {
            let id = msp.name
            return Organization(
                name: name,
                msp: msp,
                policies: [
                    "Readers": "OR('\(id).member')",
                    "Writers": "OR('\(id).member')",
                    "Admins": "OR('\(id).admin')",
                ],
                anchorPeers: [],
                ordererEndpoints: endpoints
            )
        }

        /// Creates an org.
        public init(
            name: String,
            msp: Msp_FabricMSPConfig,
            policies: [String: String],
            anchorPeers: [(host: String, port: Int32)],
            ordererEndpoints: [String]
        ) {
            self.name = name
            self.msp = msp
            self.policies = policies
            self.anchorPeers = anchorPeers
            self.ordererEndpoints = ordererEndpoints
        }
    }

    /// The channel id.
    public var channelID: String
    /// Application orgs.
    public var applicationOrgs: [Organization]
    /// Orderer orgs.
    public var ordererOrgs: [Organization]
    /// Channel capabilities, e.g. ["V3_0"].
    public var channelCapabilities: [String] = ["V3_0"]
    /// Application capabilities, e.g. ["V2_5"].
    public var applicationCapabilities: [String] = ["V2_5"]
    /// Orderer capabilities, e.g. ["V2_0"].
    public var ordererCapabilities: [String] = ["V2_0"]
    /// Global orderer addresses (only below channel V3_0).
    public var ordererAddresses: [String] = []
    /// Consensus type name.
    public var consensusType = "etcdraft"
    /// Consensus metadata (e.g. a marshalled `etcdraft.ConfigMetadata`).
    public var consensusMetadata = Data()
    /// Batch size.
    public var maxMessageCount: UInt32 = 500
    /// Batch size.
    public var absoluteMaxBytes: UInt32 = 10 * 1024 * 1024
    /// Batch size.
    public var preferredMaxBytes: UInt32 = 2 * 1024 * 1024
    /// Batch timeout as a Go duration.
    public var batchTimeout = "2s"
    /// Application section implicit-meta policies ("ANY Readers", …).
    public var applicationPolicies: [String: String] = [
        "Readers": "ANY Readers", "Writers": "ANY Writers", "Admins": "MAJORITY Admins",
        "LifecycleEndorsement": "MAJORITY Endorsement", "Endorsement": "MAJORITY Endorsement",
    ]
    /// Orderer section implicit-meta policies.
    public var ordererPolicies: [String: String] = [
        "Readers": "ANY Readers", "Writers": "ANY Writers", "Admins": "MAJORITY Admins",
        "BlockValidation": "ANY Writers",
    ]
    /// Channel-level implicit-meta policies.
    public var channelPolicies: [String: String] = [
        "Readers": "ANY Readers", "Writers": "ANY Writers", "Admins": "MAJORITY Admins",
    ]

    /// Creates a profile.
    public init(channelID: String, applicationOrgs: [Organization], ordererOrgs: [Organization]) {
        self.channelID = channelID
        self.applicationOrgs = applicationOrgs
        self.ordererOrgs = ordererOrgs
    }
}

extension ChannelProfile {
    /// The config tree (sequence 0).
    public func makeConfig() throws(ChannelConfigError) -> Common_Config {
        var root = Self.group()
        root.values["HashingAlgorithm"] = try Self.value(Common_HashingAlgorithm.with { $0.name = "SHA256" })
        root.values["BlockDataHashingStructure"] = try Self.value(
            Common_BlockDataHashingStructure.with { $0.width = UInt32.max }
        )
        root.values["Capabilities"] = try Self.capabilities(self.channelCapabilities)
        if !self.ordererAddresses.isEmpty {
            root.values["OrdererAddresses"] = try Self.value(
                Common_OrdererAddresses.with { $0.addresses = self.ordererAddresses }
            )
        }
        root.policies = try Self.implicitMeta(self.channelPolicies)

        var application = Self.group()
        application.values["Capabilities"] = try Self.capabilities(self.applicationCapabilities)
        application.policies = try Self.implicitMeta(self.applicationPolicies)
        for org in self.applicationOrgs {
            var group = try Self.orgGroup(org)
            if !org.anchorPeers.isEmpty {
                group.values["AnchorPeers"] = try Self.value(
                    Protos_AnchorPeers.with { anchors in
                        anchors.anchorPeers = org.anchorPeers.map { peer in
                            Protos_AnchorPeer.with {
                                $0.host = peer.host
                                $0.port = peer.port
                            }
                        }
                    }
                )
            }
            application.groups[org.name] = group
        }
        root.groups["Application"] = application

        var orderer = Self.group()
        orderer.values["Capabilities"] = try Self.capabilities(self.ordererCapabilities)
        orderer.values["ConsensusType"] = try Self.value(
            Orderer_ConsensusType.with {
                $0.type = self.consensusType
                $0.metadata = self.consensusMetadata
            }
        )
        orderer.values["BatchSize"] = try Self.value(
            Orderer_BatchSize.with {
                $0.maxMessageCount = self.maxMessageCount
                $0.absoluteMaxBytes = self.absoluteMaxBytes
                $0.preferredMaxBytes = self.preferredMaxBytes
            }
        )
        orderer.values["BatchTimeout"] = try Self.value(Orderer_BatchTimeout.with { $0.timeout = self.batchTimeout })
        orderer.values["ChannelRestrictions"] = try Self.value(Orderer_ChannelRestrictions())
        orderer.policies = try Self.implicitMeta(self.ordererPolicies)
        for org in self.ordererOrgs {
            var group = try Self.orgGroup(org)
            if !org.ordererEndpoints.isEmpty {
                group.values["Endpoints"] = try Self.value(
                    Common_OrdererAddresses.with { $0.addresses = org.ordererEndpoints }
                )
            }
            orderer.groups[org.name] = group
        }
        root.groups["Orderer"] = orderer

        var config = Common_Config()
        config.sequence = 0
        config.channelGroup = root
        return config
    }

    /// A genesis block: block 0 holding one CONFIG envelope (unsigned, empty creator, random nonce, tx id from
    /// the nonce), `LAST_CONFIG` 0 in the SIGNATURES metadata, as configtxgen writes it.
    public func makeGenesisBlock(timestamp: Date = Date()) throws(ChannelConfigError) -> Common_Block {
        var configEnvelope = Common_ConfigEnvelope()
        configEnvelope.config = try self.makeConfig()
        var nonce = Data(count: 24)
        for index in nonce.indices { nonce[index] = UInt8.random(in: 0...255) }
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.nonce = nonce
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.config.rawValue)
        channelHeader.version = 1
        channelHeader.timestamp = .init(date: Date(timeIntervalSince1970: timestamp.timeIntervalSince1970.rounded(.down)))
        channelHeader.channelID = self.channelID
        channelHeader.txID = TxID.compute(nonce: nonce, creator: Data())
        do {
            var payload = Common_Payload()
            payload.header.channelHeader = try channelHeader.encoded()
            payload.header.signatureHeader = try signatureHeader.encoded()
            payload.data = try configEnvelope.encoded()
            var envelope = Common_Envelope()
            envelope.payload = try payload.encoded()

            var block = Common_Block()
            block.header.number = 0
            block.data.data = [try envelope.encoded()]
            block.header.dataHash = block.data.hash
            var ordererMetadata = Common_OrdererBlockMetadata()
            ordererMetadata.lastConfig = Common_LastConfig()
            var signatures = Common_Metadata()
            signatures.value = try ordererMetadata.encoded()
            block.metadata.metadata = [try signatures.encoded(), Data(), Data(), Data(), Data()]
            return block
        } catch {
            throw ChannelConfigError(.badStructure, "genesis block does not encode", cause: error)
        }
    }

    static func group() -> Common_ConfigGroup {
        var group = Common_ConfigGroup()
        group.modPolicy = "Admins"
        return group
    }

    static func value(_ message: some SwiftProtobuf.Message) throws(ChannelConfigError) -> Common_ConfigValue {
        var value = Common_ConfigValue()
        value.modPolicy = "Admins"
        do {
            value.value = try message.encoded()
        } catch {
            throw ChannelConfigError(.malformedValue, "config value does not encode", cause: error)
        }
        return value
    }

    static func capabilities(_ names: [String]) throws(ChannelConfigError) -> Common_ConfigValue {
        var capabilities = Common_Capabilities()
        for name in names { capabilities.capabilities[name] = Common_Capability() }
        return try value(capabilities)
    }

    static func policy(type: Common_Policy.PolicyType, _ message: some SwiftProtobuf.Message) throws(ChannelConfigError)
        -> Common_ConfigPolicy
    {
        var policy = Common_ConfigPolicy()
        policy.modPolicy = "Admins"
        policy.policy.type = Int32(type.rawValue)
        do {
            policy.policy.value = try message.encoded()
        } catch {
            throw ChannelConfigError(.badPolicy, "policy does not encode", cause: error)
        }
        return policy
    }

    /// "ANY Readers" → ImplicitMetaPolicy{sub_policy: Readers, rule: ANY}.
    static func implicitMeta(_ rules: [String: String]) throws(ChannelConfigError) -> [String: Common_ConfigPolicy] {
        var result: [String: Common_ConfigPolicy] = [:]
        for (name, text) in rules {
            let parts = text.split(separator: " ")
            guard parts.count == 2 else {
                throw ChannelConfigError(.badPolicy, "implicit meta rule '\(text)' is not '<ANY|ALL|MAJORITY> <name>'")
            }
            var meta = Common_ImplicitMetaPolicy()
            meta.subPolicy = String(parts[1])
            switch parts[0] {
            case "ANY": meta.rule = .any
            case "ALL": meta.rule = .all
            case "MAJORITY": meta.rule = .majority
            default: throw ChannelConfigError(.badPolicy, "implicit meta rule '\(text)' has an unknown rule")
            }
            result[name] = try policy(type: .implicitMeta, meta)
        }
        return result
    }

    static func orgGroup(_ org: Organization) throws(ChannelConfigError) -> Common_ConfigGroup {
        var group = group()
        var mspConfig = Msp_MSPConfig()
        mspConfig.type = 0
        do {
            mspConfig.config = try org.msp.encoded()
        } catch {
            throw ChannelConfigError(.badMSP, "MSP config of \(org.name) does not encode", cause: error)
        }
        group.values["MSP"] = try value(mspConfig)
        for (name, rule) in org.policies {
            group.policies[name] = try policy(type: .signature, PolicyDSL.parse(rule))
        }
        return group
    }
}
