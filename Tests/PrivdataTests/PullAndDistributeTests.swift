import ChannelConfig
import Foundation
import Gossip
import GossipState
import Ledger
import MSP
import Privdata
import SwiftProtobuf
import Synchronization
import TestSupport
import Testing
import TransientStore
import Wire

/// The channel's Readers policy over the requester's handshake (what Fabric's `VerifyByChannel` checks for a
/// pushed PrivateDataMessage), on the conformance genesis config.
struct BundleReaders: StateAccessPolicy {
    let bundle: ChannelBundle

    func authorize(_ requester: StateRequester, channel: ChannelID) throws(GossipStateError) {
        do {
            try self.bundle.policyManager.evaluate(
                ChannelBundle.PolicyPath.applicationReaders,
                signedData: [requester.signedDataTriple]
            )
        } catch {
            throw GossipStateError(.accessDenied, "\(requester) is not a reader of \(channel)", cause: error)
        }
    }
}

/// The spirit of Fabric's pull_test.go, dataretriever_test.go and distributor_test.go: pullers and distributors
/// of several peers with the conformance network's real identities, exchanging real wire messages over an
/// in-process gossip fabric; the serving side reads a real ledger (blocks 1…16 with peer0.org1's private data)
/// and a real transient store.
@Suite(
    "Pull, data retrieval and distribution between peers",
    .enabled(if: Conformance.isAvailable, Conformance.missingReason)
)
struct PullAndDistributeTests {
    static let peer1Org1 = (mspID: "Org1MSP", member: "peers/peer1.org1.example.com")
    static let orderer = (mspID: "OrdererMSP", member: "orderers/orderer.example.com")

    /// peer0.org1's ledger with blocks 1…16 and their private data, and its transient store.
    static func server(_ directory: TemporaryDirectory) async throws -> (PeerLedger, TransientStore, CollectionStore) {
        let (ledger, transient) = try Chain.stores(directory)
        let data = try Chain.privateData()
        let validator = try referenceValidator("peer0.org1")
        for number in 1...16 as ClosedRange<UInt64> {
            try await ledger.commit(
                try Conformance.block(number),
                validator: validator,
                privateData: data[number] ?? []
            )
        }
        return (ledger, transient, try Chain.collections(ledger, localMSPID: "Org1MSP"))
    }

    static func gossip(
        _ hub: LocalHub,
        _ who: (mspID: String, member: String),
        _ endpoint: String
    ) throws -> LocalGossip {
        try LocalGossip(
            hub: hub,
            channel: Chain.channel,
            signer: try Chain.signer(who),
            mspID: who.mspID,
            endpoint: endpoint
        )
    }

    /// Serves requests arriving at `gossip` with `puller` until the task is cancelled.
    static func serve(_ messages: AsyncStream<ReceivedMessage>, _ puller: PrivateDataPuller) async {
        for await received in messages {
            if case .privateReq = received.message.message.content { puller.handleRequest(received) }
        }
    }

    static func request(
        _ collections: CollectionStore,
        block: UInt64,
        tx: UInt64,
        collection: String,
        txID: String = "",
        endorsers: [Data] = []
    ) throws -> PrivateDataRequest {
        PrivateDataRequest(
            digest: PrivateDataDigest(
                txID: txID,
                namespace: "kv",
                collection: collection,
                blockSeq: block,
                seqInBlock: tx
            ),
            endorsers: endorsers,
            collection: try collections.collection(namespace: "kv", name: collection)
        )
    }

