import ChannelConfig
import Foundation
import Ledger
import MSP
import Privdata
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The spirit of Fabric's simplecollection_test.go / store_test.go and config_test.go: the collections the
/// conformance channel committed in `_lifecycle` (collections.json), judged with the network's real keys.
@Suite(
    "Collection store and access (conformance collections, real signatures)",
    .enabled(if: Conformance.isAvailable, Conformance.missingReason)
)
struct CollectionStoreTests {
    /// A ledger with the `kv` definition (blocks 1…7) committed.
    static func withDefinitions(_ body: (PeerLedger, CollectionStore) async throws -> Void) async throws {
        try await TemporaryDirectory.with("privdata-collections") { directory in
            let (ledger, _) = try Chain.stores(directory)
            let validator = try referenceValidator("peer0.org1")
            for number in 1...7 as ClosedRange<UInt64> {
                try await ledger.commit(try Conformance.block(number), validator: validator)
            }
            try await body(ledger, try Chain.collections(ledger, localMSPID: "Org1MSP"))
        }
    }

    @Test("collections.json as committed: member orgs, counts, BTL, member-only flags")
    func committedConfig() async throws {
        try await Self.withDefinitions { _, store in
            let coll12 = try store.collection(namespace: "kv", name: "coll12")
            #expect(coll12.memberOrgs == ["Org1MSP", "Org2MSP"])
            #expect(coll12.requiredPeerCount == 0 && coll12.maximumPeerCount == 1)
            #expect(coll12.blockToLive == 0 && coll12.memberOnlyRead && coll12.memberOnlyWrite)
            let coll1 = try store.collection(namespace: "kv", name: "coll1")
            #expect(coll1.memberOrgs == ["Org1MSP"])
            #expect(coll1.requiredPeerCount == 0 && coll1.maximumPeerCount == 0)
            #expect(coll1.blockToLive == 3 && coll1.memberOnlyRead && !coll1.memberOnlyWrite)
        }
    }

    @Test("the access filter takes one real signature: members pass, others and forgeries do not")
    func accessFilter() async throws {
        try await Self.withDefinitions { _, store in
            let org1 = try Chain.signedData(Chain.org1Peer)
            let org2 = try Chain.signedData(Chain.org2Peer)
            let org2User = try Chain.signedData((mspID: "Org2MSP", member: "users/User1@org2.example.com"))
            let coll12 = try store.collection(namespace: "kv", name: "coll12")
            let coll1 = try store.collection(namespace: "kv", name: "coll1")
            #expect(coll12.accepts(org1) && coll12.accepts(org2) && coll12.accepts(org2User))
            #expect(coll1.accepts(org1) && !coll1.accepts(org2) && !coll1.accepts(org2User))
            var forged = org1
            forged.data = Data("something else".utf8)
            #expect(!coll1.accepts(forged))
            // MemberOnlyRead / MemberOnlyWrite at endorsement.
            #expect(!coll1.canRead(org2User) && coll1.canWrite(org2User))
            #expect(coll1.canRead(org1) && coll1.canWrite(org1))
            #expect(!coll12.canRead(forged) && coll12.canRead(org2User))
            // The store's own filter, by name.
            #expect(store.accepts(org1, namespace: "kv", collection: "coll1"))
            #expect(!store.accepts(org2, namespace: "kv", collection: "coll1"))
            #expect(!store.accepts(org1, namespace: "kv", collection: "nosuch"))
            // Self-signed data (32 zero bytes) of peer0.org1.
            let local = try Chain.local(Chain.org1Peer)
            #expect(local.signedData.data == Data(count: 32) && coll1.accepts(local.signedData))
        }
    }

    @Test("unknown namespaces and collections are errors naming both")
    func unknownCollections() async throws {
        try await Self.withDefinitions { _, store in
            do {
                _ = try store.collection(namespace: "kv", name: "nosuch")
                Issue.record("unknown collection found")
            } catch let error as PrivdataError {
                #expect(error.code == .collectionNotFound)
                #expect(error.message.contains("nosuch") && error.message.contains("kv"))
            }
            do {
                _ = try store.collection(namespace: "basic", name: "coll1")
                Issue.record("a collection of a namespace without collections was found")
            } catch let error as PrivdataError {
                #expect(error.code == .collectionNotFound)
                #expect(error.message.contains("basic") && error.message.contains("coll1"))
            }
        }
    }

