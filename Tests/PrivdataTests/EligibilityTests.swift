import ChannelConfig
import Foundation
import Gossip
import Ledger
import Privdata
import SwiftProtobuf
import TestSupport
import Testing
import TransientStore
import Wire

/// The collection configuration history (Fabric's confighistory) and the ineligible-to-eligible conversion when an
/// organisation joins a collection (collElgNotifier, ProcessCollsEligibilityEnabled, then reconciliation), on the
/// conformance chain as peer0.org2 committed it.
@Suite(
    "Eligibility: configuration history and an organisation joining a collection",
    .enabled(if: Conformance.isAvailable, Conformance.missingReason)
)
struct EligibilityTests {
    /// Commits blocks 1...17 as peer0.org2 (not a member of kv's coll1) through the coordinator; an Org1 peer
    /// serves pulls (Org2 asks only for coll12).
    static func org2Peer(_ directory: TemporaryDirectory) async throws -> CoordinatorTests.Peer {
        let fetcher = DictionaryFetcher(Chain.fetcherData(try Chain.privateData(), blocks: 15...17))
        let peer = try CoordinatorTests.peer(directory, Chain.org2Peer, reference: "peer0.org2", fetcher: fetcher)
        for number in 1...17 as ClosedRange<UInt64> {
            try await peer.coordinator.storeBlock(try Conformance.block(number), privateData: [])
        }
        return peer
    }

    /// The block that committed kv's collections, found through the history.
    static func kvDefinitionBlock(_ ledger: PeerLedger) throws -> UInt64 {
        let blocks = try (1...17 as ClosedRange<UInt64>).filter { number in
            try ledger.collectionConfigUpdates(block: number).contains { $0.namespace == "kv" }
        }
        try #require(blocks.count == 1, "kv's definition is committed once: \(blocks)")
        return blocks[0]
    }

    /// kv's package with coll1's member policy replaced by coll12's (both organisations): Org2 joins coll1.
    static func org2JoinsColl1(_ package: Protos_CollectionConfigPackage) throws -> Protos_CollectionConfigPackage {
        var package = package
        func config(_ name: String) -> Protos_StaticCollectionConfig? {
            for entry in package.config {
                if case .staticCollectionConfig(let collection)? = entry.payload, collection.name == name {
                    return collection
                }
            }
            return nil
        }
        let both = try #require(config("coll12")).memberOrgsPolicy
        package.config = package.config.map { entry in
            guard case .staticCollectionConfig(var collection)? = entry.payload, collection.name == "coll1" else {
                return entry
            }
            collection.memberOrgsPolicy = both
            return .with { $0.staticCollectionConfig = collection }
        }
        return package
    }

    /// Latest configuration given, history from the ledger.
    struct LatestOverride: CollectionConfigSource {
        let ledger: LedgerCollectionConfigSource
        let latest: [String: Protos_CollectionConfigPackage]

        func collectionConfigPackage(namespace: String) throws(PrivdataError) -> Protos_CollectionConfigPackage? {
            if let package = self.latest[namespace] { return package }
            return try self.ledger.collectionConfigPackage(namespace: namespace)
        }

        func collectionConfigPackage(
            namespace: String,
            below blockNumber: UInt64
        ) throws(PrivdataError) -> Protos_CollectionConfigPackage? {
            try self.ledger.collectionConfigPackage(namespace: namespace, below: blockNumber)
        }
    }

    static func store(_ ledger: PeerLedger, _ source: any CollectionConfigSource, local: String) throws
        -> CollectionStore
    {
        let manager = try Conformance.mspManager()
        return CollectionStore(channelID: Chain.channel, source: source, deserializer: { manager }, localMSPID: local)
    }

    static func names(_ package: Protos_CollectionConfigPackage?) -> [String] {
        (package?.config ?? []).compactMap { entry -> String? in
            if case .staticCollectionConfig(let collection)? = entry.payload { return collection.name }
            return nil
        }.sorted()
    }

