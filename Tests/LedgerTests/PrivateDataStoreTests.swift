import Foundation
import GRDB
import Ledger
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Ports of pvtdatastorage/store_test.go and pvtdatapolicy/btlpolicy_test.go.
@Suite("Private data store and block-to-live")
struct PrivateDataStoreTests {
    typealias B = TestBlocks

    static func store(_ directory: TemporaryDirectory, purgeInterval: UInt64 = 100) throws -> PrivateDataStore {
        try PrivateDataStore(
            database: DatabasePool(path: directory.appending("pvt.sqlite").path),
            purgeInterval: purgeInterval
        )
    }

    static func data(_ tx: UInt64, _ collections: [String: [String: String]]) -> TxPrivateData {
        var set = Rwset_TxPvtReadWriteSet()
        for namespace in collections.keys.sorted() {
            var ns = Rwset_NsPvtReadWriteSet()
            ns.namespace = namespace
            for (collection, value) in collections[namespace]!.sorted(by: { $0.key < $1.key }) {
                var coll = Rwset_CollectionPvtReadWriteSet()
                coll.collectionName = collection
                coll.rwset = B.privateRWSetBytes([B.write("key-\(tx)", value)])
                ns.collectionPvtRwset.append(coll)
            }
            set.nsPvtRwset.append(ns)
        }
        return TxPrivateData(txIndex: tx, writeSet: set)
    }

    static func names(_ data: [TxPrivateData]) -> [String] {
        data.flatMap { tx in
            tx.writeSet.nsPvtRwset.flatMap { ns in
                ns.collectionPvtRwset.map { "\(tx.txIndex):\(ns.namespace)/\($0.collectionName)" }
            }
        }
    }

    @Test func basicCommitAndRetrieval() throws {
        let directory = try TemporaryDirectory("pvt-basic")
        defer { directory.remove() }
        let store = try Self.store(directory)
        #expect(try store.lastCommittedBlock() == nil)
        try store.commit(blockNumber: 0, privateData: [])
        let data = [
            Self.data(2, ["ns-1": ["coll-1": "a", "coll-2": "b"], "ns-2": ["coll-1": "c"]]),
            Self.data(4, ["ns-1": ["coll-1": "d"]]),
        ]
        try store.commit(blockNumber: 1, privateData: data)
        #expect(try store.lastCommittedBlock() == 1)
        #expect(try store.privateData(block: 1) == data)
        #expect(try store.privateData(block: 0).isEmpty)
        #expect(try store.privateData(block: 2).isEmpty)
        let filtered = try store.privateData(block: 1, filter: PrivateDataFilter(["ns-1": ["coll-1"]]))
        #expect(Self.names(filtered) == ["2:ns-1/coll-1", "4:ns-1/coll-1"])
        let wholeNamespace = try store.privateData(block: 1, filter: PrivateDataFilter(["ns-2": []]))
        #expect(Self.names(wholeNamespace) == ["2:ns-2/coll-1"])
        let error = #expect(throws: LedgerError.self) { try store.commit(blockNumber: 3, privateData: []) }
        #expect(error?.code == .privateDataOutOfOrder)
    }