    @Test("implicit org collections: member of that MSP, own org gets the dissemination policy, BTL 0")
    func implicitCollections() async throws {
        let manager = try Conformance.mspManager()
        let store = CollectionStore(
            channelID: Chain.channel,
            source: StaticCollectionConfigSource([:]),
            deserializer: { manager },
            localMSPID: "Org1MSP",
            implicitPolicy: .init(requiredPeerCount: 1, maxPeerCount: 3)
        )
        let own = try store.collection(namespace: "kv", name: "_implicit_org_Org1MSP")
        let other = try store.collection(namespace: "kv", name: "_implicit_org_Org2MSP")
        #expect(own.memberOrgs == ["Org1MSP"] && other.memberOrgs == ["Org2MSP"])
        #expect(own.requiredPeerCount == 1 && own.maximumPeerCount == 3 && own.blockToLive == 0)
        #expect(other.requiredPeerCount == 0 && other.maximumPeerCount == 0)
        #expect(own.accepts(try Chain.signedData(Chain.org1Peer)))
        #expect(!own.accepts(try Chain.signedData(Chain.org2Peer)))
        #expect(other.accepts(try Chain.signedData(Chain.org2Peer)))
        #expect(throws: PrivdataError.self) { try store.collection(namespace: "kv", name: "_implicit_org_") }
    }

    @Test("a config package given directly; a collection without a member-orgs policy is refused")
    func directPackage() throws {
        let manager = try Conformance.mspManager()
        var good = Protos_StaticCollectionConfig()
        good.name = "c"
        good.memberOrgsPolicy.signaturePolicy = try PolicyDSL.parse("OR('Org2MSP.peer')")
        good.blockToLive = 7
        var bad = Protos_StaticCollectionConfig()
        bad.name = "nopolicy"
        var package = Protos_CollectionConfigPackage()
        for config in [good, bad] {
            var wrapped = Protos_CollectionConfig()
            wrapped.staticCollectionConfig = config
            package.config.append(wrapped)
        }
        let store = CollectionStore(
            channelID: Chain.channel,
            source: StaticCollectionConfigSource(["cc": package]),
            deserializer: { manager },
            localMSPID: "Org1MSP"
        )
        let c = try store.collection(namespace: "cc", name: "c")
        #expect(c.memberOrgs == ["Org2MSP"] && c.blockToLive == 7)
        #expect(c.accepts(try Chain.signedData(Chain.org2Peer)))
        #expect(!c.accepts(try Chain.signedData((mspID: "Org2MSP", member: "users/User1@org2.example.com"))))
        do {
            _ = try store.collection(namespace: "cc", name: "nopolicy")
            Issue.record("a collection without policy compiled")
        } catch {
            #expect(error.code == .badCollectionConfig && error.message.contains("nopolicy"))
        }
    }
}

@Suite("Privdata configuration")
struct ConfigTests {
    @Test("code fallbacks and core.yaml defaults (Fabric's TestGlobalConfigDefaults)")
    func defaults() throws {
        let fallback = PrivdataConfig()
        #expect(fallback.pullRetryThreshold == .zero && fallback.pushAckTimeout == .zero)
        #expect(fallback.transientBlockRetention == 20000 && fallback.btlPullMargin == 10)
        #expect(fallback.reconcileBatchSize == 10 && fallback.reconcileSleepInterval == .seconds(60))
        #expect(!fallback.reconciliationEnabled && !fallback.skipPullingInvalidTransactionsDuringCommit)
        #expect(fallback.implicitCollectionDisseminationPolicy == .init(requiredPeerCount: 0, maxPeerCount: 1))
        let yaml = PrivdataConfig.coreYAMLDefaults
        #expect(yaml.pullRetryThreshold == .seconds(60) && yaml.pushAckTimeout == .seconds(3))
        #expect(yaml.reconciliationEnabled)
        var zero = PrivdataConfig()
        zero.transientBlockRetention = 0
        #expect(try zero.validated().transientBlockRetention == 20000)
        #expect(fallback.deprioritizedDataReconcilerInterval == .seconds(3600))
        zero.deprioritizedDataReconcilerInterval = .zero
        #expect(try zero.validated().deprioritizedDataReconcilerInterval == .seconds(3600))
    }

    @Test("bad dissemination policies are refused (Fabric panics: TestGlobalConfigPanic)")
    func badPolicies() {
        var negative = PrivdataConfig()
        negative.implicitCollectionDisseminationPolicy = .init(requiredPeerCount: -1, maxPeerCount: 1)
        #expect(throws: PrivdataError.self) { try negative.validated() }
        var below = PrivdataConfig()
        below.implicitCollectionDisseminationPolicy = .init(requiredPeerCount: 2, maxPeerCount: 1)
        #expect(throws: PrivdataError.self) { try below.validated() }
    }
}
