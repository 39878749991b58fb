import ChannelConfig
import Foundation
import MSP
import NetGen
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The genesis block netgen writes, loaded as a channel bundle on the generated MSPs.
@Suite("Genesis block")
struct GenesisTests {
    @Test("the bundle has the profile's orgs, MSP ids, anchor peers, endpoints, capabilities and batching")
    func bundleContents() throws {
        var profile = NetworkProfile(channelID: "netgen-test", organizations: 3, peersPerOrganization: 2)
        profile.peerOrganizations[1].anchorPeers = ["peer1", "peer0"]
        profile.peerOrganizations[2].anchorPeers = []
        profile.ordererOrganization.orderers = (0..<2).map(NetworkProfile.Orderer.numbered)
        profile.ordererOrganization.orderers[1].clusterEndpoint = .init(host: "127.0.0.1", port: 7155)
        profile.batch = NetworkProfile.Batch(
            timeout: "750ms",
            maxMessageCount: 25,
            absoluteMaxBytes: 4 << 20,
            preferredMaxBytes: 1 << 20
        )
        try Fixtures.withNetwork(profile) { directory, manifest in
            let bundle = try Fixtures.bundle(directory, manifest)
            try bundle.checkPeerSupport()
            #expect(bundle.channelID == "netgen-test")
            #expect(bundle.sequence == 0)
            #expect(bundle.channel.hashingAlgorithm == "SHA256")
            #expect(bundle.channel.ordererAddresses.isEmpty)
            #expect(bundle.channel.capabilities.names == ["V3_0"])
            #expect(bundle.application?.capabilities.names == ["V2_5"])
            #expect(bundle.orderer?.capabilities.names == ["V2_0"])
            #expect(bundle.mspManager.mspIDs == ["OrdererMSP", "Org1MSP", "Org2MSP", "Org3MSP"])

            let application = try #require(bundle.application)
            #expect(application.organizations.keys.sorted() == ["Org1MSP", "Org2MSP", "Org3MSP"])
            func anchors(_ name: String) -> [String] {
                (application.organizations[name]?.anchorPeers ?? []).map { "\($0.host):\($0.port)" }
            }
            #expect(anchors("Org1MSP") == ["127.0.0.1:7051"])
            #expect(anchors("Org2MSP") == ["127.0.0.1:8151", "127.0.0.1:8051"])
            #expect(anchors("Org3MSP").isEmpty)
            #expect(
                manifest.peerOrganizations.map(\.anchorPeers) == [
                    ["127.0.0.1:7051"], ["127.0.0.1:8151", "127.0.0.1:8051"], [],
                ]
            )

            let orderer = try #require(bundle.orderer)
            #expect(orderer.organizations["OrdererOrg"]?.mspID == "OrdererMSP")
            #expect(orderer.organizations["OrdererOrg"]?.endpoints == ["127.0.0.1:7050", "127.0.0.1:7150"])
            #expect(bundle.ordererEndpoints.map(\.address) == ["127.0.0.1:7050", "127.0.0.1:7150"])
            let tlsCA = try Certificate(
                pemEncoded: Data(
                    contentsOf: NetworkManifest.url(manifest.ordererOrganization.tlsCACertificate, in: directory)
                )
            )
            #expect(
                bundle.ordererEndpoints.allSatisfy { $0.tlsRootCAs == [tlsCA.der] && $0.organization == "OrdererMSP" }
            )
            #expect(orderer.batchSize.maxMessageCount == 25)
            #expect(orderer.batchSize.absoluteMaxBytes == 4 << 20)
            #expect(orderer.batchSize.preferredMaxBytes == 1 << 20)
            #expect(orderer.batchTimeoutText == "750ms" && orderer.batchTimeout == 0.75)

