import ChannelConfig
import Foundation
import Gossip
import GossipState
import Ledger
import MSP
import NetGen
import Privdata
import SwiftProtobuf
import TestSupport
import Testing
import TransientStore
import Wire

/// Private data between real ``GossipNode``s on gRPC with mutual TLS over 127.0.0.1, with identities made by
/// netgen: an endorser of Org1 distributes to Org2's peer (which stores and acknowledges), and Org2's peer pulls
/// data of a not-yet-committed block back from Org1's transient store, each side judging the other by its real
/// handshake and StateInfo signatures.
@Suite("Private data over real gossip nodes (netgen identities, TLS, 127.0.0.1)")
struct NetworkTests {
    static func gossipConfig() -> GossipConfig {
        var config = GossipConfig().scaled(down: 5)
        config.connTimeout = .seconds(20)
        config.dialTimeout = .seconds(20)
        return config
    }

    static func eventually(_ timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }

    struct Member: Sendable {
        let mspID: String
        let signer: X509SigningIdentity
        let localMSP: X509MSP
        let tls: GRPCGossipTransport.TLS
    }

    @Test("distribute with an ack from the other org, then pull back from the endorser's transient store")
    func distributeAndPull() async throws {
        try await TemporaryDirectory.with("privdata-net") { directory in
            let profile = NetworkProfile(
                channelID: "pvtchannel",
                organizations: 2,
                peersPerOrganization: 1,
                usersPerOrganization: 1
            )
            let netDirectory = directory.url.appendingPathComponent("network")
            let manifest = try NetGen.generate(profile, into: netDirectory)
            let genesis = try Common_Block(
                serializedBytes: Data(contentsOf: NetworkManifest.url(manifest.genesisBlock, in: netDirectory))
            )
            let bundle = try ChannelBundle(configBlock: genesis, mspBuilder: MSPBuilders.x509)
            let registry = ChannelMSPRegistry([bundle])
            let roots = registry.tlsRootCertificates
            let members: [Member] = try manifest.peerOrganizations.map { org in
                let identity = org.peers[0].identity
                return Member(
                    mspID: org.mspID,
                    signer: try manifest.signingIdentity(of: identity, in: org, directory: netDirectory),
                    localMSP: try manifest.msp(of: org, directory: netDirectory),
                    tls: GRPCGossipTransport.TLS(
                        certificateChain: [
                            try Data(contentsOf: NetworkManifest.url(identity.tlsCertificate, in: netDirectory))
                        ],
                        privateKey: try Data(contentsOf: NetworkManifest.url(identity.tlsKey, in: netDirectory)),
                        trustRoots: roots
                    )
                )
            }
            let transports = try members.map { member in
                try GRPCGossipTransport(
                    configuration: .init(
                        listenHost: "127.0.0.1",
                        listenPort: 0,
                        identity: member.signer.serialized,
                        gossip: Self.gossipConfig(),
                        tls: member.tls
                    ),
                    mcs: MSPMessageCryptoService(localMSP: member.localMSP, signer: member.signer, channels: registry)
                )
            }
            // One collection both orgs are members of; one that only Org1 may see.
            var package = Protos_CollectionConfigPackage()
            for (name, policy) in [
                ("shared", "OR('Org1MSP.member','Org2MSP.member')"), ("org1", "OR('Org1MSP.member')"),
            ] {
                var config = Protos_StaticCollectionConfig()
                config.name = name
                config.memberOrgsPolicy.signaturePolicy = try PolicyDSL.parse(policy)
                config.requiredPeerCount = name == "shared" ? 1 : 0
                config.maximumPeerCount = 1
                var wrapped = Protos_CollectionConfig()
                wrapped.staticCollectionConfig = config
                package.config.append(wrapped)
            }
            let channel = bundle.channelID

            try await withThrowingDiscardingTaskGroup { group in
                for transport in transports { group.addTask { try await transport.run() } }
                var ports: [Int] = []
                for transport in transports { ports.append(await transport.listeningPort()) }
                let anchors = members.indices.map {
                    AnchorPeer(host: "127.0.0.1", port: ports[$0], organization: members[$0].mspID)
                }
                var nodes: [GossipNode] = []
                var services: [PrivdataService] = []
                var transientStores: [TransientStore] = []
                for (index, member) in members.enumerated() {
                    var config = Self.gossipConfig()
                    config.internalEndpoint = "127.0.0.1:\(ports[index])"
                    config.externalEndpoint = config.internalEndpoint
                    let mcs = MSPMessageCryptoService(
                        localMSP: member.localMSP,
                        signer: member.signer,
                        channels: registry
                    )
                    let core = try GossipCore(
                        config: config,
                        identity: member.signer.serialized,
                        mcs: mcs,
                        advisor: MSPSecurityAdvisor(localMSP: member.localMSP, channels: registry),
                        now: WallClock().now,
                        seed: UInt64(index + 1)
                    )
                    let node = GossipNode(core: core, transport: transports[index], clock: WallClock())
                    group.addTask { await node.run() }
                    node.joinChannel(
                        JoinChannelMessage(sequence: 1, organizations: members.map(\.mspID), anchorPeers: anchors),
                        channel: channel
                    )
                    node.updateLedgerHeight(1, channel: channel)
                    let manager = try LedgerManager(
                        rootDirectory: directory.url.appendingPathComponent("peer\(index)"),
                        configuration: Chain.configuration()
                    )
                    let ledger = try manager.createLedger(genesisBlock: genesis)
                    let transient = try TransientStoreProvider(
                        directory: directory.url.appendingPathComponent("transient\(index)")
                    ).openStore(ledgerID: channel)
                    var privdata = PrivdataConfig.coreYAMLDefaults
                    privdata.pushAckTimeout = .seconds(30)
                    let signer = member.signer
                    let service = try PrivdataService(
                        channelID: channel,
                        ledger: ledger,
                        committer: LedgerPrivdataCommitter(
                            ledger: ledger,
                            validator: ReferenceFilterValidator(directory: directory.url)
                        ),
                        transientStore: transient,
                        gossip: GossipNodePrivdataAdapter(node: node, channel: channel),
                        collections: CollectionStore(
                            channelID: channel,
                            source: StaticCollectionConfigSource(["cc": package]),
                            deserializer: { bundle.mspManager },
                            localMSPID: member.mspID
                        ),
                        local: try LocalPeerIdentity(mspID: member.mspID, identity: signer.serialized) {
                            try signer.sign($0)
                        },
                        accessPolicy: BundleReaders(bundle: bundle),
                        config: privdata,
                        storePvtDataOfInvalidTx: { true }
                    )
                    group.addTask { await service.run() }
                    nodes.append(node)
                    services.append(service)
                    transientStores.append(transient)
                }
                // Both see each other in the channel with a StateInfo.
                let converged = try await Self.eventually {
                    nodes.allSatisfy { node in
                        let peers = node.peersOfChannel(channel)
                        return peers.count == 1 && peers[0].envelope != nil
                    }
                }
                try #require(converged, "membership did not converge")

                // 1. Org1's endorser distributes "shared" (required 1): Org2's peer stores and acks.
                var results = Transientstore_TxPvtReadWriteSetWithConfigInfo()
                results.pvtRwset = TestBlocks.privateWriteSet(
                    "cc",
                    ["shared": [TestBlocks.write("k", "shared value")], "org1": [TestBlocks.write("k", "org1 value")]]
                )
                results.collectionConfigs = ["cc": package]
                try await services[0].distribute(txID: "net-tx", data: results, blockHeight: 1)
                let atOrg2 = try transientStores[1].privateData(txID: "net-tx")
                #expect(atOrg2.count == 1)
                #expect(
                    atOrg2.first?.privateSimulationResults.pvtRwset.nsPvtRwset.first?.collectionPvtRwset.map(
                        \.collectionName
                    )
                        == ["shared"]
                )

                // 2. Org2's peer pulls both collections of the uncommitted block 1 from Org1: it gets "shared"
                //    only; Org1's transient store refuses "org1" to an Org2 handshake.
                let collections = CollectionStore(
                    channelID: channel,
                    source: StaticCollectionConfigSource(["cc": package]),
                    deserializer: { bundle.mspManager },
                    localMSPID: members[1].mspID
                )
                let requests = try ["shared", "org1"].map { name in
                    PrivateDataRequest(
                        digest: PrivateDataDigest(
                            txID: "net-tx",
                            namespace: "cc",
                            collection: name,
                            blockSeq: 1,
                            seqInBlock: 0
                        ),
                        endorsers: [members[0].signer.serialized],
                        collection: try collections.collection(namespace: "cc", name: name)
                    )
                }
                let fetched = try await services[1].puller.fetch(requests)
                #expect(
                    fetched.elements[requests[0].digest] == [
                        TestBlocks.privateRWSetBytes([TestBlocks.write("k", "shared value")])
                    ]
                )
                #expect(fetched.elements[requests[1].digest] == nil)
                group.cancelAll()
            }
        }
    }
}