    @Test func missingDataInfo() throws {
        let directory = try TemporaryDirectory("pvt-missing")
        defer { directory.remove() }
        let store = try Self.store(directory)
        try store.commit(blockNumber: 0, privateData: [])
        try store.commit(
            blockNumber: 1,
            privateData: [],
            missing: [
                MissingPrivateData(txIndex: 1, namespace: "ns-1", collection: "coll-1", isEligible: true),
                MissingPrivateData(txIndex: 1, namespace: "ns-1", collection: "coll-2", isEligible: false),
            ]
        )
        try store.commit(
            blockNumber: 2,
            privateData: [],
            missing: [MissingPrivateData(txIndex: 3, namespace: "ns-2", collection: "coll-1", isEligible: true)]
        )
        try store.commit(
            blockNumber: 3,
            privateData: [],
            missing: [MissingPrivateData(txIndex: 0, namespace: "ns-1", collection: "coll-1", isEligible: true)]
        )
        let recent = try store.missingData(mostRecentBlocks: 2)
        #expect(recent.map(\.blockNumber) == [3, 2])
        #expect(
            recent[1].entries == [
                MissingPrivateData(txIndex: 3, namespace: "ns-2", collection: "coll-1", isEligible: true)
            ]
        )
        #expect(try store.missingData(mostRecentBlocks: 10).map(\.blockNumber) == [3, 2, 1])
        #expect(try store.ineligibleMissingData(mostRecentBlocks: 10).map(\.blockNumber) == [1])
        #expect(try store.makeEligible(namespace: "ns-1", collection: "coll-2") == 1)
        #expect(try store.missingData(mostRecentBlocks: 10).first { $0.blockNumber == 1 }?.entries.count == 2)
        // Reconciled data replaces the missing record.
        try store.storeReconciled(blockNumber: 2, privateData: [Self.data(3, ["ns-2": ["coll-1": "x"]])])
        #expect(try store.missingData(mostRecentBlocks: 10).map(\.blockNumber) == [3, 1])
        #expect(Self.names(try store.privateData(block: 2)) == ["3:ns-2/coll-1"])
        // Failed reconciliation moves an entry to the deprioritized list.
        try store.deprioritize(blockNumber: 3, txIndex: 0, namespace: "ns-1", collection: "coll-1")
        #expect(try store.missingData(mostRecentBlocks: 10).map(\.blockNumber) == [1])
        #expect(try store.missingData(mostRecentBlocks: 10, deprioritized: true).map(\.blockNumber) == [3])
    }

    /// Data (and missing records) past their expiring block are not returned, then purged every interval.
    @Test func expiryDataNotIncludedAndPurge() throws {
        let directory = try TemporaryDirectory("pvt-expiry")
        defer { directory.remove() }
        let store = try Self.store(directory, purgeInterval: 2)
        let btl: [String: UInt64] = ["coll-1": 1, "coll-2": 3]  // absent: never expires
        func expiring(_ block: UInt64) -> (String, String) -> UInt64 {
            { _, collection in BlockToLive.expiringBlock(committingBlock: block, blockToLive: btl[collection] ?? 0) }
        }
        try store.commit(blockNumber: 0, privateData: [], expiringBlock: expiring(0))
        try store.commit(
            blockNumber: 1,
            privateData: [Self.data(0, ["ns": ["coll-1": "a", "coll-2": "b", "coll-3": "c"]])],
            missing: [MissingPrivateData(txIndex: 1, namespace: "ns", collection: "coll-1", isEligible: true)],
            expiringBlock: expiring(1)
        )
        #expect(Self.names(try store.privateData(block: 1)) == ["0:ns/coll-1", "0:ns/coll-2", "0:ns/coll-3"])
        try store.commit(blockNumber: 2, privateData: [], expiringBlock: expiring(2))
        #expect(Self.names(try store.privateData(block: 1)) == ["0:ns/coll-1", "0:ns/coll-2", "0:ns/coll-3"])
        #expect(try store.missingData(mostRecentBlocks: 5).count == 1)
        try store.commit(blockNumber: 3, privateData: [], expiringBlock: expiring(3))  // coll-1 expires at 1+1+1
        #expect(Self.names(try store.privateData(block: 1)) == ["0:ns/coll-2", "0:ns/coll-3"])
        #expect(try store.missingData(mostRecentBlocks: 5).isEmpty)
        #expect(try store.hasData(block: 1))
        try store.commit(blockNumber: 4, privateData: [], expiringBlock: expiring(4))  // purge interval
        try store.commit(blockNumber: 5, privateData: [], expiringBlock: expiring(5))  // coll-2 expires at 1+3+1
        #expect(Self.names(try store.privateData(block: 1)) == ["0:ns/coll-3"])
        try store.commit(blockNumber: 6, privateData: [], expiringBlock: expiring(6))
        let remaining = try store.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pvt_data") }
        #expect(remaining == 1)
    }

    @Test func expiringBlock() {
        #expect(BlockToLive.expiringBlock(committingBlock: 15, blockToLive: 3) == 19)
        #expect(BlockToLive.expiringBlock(committingBlock: 15, blockToLive: 0) == UInt64.max)
        #expect(BlockToLive.expiringBlock(committingBlock: UInt64.max - 2, blockToLive: 5) == UInt64.max)
        #expect(BlockToLive.expiringBlock(committingBlock: UInt64.max - 2, blockToLive: 1) == UInt64.max)
        #expect(BlockToLive.expiringBlock(committingBlock: UInt64.max - 3, blockToLive: 1) == UInt64.max - 1)
    }

    struct FakeState: CommittedStateReader {
        var values: [String: Data]
        func state(namespace: String, key: String) throws -> VersionedValue? {
            self.values["\(namespace)|\(key)"].map {
                VersionedValue(value: $0, version: Height(blockNumber: 1, txNumber: 0))
            }
        }
        func hashedState(namespace: String, collection: String, keyHash: Data) throws -> VersionedValue? { nil }
    }

    /// The BTL comes from the chaincode's committed collection configuration (`_lifecycle`, else `lscc`).
    @Test func btlPolicyFromCollectionConfig() throws {
        func package(_ collections: [(String, UInt64)]) throws -> Data {
            var package = Protos_CollectionConfigPackage()
            package.config = collections.map { name, btl in
                var config = Protos_CollectionConfig()
                var staticConfig = Protos_StaticCollectionConfig()
                staticConfig.name = name
                staticConfig.blockToLive = btl
                config.staticCollectionConfig = staticConfig
                return config
            }
            return try package.serializedBytes()
        }
        var stateData = Lifecycle_StateData()
        stateData.bytes = try package([("coll1", 3), ("coll12", 0)])
        let state = FakeState(values: [
            "_lifecycle|namespaces/fields/kv/Collections": try stateData.serializedBytes(),
            "lscc|legacy~collection": try package([("old", 7)]),
        ])
        let policy = CollectionConfigBlockToLivePolicy()
        #expect(try policy.blockToLive(namespace: "kv", collection: "coll1", state: state) == 3)
        #expect(try policy.blockToLive(namespace: "kv", collection: "coll12", state: state) == 0)
        #expect(try policy.blockToLive(namespace: "kv", collection: "unknown", state: state) == 0)
        #expect(try policy.blockToLive(namespace: "legacy", collection: "old", state: state) == 7)
        #expect(try policy.expiringBlock(namespace: "kv", collection: "coll1", committingBlock: 15, state: state) == 19)
    }

    /// Through the ledger: private state of a BTL-2 collection disappears (hashed and cleartext) when block
    /// b+3 commits, unless the key was rewritten; missing data is recorded.
    @Test func ledgerExpiresPrivateState() throws {
        let directory = try TemporaryDirectory("pvt-ledger")
        defer { directory.remove() }
        let policy = FixedBlockToLivePolicy(["cc": ["short": 2]])
        let (_, ledger) = try LedgerFixtures.ledger(
            in: directory,
            configuration: LedgerFixtures.configuration(blockToLive: policy)
        )
        func pvtTx(_ id: String, _ collection: String, _ key: String, _ value: String) -> (Data, TxPrivateData) {
            (
                LedgerFixtures.tx(
                    id,
                    B.namespace("cc", collections: [B.collection(collection, writes: [B.write(key, value)])])
                ),
                TxPrivateData(txIndex: 0, writeSet: B.privateWriteSet("cc", [collection: [B.write(key, value)]]))
            )
        }
        let (t1, p1) = pvtTx("t1", "short", "a", "1")
        try LedgerFixtures.commit(ledger, [t1], privateData: [p1])  // block 1, expires at 4
        let (t2, p2) = pvtTx("t2", "short", "b", "2")
        try LedgerFixtures.commit(ledger, [t2], privateData: [p2])  // block 2, expires at 5
        let (t3, p3) = pvtTx("t3", "short", "b", "3")
        try LedgerFixtures.commit(
            ledger,
            [t3],
            privateData: [p3],
            missing: [MissingPrivateData(txIndex: 0, namespace: "cc", collection: "other", isEligible: true)]
        )  // block 3 rewrites b: expires at 6
        #expect(try ledger.privateState(namespace: "cc", collection: "short", key: "a") != nil)
        // Block 4.
        try LedgerFixtures.commit(ledger, [LedgerFixtures.tx("f4", B.namespace("x", writes: [B.write("k", "v")]))])
        #expect(try ledger.privateState(namespace: "cc", collection: "short", key: "a") == nil)
        #expect(
            try ledger.hashedState(namespace: "cc", collection: "short", keyHash: Digest.sha256(Data("a".utf8))) == nil
        )
        #expect(try ledger.privateData(block: 1).isEmpty)
        // Block 5.
        try LedgerFixtures.commit(ledger, [LedgerFixtures.tx("f5", B.namespace("x", writes: [B.write("k", "v")]))])
        #expect(try ledger.privateState(namespace: "cc", collection: "short", key: "b")?.value == Data("3".utf8))
        // Block 6.
        try LedgerFixtures.commit(ledger, [LedgerFixtures.tx("f6", B.namespace("x", writes: [B.write("k", "v")]))])
        #expect(try ledger.privateState(namespace: "cc", collection: "short", key: "b") == nil)
        #expect(try ledger.missingPrivateData(mostRecentBlocks: 5).map(\.blockNumber) == [3])
    }

    /// App-initiated purge (`is_purge`): the key leaves hashed state and cleartext private state, even on a peer
    /// that lacks the purging transaction's private data.
    @Test func appInitiatedPurgeRemovesPrivateState() throws {
        let directory = try TemporaryDirectory("pvt-purge")
        defer { directory.remove() }
        let (_, ledger) = try LedgerFixtures.ledger(in: directory)
        let writes = [B.write("k", "v"), B.write("other", "w")]
        try LedgerFixtures.commit(
            ledger,
            [LedgerFixtures.tx("w", B.namespace("cc", collections: [B.collection("coll", writes: writes)]))],
            privateData: [TxPrivateData(txIndex: 0, writeSet: B.privateWriteSet("cc", ["coll": writes]))]
        )
        #expect(try ledger.privateState(namespace: "cc", collection: "coll", key: "k") != nil)
        var purge = B.collection("coll", writes: [B.write("k", nil)])
        var hashed = try Kvrwset_HashedRWSet(serializedBytes: purge.hashedRwset)
        hashed.hashedWrites[0].isPurge = true
        purge.hashedRwset = try hashed.serializedBytes()
        try LedgerFixtures.commit(ledger, [LedgerFixtures.tx("p", B.namespace("cc", collections: [purge]))])
        #expect(try ledger.privateState(namespace: "cc", collection: "coll", key: "k") == nil)
        #expect(
            try ledger.hashedState(namespace: "cc", collection: "coll", keyHash: Digest.sha256(Data("k".utf8))) == nil
        )
        #expect(try ledger.privateState(namespace: "cc", collection: "coll", key: "other") != nil)
        // The stored write set of block 1 no longer holds the purged key.
        let stored = try #require(
            try ledger.privateData(block: 1).first?.writeSet.nsPvtRwset.first?.collectionPvtRwset.first
        )
        let kv = try Kvrwset_KVRWSet(serializedBytes: stored.rwset)
        #expect(kv.writes.map(\.key) == ["other"])
    }
}