            // etcdraft: a consenter per node at its cluster endpoint with its TLS server certificate.
            #expect(orderer.consensusType.type == "etcdraft")
            let metadata = try Etcdraft_ConfigMetadata(serializedBytes: orderer.consensusType.metadata)
            #expect(metadata.consenters.map { "\($0.host):\($0.port)" } == ["127.0.0.1:7050", "127.0.0.1:7155"])
            for (consenter, node) in zip(metadata.consenters, manifest.ordererOrganization.orderers) {
                let certificate = try Data(contentsOf: NetworkManifest.url(node.identity.tlsCertificate, in: directory))
                #expect(consenter.serverTlsCert == certificate && consenter.clientTlsCert == certificate)
            }
            #expect(metadata.options.tickInterval == "500ms")
            #expect(metadata.options.electionTick == 10 && metadata.options.heartbeatTick == 1)
            #expect(metadata.options.maxInflightBlocks == 5 && metadata.options.snapshotIntervalSize == 16 << 20)
        }
    }

    @Test("policies are configtxgen's: org rules in Fabric's language, implicit-meta sections, MAJORITY Endorsement")
    func policies() throws {
        try Fixtures.withNetwork { directory, manifest in
            let bundle = try Fixtures.bundle(directory, manifest)
            let root = bundle.config.channelGroup
            let implicit: [(String, String, Common_ImplicitMetaPolicy.Rule, String)] = [
                ("", "Readers", .any, "Readers"), ("", "Writers", .any, "Writers"), ("", "Admins", .majority, "Admins"),
                ("Application", "Readers", .any, "Readers"), ("Application", "Writers", .any, "Writers"),
                ("Application", "Admins", .majority, "Admins"),
                ("Application", "Endorsement", .majority, "Endorsement"),
                ("Application", "LifecycleEndorsement", .majority, "Endorsement"),
                ("Orderer", "Readers", .any, "Readers"), ("Orderer", "Writers", .any, "Writers"),
                ("Orderer", "Admins", .majority, "Admins"), ("Orderer", "BlockValidation", .any, "Writers"),
            ]
            for (section, name, rule, subPolicy) in implicit {
                let group = section.isEmpty ? root : try #require(root.groups[section])
                let policy = try #require(group.policies[name], "\(section)/\(name)")
                #expect(policy.policy.type == Int32(Common_Policy.PolicyType.implicitMeta.rawValue))
                let meta = try Common_ImplicitMetaPolicy(serializedBytes: policy.policy.value)
                #expect(meta.rule == rule && meta.subPolicy == subPolicy, "\(section)/\(name)")
                #expect(policy.modPolicy == "Admins")
            }
            #expect(root.groups["Application"]?.policies.count == 5)
            #expect(root.groups["Orderer"]?.policies.count == 4)
            for org in ["Org1MSP", "Org2MSP"] {
                let rules = [
                    "Readers": "OR('\(org).admin', '\(org).peer', '\(org).client')",
                    "Writers": "OR('\(org).admin', '\(org).client')",
                    "Admins": "OR('\(org).admin')",
                    "Endorsement": "OR('\(org).peer')",
                ]
                let group = try #require(root.groups["Application"]?.groups[org])
                #expect(group.policies.count == rules.count)
                for (name, rule) in rules {
                    let stored = try #require(group.policies[name])
                    #expect(stored.policy.value == (try PolicyDSL.parse(rule).serializedBytes()), "\(org)/\(name)")
                }
            }
            let ordererGroup = try #require(root.groups["Orderer"]?.groups["OrdererOrg"])
            for (name, rule) in [
                "Readers": "OR('OrdererMSP.member')", "Writers": "OR('OrdererMSP.member')",
                "Admins": "OR('OrdererMSP.admin')",
            ] {
                #expect(ordererGroup.policies[name]?.policy.value == (try PolicyDSL.parse(rule).serializedBytes()))
            }
        }
    }

    @Test("the policies evaluate with the generated identities as Fabric would")
    func policyEvaluation() throws {
        try Fixtures.withNetwork { directory, manifest in
            let bundle = try Fixtures.bundle(directory, manifest)
            let message = Data("proposal response".utf8)
            func signed(_ org: NetworkManifest.Organization, _ member: NetworkManifest.Member) throws -> SignedData {
                try Fixtures.signed(message, by: manifest.signingIdentity(of: member, in: org, directory: directory))
            }
            let (org1, org2) = (manifest.peerOrganizations[0], manifest.peerOrganizations[1])
            let peer1 = try signed(org1, org1.peers[0].identity)
            let peer2 = try signed(org2, org2.peers[1].identity)
            let user1 = try signed(org1, org1.users[0])
            let admins = try [signed(org1, org1.admin), signed(org2, org2.admin)]
            let orderer = try signed(manifest.ordererOrganization, manifest.ordererOrganization.orderers[0].identity)
            let policies = bundle.policyManager
            typealias Path = ChannelBundle.PolicyPath

            try policies.evaluate(Path.applicationEndorsement, signedData: [peer1, peer2])
            try policies.evaluate(Path.lifecycleEndorsement, signedData: [peer1, peer2])
            #expect(throws: ChannelConfigError(.policyNotSatisfied, "")) {
                try policies.evaluate(Path.applicationEndorsement, signedData: [peer1])
            }
            #expect(throws: ChannelConfigError(.policyNotSatisfied, "")) {
                try policies.evaluate(Path.applicationEndorsement, signedData: [user1, admins[1]])
            }
            try policies.evaluate(Path.applicationWriters, signedData: [user1])
            #expect(throws: ChannelConfigError(.policyNotSatisfied, "")) {
                try policies.evaluate(Path.applicationWriters, signedData: [peer1])
            }
            try policies.evaluate(Path.applicationReaders, signedData: [peer1])
            try policies.evaluate(Path.applicationAdmins, signedData: admins)
            #expect(throws: ChannelConfigError(.policyNotSatisfied, "")) {
                try policies.evaluate(Path.applicationAdmins, signedData: [admins[0]])
            }
            try policies.evaluate(Path.blockValidation, signedData: [orderer])
            #expect(throws: ChannelConfigError(.policyNotSatisfied, "")) {
                try policies.evaluate(Path.blockValidation, signedData: [peer1])
            }
        }
    }

    @Test("a block signed by the generated orderer verifies on top of the genesis block; a peer's signature does not")
    func ordererSignedBlock() throws {
        try Fixtures.withNetwork { directory, manifest in
            let genesis = try Fixtures.genesis(directory, manifest)
            let bundle = try Fixtures.bundle(directory, manifest)
            let ordererOrg = manifest.ordererOrganization
            let orderer = try manifest.signingIdentity(
                of: ordererOrg.orderers[0].identity,
                in: ordererOrg,
                directory: directory
            )
            let org1 = manifest.peerOrganizations[0]
            let client = try manifest.signingIdentity(of: org1.users[0], in: org1, directory: directory)
            let peer = try manifest.signingIdentity(of: org1.peers[0].identity, in: org1, directory: directory)
            func signer(_ identity: X509SigningIdentity) -> TransactionSigner {
                TransactionSigner(identity: identity.serialized) { try identity.sign($0) }
            }
            let envelope = try TransactionBuilder.endorserTransaction(
                channelID: manifest.channelID,
                chaincode: "basic",
                rwset: Rwset_TxReadWriteSet(),
                creator: signer(client),
                endorsers: [signer(peer)]
            )
            let genesisHash = genesis.header.hash
            var block = BlockBuilder.block(
                number: 1,
                previousHash: genesisHash,
                envelopes: [try envelope.serializedBytes()]
            )
            try BlockBuilder.sign(&block, lastConfig: 0, signer: signer(orderer))
            let verifier = BlockVerifier(bundle: bundle)
            try verifier.verify(block, previous: (0, genesisHash))

            var forged = BlockBuilder.block(
                number: 1,
                previousHash: genesisHash,
                envelopes: [try envelope.serializedBytes()]
            )
            try BlockBuilder.sign(&forged, lastConfig: 0, signer: signer(peer))
            #expect(throws: ChannelConfigError(.badBlockSignature, "")) {
                try verifier.verify(forged, previous: (0, genesisHash))
            }
        }
    }

    @Test("the genesis block is configtxgen's shape: header and data hash agree, one unsigned CONFIG envelope")
    func genesisShape() throws {
        let now = Date(timeIntervalSince1970: 1_750_000_000.75)
        try withTemporaryDirectory(prefix: "netgen-test") { directory in
            let manifest = try NetGen.generate(NetworkProfile(), into: directory, now: now)
            #expect(manifest.genesisBlock == "mychannel.genesis.block")
            let raw = try Data(contentsOf: directory.appendingPathComponent("mychannel.genesis.block"))
            let block = try Common_Block(serializedBytes: raw)
            #expect(block.header.number == 0)
            #expect(block.header.previousHash.isEmpty)
            #expect(block.data.data.count == 1)
            #expect(block.header.dataHash == block.data.hash)
            #expect(block.header.dataHash == Digest.sha256(block.data.data[0]))
            try BlockVerifier.verifyData(block)
            #expect(BlockVerifier.isConfigBlock(block))
            #expect(try BlockVerifier.lastConfigIndex(block) == 0)
            #expect(block.metadata.metadata.count == 5)
            #expect(try block.serializedBytes() == raw)

            let transaction = try TransactionEnvelope(bytes: block.data.data[0])
            #expect(transaction.headerType == .config)
            #expect(transaction.channelHeader.channelID == "mychannel")
            #expect(transaction.channelHeader.version == 1)
            #expect(transaction.channelHeader.timestamp.seconds == 1_750_000_000)
            let signatureHeader = try Common_SignatureHeader(
                serializedBytes: transaction.payload.header.signatureHeader
            )
            #expect(signatureHeader.creator.isEmpty && signatureHeader.nonce.count == 24)
            #expect(transaction.channelHeader.txID == TxID.compute(nonce: signatureHeader.nonce, creator: Data()))
            let envelope = try Common_Envelope(serializedBytes: block.data.data[0])
            #expect(envelope.signature.isEmpty)
            let config = try transaction.payload.unpackConfigEnvelope()
            #expect(config.config.sequence == 0)
            #expect(!config.hasLastUpdate)
        }
    }

    @Test("channel V2_0 and application V2_0 capabilities give an MSP v1.4.3 channel the peer supports")
    func olderCapabilities() throws {
        var profile = NetworkProfile(organizations: 1, peersPerOrganization: 1)
        profile.capabilities = .init(channel: .v2_0, application: .v2_0, orderer: .v2_0)
        profile.policies = .init(endorsement: "ANY Endorsement", lifecycleEndorsement: "ALL Endorsement")
        try Fixtures.withNetwork(profile) { directory, manifest in
            let bundle = try Fixtures.bundle(directory, manifest)
            try bundle.checkPeerSupport()
            #expect(bundle.channel.capabilities.names == ["V2_0"])
            #expect(bundle.channel.capabilities.mspVersion == .v1_4_3)
            #expect(bundle.application?.capabilities.names == ["V2_0"])
            #expect(manifest.mspVersion == .v1_4_3)
            let group = try #require(bundle.config.channelGroup.groups["Application"])
            let endorsement = try Common_ImplicitMetaPolicy(
                serializedBytes: try #require(group.policies["Endorsement"]).policy.value
            )
            #expect(endorsement.rule == .any)
            let lifecycle = try Common_ImplicitMetaPolicy(
                serializedBytes: try #require(group.policies["LifecycleEndorsement"]).policy.value
            )
            #expect(lifecycle.rule == .all)
        }
    }

    @Test(
        "for the conformance shape, the config tree equals configtxgen's once MSPs and consenters are set aside",
        .enabled(if: Conformance.isAvailable, Conformance.missingReason)
    )
    func sameTreeAsConfigtxgen() throws {
        try Fixtures.withNetwork(Fixtures.conformanceShaped()) { directory, manifest in
            let ours = try Fixtures.bundle(directory, manifest).config.channelGroup
            let real = try ChannelBundle(configBlock: Conformance.block(0), mspBuilder: FakeMSP.builder).config
                .channelGroup
            // Keys at every level are the same; values differ only where keys, certificates or Raft ports do.
            func shape(_ group: Common_ConfigGroup, _ path: String = "") -> [String] {
                var keys =
                    group.values.keys.map { "\(path)/value:\($0)" } + group.policies.keys.map { "\(path)/policy:\($0)" }
                for (name, child) in group.groups { keys += shape(child, "\(path)/\(name)") }
                return keys.sorted()
            }
            #expect(shape(ours) == shape(real))
            for key in ["HashingAlgorithm", "BlockDataHashingStructure", "Capabilities"] {
                #expect(ours.values[key] == real.values[key], "\(key)")
            }
            #expect(ours.policies == real.policies)
            let (application, realApplication) = (
                try #require(ours.groups["Application"]), try #require(real.groups["Application"])
            )
            #expect(application.values == realApplication.values)
            #expect(application.policies == realApplication.policies)
            for org in ["Org1MSP", "Org2MSP"] {
                #expect(application.groups[org]?.policies == realApplication.groups[org]?.policies)
            }
            // The MSP configs carry the same fields as configtxgen's, certificates aside.
            func mspShape(_ group: Common_ConfigGroup?) throws -> Msp_FabricMSPConfig {
                let value = try #require(group?.values["MSP"])
                var config = try Msp_FabricMSPConfig(
                    serializedBytes: Msp_MSPConfig(serializedBytes: value.value).config
                )
                config.rootCerts = config.rootCerts.map { _ in Data() }
                config.tlsRootCerts = config.tlsRootCerts.map { _ in Data() }
                for keyPath in [
                    \Msp_FabricNodeOUs.clientOuIdentifier, \.peerOuIdentifier, \.adminOuIdentifier,
                    \.ordererOuIdentifier,
                ] {
                    config.fabricNodeOus[keyPath: keyPath].certificate = Data()
                }
                return config
            }
            for org in ["Org1MSP", "Org2MSP"] {
                #expect(try mspShape(application.groups[org]) == mspShape(realApplication.groups[org]), "\(org)")
            }
            let (orderer, realOrderer) = (try #require(ours.groups["Orderer"]), try #require(real.groups["Orderer"]))
            for key in ["BatchSize", "BatchTimeout", "Capabilities", "ChannelRestrictions"] {
                #expect(orderer.values[key] == realOrderer.values[key], "\(key)")
            }
            #expect(orderer.policies == realOrderer.policies)
            #expect(try mspShape(orderer.groups["OrdererOrg"]) == mspShape(realOrderer.groups["OrdererOrg"]))
            #expect(
                orderer.groups["OrdererOrg"]?.values["Endpoints"]
                    == realOrderer.groups["OrdererOrg"]?.values["Endpoints"]
            )

            // configtxgen stores the consenter certificates as the PEM files' bytes, as we do; options match.
            func raft(_ group: Common_ConfigGroup) throws -> Etcdraft_ConfigMetadata {
                let value = try #require(group.values["ConsensusType"])
                return try Etcdraft_ConfigMetadata(
                    serializedBytes: Orderer_ConsensusType(serializedBytes: value.value).metadata
                )
            }
            let realRaft = try raft(realOrderer)
            let serverCertificate = try Conformance.data(
                "crypto-config/ordererOrganizations/example.com/orderers/orderer.example.com/tls/server.crt"
            )
            #expect(realRaft.consenters.map(\.serverTlsCert) == [serverCertificate])
            #expect(realRaft.consenters.map(\.clientTlsCert) == [serverCertificate])
            let ourRaft = try raft(orderer)
            #expect(ourRaft.options == realRaft.options)
            #expect(ourRaft.consenters.count == 1)
        }
    }
}