    @Test("pull from the ledger: members get their collections, non-members nothing, hashes match the block")
    func pullFromLedger() async throws {
        try await TemporaryDirectory.with("privdata-pull") { directory in
            let (ledger, transient, collections) = try await Self.server(directory)
            let hub = LocalHub()
            let serverGossip = try Self.gossip(hub, Chain.org1Peer, "peer0.org1:7051")
            let org1Gossip = try Self.gossip(hub, Self.peer1Org1, "peer1.org1:7051")
            let org2Gossip = try Self.gossip(hub, Chain.org2Peer, "peer0.org2:7051")
            org1Gossip.visible.withLock { $0 = false }
            org2Gossip.visible.withLock { $0 = false }
            let retriever = PrivateDataRetriever(ledger: ledger, transientStore: transient, collections: collections)
            let server = PrivateDataPuller(gossip: serverGossip, retriever: retriever)
            func puller(_ gossip: LocalGossip) -> PrivateDataPuller {
                PrivateDataPuller(
                    gossip: gossip,
                    retriever: retriever,
                    responseTimeout: .seconds(30),
                    membershipPolls: 1,
                    clock: InstantGossipClock()
                )
            }
            let block15 = try Conformance.block(15)
            let hashes = try BlockPrivateDataInfo(
                block: block15,
                validationCodes: Array(repeating: .valid, count: block15.data.data.count)
            ).collections
            let serving = serverGossip.privateMessages()
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await Self.serve(serving, server) }
                let requests = [
                    try Self.request(collections, block: 15, tx: 0, collection: "coll12"),
                    try Self.request(collections, block: 15, tx: 0, collection: "coll1"),
                    try Self.request(collections, block: 15, tx: 1, collection: "coll1"),  // odd tx: no coll1 write
                ]
                let org1 = try await puller(org1Gossip).fetch(requests)
                #expect(Set(org1.elements.keys.map(\.collection)) == ["coll12", "coll1"])
                for (digest, payloads) in org1.elements {
                    let expected = hashes.first {
                        $0.key
                            == PrivateDataKey(
                                txIndex: digest.seqInBlock,
                                namespace: "kv",
                                collection: digest.collection
                            )
                    }?.expectedHash
                    #expect(payloads.map(Digest.sha256) == [try #require(expected)], "\(digest)")
                }
                let org2 = try await puller(org2Gossip).fetch(requests)
                #expect(Set(org2.elements.keys.map(\.collection)) == ["coll12"])
                #expect(org2.purged.isEmpty)
                group.cancelAll()
                serverGossip.finish()
            }
        }
    }

    @Test("pull of an uncommitted block is served from the transient store to peers its configs accept")
    func pullFromTransientStore() async throws {
        try await TemporaryDirectory.with("privdata-pull-transient") { directory in
            let (ledger, transient, collections) = try await Self.server(directory)
            var results = Transientstore_TxPvtReadWriteSetWithConfigInfo()
            results.pvtRwset = TestBlocks.privateWriteSet(
                "kv",
                ["coll1": [TestBlocks.write("sx_new", "fresh")], "coll12": [TestBlocks.write("s12_new", "fresh")]]
            )
            var package = Protos_CollectionConfigPackage()
            for name in ["coll1", "coll12"] {
                var config = Protos_CollectionConfig()
                config.staticCollectionConfig = try collections.staticConfig(namespace: "kv", collection: name)
                package.config.append(config)
            }
            results.collectionConfigs = ["kv": package]
            try transient.persist(txID: "pending-tx", blockHeight: 16, privateSimulationResults: results)
            let hub = LocalHub()
            let serverGossip = try Self.gossip(hub, Chain.org1Peer, "peer0.org1:7051")
            let org1Gossip = try Self.gossip(hub, Self.peer1Org1, "peer1.org1:7051")
            let org2Gossip = try Self.gossip(hub, Chain.org2Peer, "peer0.org2:7051")
            org1Gossip.visible.withLock { $0 = false }
            org2Gossip.visible.withLock { $0 = false }
            let retriever = PrivateDataRetriever(ledger: ledger, transientStore: transient, collections: collections)
            let server = PrivateDataPuller(gossip: serverGossip, retriever: retriever)
            // Directly: digests of block 17 (not committed) with and without a tx id.
            let direct = try retriever.retrieve(
                [
                    PrivateDataDigest(
                        txID: "pending-tx",
                        namespace: "kv",
                        collection: "coll1",
                        blockSeq: 17,
                        seqInBlock: 0
                    ),
                    PrivateDataDigest(txID: "", namespace: "kv", collection: "coll12", blockSeq: 17, seqInBlock: 0),
                ],
                for: try Chain.signedData(Self.peer1Org1)
            )
            #expect(direct.keys.map(\.collection) == ["coll1"])
            let serving = serverGossip.privateMessages()
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await Self.serve(serving, server) }
                let requests = [
                    try Self.request(collections, block: 17, tx: 0, collection: "coll1", txID: "pending-tx"),
                    try Self.request(collections, block: 17, tx: 0, collection: "coll12", txID: "pending-tx"),
                ]
                let org1 = try await PrivateDataPuller(gossip: org1Gossip, retriever: retriever, membershipPolls: 1)
                    .fetch(requests)
                #expect(Set(org1.elements.keys.map(\.collection)) == ["coll1", "coll12"])
                let org2 = try await PrivateDataPuller(gossip: org2Gossip, retriever: retriever, membershipPolls: 1)
                    .fetch(requests)
                #expect(Set(org2.elements.keys.map(\.collection)) == ["coll12"])
                #expect(
                    org2.elements.values.first?.first
                        == TestBlocks.privateRWSetBytes([TestBlocks.write("s12_new", "fresh")])
                )
                group.cancelAll()
                serverGossip.finish()
            }
        }
    }

    @Test("endorsers are asked first; data a candidate has already purged is reported, not pulled")
    func preferEndorsersAndAvoidPurged() async throws {
        try await TemporaryDirectory.with("privdata-pull-prefer") { directory in
            let (ledger, transient, collections) = try await Self.server(directory)
            let hub = LocalHub()
            let serverGossip = try Self.gossip(hub, Chain.org1Peer, "peer0.org1:7051")
            let silentEndorser = try Self.gossip(hub, Chain.org2Peer, "peer0.org2:7051")  // never answers
            let client = try Self.gossip(hub, Self.peer1Org1, "peer1.org1:7051")
            client.visible.withLock { $0 = false }
            serverGossip.height.withLock { $0 = 17 }
            silentEndorser.height.withLock { $0 = 17 }
            let retriever = PrivateDataRetriever(ledger: ledger, transientStore: transient, collections: collections)
            let server = PrivateDataPuller(gossip: serverGossip, retriever: retriever)
            let puller = PrivateDataPuller(
                gossip: client,
                retriever: retriever,
                btlPullMargin: 10,
                responseTimeout: .milliseconds(200),
                membershipPolls: 1
            )
            let serving = serverGossip.privateMessages()
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await Self.serve(serving, server) }
                let request = try Self.request(
                    collections,
                    block: 15,
                    tx: 0,
                    collection: "coll12",
                    endorsers: [silentEndorser.identity]
                )
                let fetched = try await puller.fetch([request])
                // Round 1 went to the endorser (silent), round 2 to the other eligible peer.
                let targets = client.sent.withLock { $0.map(\.to) }
                #expect(targets == [silentEndorser.pkiID, serverGossip.pkiID])
                #expect(fetched.elements[request.digest]?.count == 1)

                // coll1 has BTL 3: a candidate at height 17 (+ margin 10) has purged block 15's data (15 + 3).
                let purgedRequest = try Self.request(collections, block: 15, tx: 0, collection: "coll1")
                let purged = try await puller.fetch([purgedRequest])
                #expect(purged.purged == [purgedRequest.digest])
                #expect(purged.elements.isEmpty)
                group.cancelAll()
                serverGossip.finish()
            }
        }
    }

    /// Peers with a full PrivdataService store pushed data in their transient store and acknowledge.
    @Test("distribution: per-org selection, acks demanded for required peers, receivers store what they get")
    func distribute() async throws {
        try await TemporaryDirectory.with("privdata-distribute") { directory in
            let bundle = try ChannelBundle(configBlock: try Conformance.block(0), mspBuilder: MSPBuilders.x509)
            let manager = try Conformance.mspManager()
            let hub = LocalHub()
            struct Node {
                let gossip: LocalGossip
                let service: PrivdataService
                let transient: TransientStore
            }
            func node(_ who: (mspID: String, member: String), _ name: String) async throws -> Node {
                let (ledger, transient) = try Chain.stores(at: directory.url.appendingPathComponent(name))
                let gossip = try Self.gossip(hub, who, "\(name):7051")
                var config = PrivdataConfig.coreYAMLDefaults
                config.pushAckTimeout = .seconds(30)
                config.reconciliationEnabled = false
                let service = try PrivdataService(
                    channelID: Chain.channel,
                    ledger: ledger,
                    committer: LedgerPrivdataCommitter(ledger: ledger, validator: try referenceValidator("peer0.org1")),
                    transientStore: transient,
                    gossip: gossip,
                    collections: CollectionStore(
                        channelID: Chain.channel,
                        source: StaticCollectionConfigSource([:]),
                        deserializer: { manager },
                        localMSPID: who.mspID
                    ),
                    local: try Chain.local(who),
                    accessPolicy: BundleReaders(bundle: bundle),
                    config: config,
                    storePvtDataOfInvalidTx: { true },
                    clock: InstantGossipClock()
                )
                return Node(gossip: gossip, service: service, transient: transient)
            }
            let sender = try await node(Chain.org1Peer, "p0o1")
            let peer1 = try await node(Self.peer1Org1, "p1o1")
            let org2 = try await node(Chain.org2Peer, "p0o2")
            sender.gossip.visible.withLock { $0 = false }

            func collection(
                _ name: String,
                _ policy: String,
                required: Int32,
                maximum: Int32
            ) throws -> Protos_CollectionConfig {
                var config = Protos_StaticCollectionConfig()
                config.name = name
                config.memberOrgsPolicy.signaturePolicy = try PolicyDSL.parse(policy)
                config.requiredPeerCount = required
                config.maximumPeerCount = maximum
                var wrapped = Protos_CollectionConfig()
                wrapped.staticCollectionConfig = config
                return wrapped
            }
            func results(_ collections: [Protos_CollectionConfig]) -> Transientstore_TxPvtReadWriteSetWithConfigInfo {
                var results = Transientstore_TxPvtReadWriteSetWithConfigInfo()
                var writes: [String: [Kvrwset_KVWrite]] = [:]
                for config in collections { writes[config.staticCollectionConfig.name] = [TestBlocks.write("k", "v")] }
                results.pvtRwset = TestBlocks.privateWriteSet("cc", writes)
                var package = Protos_CollectionConfigPackage()
                package.config = collections
                results.collectionConfigs = ["cc": package]
                return results
            }
            let both = try collection("both", "OR('Org1MSP.member','Org2MSP.member')", required: 1, maximum: 2)
            let org1Only = try collection("org1only", "OR('Org1MSP.member')", required: 0, maximum: 5)

            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await peer1.service.run() }
                group.addTask { await org2.service.run() }
                // The plan: "both" goes to one peer of each org, the first pick demands an ack; "org1only" to
                // peer1.org1 only.
                let plan = try sender.service.distributor.plan(
                    txID: "tx1",
                    data: results([both, org1Only]),
                    blockHeight: 20
                )
                let bothPicks = plan.filter {
                    if case .privateData(let m)? = $0.message.content {
                        m.payload.collectionName == "both"
                    } else {
                        false
                    }
                }
                #expect(Set(bothPicks.map(\.peer.pkiID)) == [peer1.gossip.pkiID, org2.gossip.pkiID])
                #expect(bothPicks.filter(\.demandsAck).count == 1)
                #expect(plan.filter { $0.peer.pkiID == org2.gossip.pkiID }.count == 1 && plan.count == 3)

                try await sender.service.distribute(txID: "tx1", data: results([both, org1Only]), blockHeight: 20)
                // The sender keeps its own copy; the receivers store what was pushed to them (acks came back, so
                // the demanded one is stored; wait for the unacknowledged ones).
                #expect(try sender.transient.privateData(txID: "tx1").count == 1)
                let deadline = ContinuousClock.now.advanced(by: .seconds(30))
                while ContinuousClock.now < deadline,
                    try peer1.transient.privateData(txID: "tx1").count < 2
                        || org2.transient.privateData(txID: "tx1").isEmpty
                {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let atPeer1 = try peer1.transient.privateData(txID: "tx1")
                #expect(
                    Set(
                        atPeer1.flatMap {
                            $0.privateSimulationResults.pvtRwset.nsPvtRwset.flatMap {
                                $0.collectionPvtRwset.map(\.collectionName)
                            }
                        }
                    ) == ["both", "org1only"]
                )
                #expect(atPeer1.allSatisfy { $0.receivedAtBlockHeight == 20 })
                let atOrg2 = try org2.transient.privateData(txID: "tx1")
                #expect(
                    atOrg2.flatMap {
                        $0.privateSimulationResults.pvtRwset.nsPvtRwset.flatMap {
                            $0.collectionPvtRwset.map(\.collectionName)
                        }
                    } == ["both"]
                )
                #expect(atOrg2.first?.privateSimulationResults.collectionConfigs["cc"]?.config.count == 2)

                // Too few eligible peers for the required count.
                let greedy = try collection("greedy", "OR('Org1MSP.member','Org2MSP.member')", required: 3, maximum: 3)
                do {
                    try await sender.service.distributor.distribute(
                        txID: "tx2",
                        data: results([greedy]),
                        blockHeight: 20
                    )
                    Issue.record("distribution with too few peers succeeded")
                } catch let error as PrivdataError {
                    #expect(error.code == .distributionFailed && error.message.contains("at least 3"))
                }
                // A namespace without a config package.
                var noConfig = results([org1Only])
                noConfig.collectionConfigs = [:]
                await #expect(throws: PrivdataError.self) {
                    try await sender.service.distributor.distribute(txID: "tx3", data: noConfig, blockHeight: 20)
                }
                // A push from outside the channel's Readers (the orderer's identity) is refused with an error ack.
                let outsider = try Self.gossip(hub, Self.orderer, "orderer:7050")
                outsider.visible.withLock { $0 = false }
                var push = Gossip_PrivateDataMessage()
                push.payload.namespace = "cc"
                push.payload.collectionName = "org1only"
                push.payload.txID = "tx-outsider"
                push.payload.privateRwset = TestBlocks.privateRWSetBytes([TestBlocks.write("k", "v")])
                let acks = try await outsider.sendWithAck(
                    Gossip_GossipMessage(channel: Chain.channel, tag: .chanOnly, content: .privateData(push)),
                    to: [RemotePeer(endpoint: "p1o1:7051", pkiID: peer1.gossip.pkiID)],
                    minAck: 1,
                    timeout: .seconds(30)
                )
                #expect(acks.successes == 0 && acks.failed[peer1.gossip.pkiID]?.isEmpty == false)
                #expect(try peer1.transient.privateData(txID: "tx-outsider").isEmpty)
                group.cancelAll()
                for node in [peer1, org2] { node.gossip.finish() }
            }
        }
    }

    @Test("a required ack that never comes fails the distribution: Failed disseminating k out of n")
    func missingAck() async throws {
        let manager = try Conformance.mspManager()
        let hub = LocalHub()
        let sender = try Self.gossip(hub, Chain.org1Peer, "p0o1:7051")
        sender.visible.withLock { $0 = false }
        _ = try Self.gossip(hub, Chain.org2Peer, "p0o2:7051")  // eligible, but nobody answers there
        let distributor = PrivateDataDistributor(
            gossip: sender,
            collections: CollectionStore(
                channelID: Chain.channel,
                source: StaticCollectionConfigSource([:]),
                deserializer: { manager },
                localMSPID: "Org1MSP"
            ),
            pushAckTimeout: .milliseconds(100)
        )
        var config = Protos_StaticCollectionConfig()
        config.name = "c"
        config.memberOrgsPolicy.signaturePolicy = try PolicyDSL.parse("OR('Org2MSP.member')")
        config.requiredPeerCount = 1
        config.maximumPeerCount = 1
        var wrapped = Protos_CollectionConfig()
        wrapped.staticCollectionConfig = config
        var results = Transientstore_TxPvtReadWriteSetWithConfigInfo()
        results.pvtRwset = TestBlocks.privateWriteSet("cc", ["c": [TestBlocks.write("k", "v")]])
        var package = Protos_CollectionConfigPackage()
        package.config = [wrapped]
        results.collectionConfigs = ["cc": package]
        do {
            try await distributor.distribute(txID: "tx", data: results, blockHeight: 3)
            Issue.record("distribution without the required ack succeeded")
        } catch {
            #expect(error.code == .distributionFailed)
            #expect(error.message.contains("Failed disseminating 1 out of 1"))
        }
        // maximum_peer_count 0 sends nothing at all.
        config.maximumPeerCount = 0
        config.requiredPeerCount = 0
        wrapped.staticCollectionConfig = config
        package.config = [wrapped]
        results.collectionConfigs = ["cc": package]
        #expect(try distributor.plan(txID: "tx", data: results, blockHeight: 3).isEmpty)
    }
}