    /// The history holds kv's package from the block that committed it: nothing below that block, the committed
    /// package (equal to the latest state) above it; it survives reopening the ledger.
    @Test("the collection configuration history records kv's definition at its block")
    func history() async throws {
        try await TemporaryDirectory.with("privdata-history") { directory in
            let peer = try await Self.org2Peer(directory)
            let block = try Self.kvDefinitionBlock(peer.ledger)
            let source = LedgerCollectionConfigSource(ledger: peer.ledger)
            #expect(try peer.ledger.collectionConfig(namespace: "kv", below: block) == nil)
            #expect(try source.collectionConfigPackage(namespace: "kv", below: block) == nil)
            let record = try #require(try peer.ledger.collectionConfig(namespace: "kv", below: 17))
            #expect(record.blockNumber == block)
            let package = try source.collectionConfigPackage(namespace: "kv", below: block + 1)
            #expect(Self.names(package) == ["coll1", "coll12"])
            #expect(package == (try source.collectionConfigPackage(namespace: "kv")))
            #expect(try peer.ledger.hasCollectionConfigHistory(namespace: "kv"))
            #expect(try !peer.ledger.hasCollectionConfigHistory(namespace: "no-such-chaincode"))
            #expect(try peer.ledger.collectionConfigUpdates(block: 16).isEmpty)
            // A collection looked up below the definition block is not found, and says where.
            let collections = try Self.store(peer.ledger, source, local: "Org2MSP")
            #expect(throws: PrivdataError.self) {
                try collections.collection(namespace: "kv", name: "coll1", below: block)
            }
            let coll1 = try collections.collection(namespace: "kv", name: "coll1", below: 17)
            #expect(coll1.isMember(organization: "Org1MSP"))

            // Reopened, the history is still there (it is written in each block's state transaction).
            peer.ledger.close()
            let reopened = try LedgerManager(
                rootDirectory: directory.url.appendingPathComponent("ledger"),
                configuration: Chain.configuration()
            ).openLedger(id: Chain.channel)
            #expect(try reopened.collectionConfig(namespace: "kv", below: 17) == record)
        }
    }

    /// Fabric's puller serves ledger data when the latest configuration or the one in effect at the data's block
    /// accepts the requester: Org1, dropped from coll1 by a later configuration, still gets block 15's coll1 data,
    /// which it was a member for.
    @Test("data served from the ledger follows the configuration in effect at its block")
    func servingByHistory() async throws {
        try await TemporaryDirectory.with("privdata-history-serve") { directory in
            let data = try Chain.privateData()
            let peer = try CoordinatorTests.peer(
                directory,
                fetcher: DictionaryFetcher(Chain.fetcherData(data, blocks: 15...17))
            )
            for number in 1...17 as ClosedRange<UInt64> {
                try await peer.coordinator.storeBlock(try Conformance.block(number), privateData: [])
            }
            let source = LedgerCollectionConfigSource(ledger: peer.ledger)
            let latest = try #require(try source.collectionConfigPackage(namespace: "kv"))
            // Latest: coll1 has coll12's policy with Org1 dropped, i.e. "Org2 only".
            var org2Only = try Self.org2JoinsColl1(latest)
            org2Only.config = org2Only.config.map { entry in
                guard case .staticCollectionConfig(var collection)? = entry.payload, collection.name == "coll1" else {
                    return entry
                }
                var envelope = collection.memberOrgsPolicy.signaturePolicy
                envelope.identities = envelope.identities.filter { principal in
                    let role = try? Common_MSPRole(serializedBytes: principal.principal)
                    return role?.mspIdentifier == "Org2MSP"
                }
                envelope.rule = .with {
                    $0.nOutOf = .with { nOutOf in
                        nOutOf.n = 1
                        nOutOf.rules = [.with { $0.signedBy = 0 }]
                    }
                }
                collection.memberOrgsPolicy.signaturePolicy = envelope
                return .with { $0.staticCollectionConfig = collection }
            }
            let collections = try Self.store(
                peer.ledger,
                LatestOverride(ledger: source, latest: ["kv": org2Only]),
                local: "Org2MSP"
            )
            let retriever = PrivateDataRetriever(
                ledger: peer.ledger,
                transientStore: peer.transient,
                collections: collections
            )
            let digest = PrivateDataDigest(txID: "", namespace: "kv", collection: "coll1", blockSeq: 15, seqInBlock: 0)
            #expect(!collections.accepts(try Chain.signedData(Chain.org1Peer), namespace: "kv", collection: "coll1"))
            let served = try retriever.retrieve([digest], for: try Chain.signedData(Chain.org1Peer))
            let expected = try #require(Chain.fetcherData(data, blocks: 15...15)[
                .init(block: 15, tx: 0, namespace: "kv", collection: "coll1")
            ])
            #expect(served[digest] == [expected])
            // Org2: accepted by the latest configuration.
            #expect(try retriever.retrieve([digest], for: try Chain.signedData(Chain.org2Peer))[digest] == [expected])
        }
    }

    /// Org2 recorded coll1 as ineligible. While it is not a member nothing changes; once a configuration makes it
    /// one, its ineligible coll1 records become eligible (Org1's implicit collection stays ineligible), and the
    /// reconciler fetches and commits the past data, which then equals what Org1's peer holds.
    @Test("an organisation that joins a collection gets the past data by reconciliation")
    func joiningACollection() async throws {
        try await TemporaryDirectory.with("privdata-join") { directory in
            let data = try Chain.privateData()
            let peer = try await Self.org2Peer(directory)
            let local = try Chain.local(Chain.org2Peer)
            func ineligible() throws -> [String] {
                try peer.ledger.privateDataStore.ineligibleCollections().map { "\($0.namespace)/\($0.collection)" }
            }
            #expect(try ineligible().contains("kv/coll1"))
            #expect(try kvMissing(peer.ledger).isEmpty)

            // Still not a member: nothing converts.
            let unchanged = CollectionEligibility(ledger: peer.ledger, collections: peer.collections, local: local)
            #expect(try unchanged.convert() == 0)

            // Org2 joins coll1.
            let source = LedgerCollectionConfigSource(ledger: peer.ledger)
            let joined = try Self.org2JoinsColl1(try #require(try source.collectionConfigPackage(namespace: "kv")))
            let collections = try Self.store(
                peer.ledger,
                LatestOverride(ledger: source, latest: ["kv": joined]),
                local: "Org2MSP"
            )
            let eligibility = CollectionEligibility(ledger: peer.ledger, collections: collections, local: local)
            // Block 16 committed no collection configuration: not checked.
            #expect(eligibility.blockCommitted(16) == 0)
            let ineligibleColl1 = try peer.ledger.privateDataStore.ineligibleMissingData(mostRecentBlocks: 30)
                .flatMap(\.entries).filter { $0.namespace == "kv" && $0.collection == "coll1" }.count
            var writtenColl1 = 0
            for block in 15...17 as ClosedRange<UInt64> {
                for tx in data[block] ?? [] {
                    for ns in tx.writeSet.nsPvtRwset where ns.namespace == "kv" {
                        writtenColl1 += ns.collectionPvtRwset.filter { $0.collectionName == "coll1" }.count
                    }
                }
            }
            #expect(writtenColl1 > 0 && ineligibleColl1 == writtenColl1)
            #expect(try eligibility.convert() == ineligibleColl1)
            #expect(try !ineligible().contains("kv/coll1"))
            #expect(try ineligible().contains { $0.hasPrefix("_lifecycle/_implicit_org_Org1MSP") })
            #expect(try kvMissing(peer.ledger).flatMap(\.entries).count == ineligibleColl1)

            // The reconciler fetches them (an Org1 peer serves its data) and commits them to the old blocks.
            let reconciler = Reconciler(
                ledger: peer.ledger,
                collections: collections,
                fetcher: DictionaryFetcher(Chain.fetcherData(data, blocks: 15...17)),
                config: .coreYAMLDefaults,
                clock: InstantGossipClock()
            )
            #expect(try await reconciler.reconcile() == ineligibleColl1)
            #expect(try kvMissing(peer.ledger).isEmpty)
            for block in 15...17 as ClosedRange<UInt64> {
                #expect(
                    summary(try peer.ledger.privateData(block: block)) == summary(data[block] ?? []),
                    "private data of block \(block)"
                )
            }
        }
    }
}
