import Foundation
import SwiftProtobuf
import TestSupport
import Testing
import TransientStore
import Wire

/// Ports of core/transientstore/store_test.go and delete_store_test.go.
@Suite("Transient store")
struct TransientStoreTests {
    static func results(
        _ endorsedAt: UInt64,
        _ collections: [String: [String]]
    ) -> Transientstore_TxPvtReadWriteSetWithConfigInfo {
        var set = Rwset_TxPvtReadWriteSet()
        var configs: [String: Protos_CollectionConfigPackage] = [:]
        for namespace in collections.keys.sorted() {
            var ns = Rwset_NsPvtReadWriteSet()
            ns.namespace = namespace
            var package = Protos_CollectionConfigPackage()
            for collection in collections[namespace]! {
                var coll = Rwset_CollectionPvtReadWriteSet()
                coll.collectionName = collection
                coll.rwset = TestBlocks.privateRWSetBytes([TestBlocks.write("k-\(collection)", "v\(endorsedAt)")])
                ns.collectionPvtRwset.append(coll)
                var config = Protos_CollectionConfig()
                var staticConfig = Protos_StaticCollectionConfig()
                staticConfig.name = collection
                config.staticCollectionConfig = staticConfig
                package.config.append(config)
            }
            set.nsPvtRwset.append(ns)
            configs[namespace] = package
        }
        var message = Transientstore_TxPvtReadWriteSetWithConfigInfo()
        message.endorsedAt = endorsedAt
        message.pvtRwset = set
        message.collectionConfigs = configs
        return message
    }

    static let sample: [String: [String]] = ["ns-1": ["coll-1", "coll-2"], "ns-2": ["coll-1", "coll-2"]]

    @Test func persistAndRetrieve() throws {
        let directory = try TemporaryDirectory("ts-basic")
        defer { directory.remove() }
        let provider = try TransientStoreProvider(directory: directory.url)
        let store = provider.openStore(ledgerID: "ch1")
        let first = Self.results(10, Self.sample)
        let second = Self.results(11, Self.sample)
        try store.persist(txID: "tx1", blockHeight: 10, privateSimulationResults: first)
        try store.persist(txID: "tx1", blockHeight: 11, privateSimulationResults: second)
        try store.persist(txID: "tx2", blockHeight: 12, privateSimulationResults: first)
        let entries = try store.privateData(txID: "tx1")
        #expect(entries.map(\.receivedAtBlockHeight) == [10, 11])
        #expect(entries.map(\.privateSimulationResults) == [first, second])
        #expect(try store.privateData(txID: "none").isEmpty)
        // Stores are per channel.
        #expect(try provider.openStore(ledgerID: "ch2").privateData(txID: "tx1").isEmpty)
    }

    @Test func legacyAndNewFormatsBothRead() throws {
        let directory = try TemporaryDirectory("ts-legacy")
        defer { directory.remove() }
        let store = try TransientStoreProvider(directory: directory.url).openStore(ledgerID: "ch")
        let new = Self.results(5, Self.sample)
        try store.persist(txID: "tx", blockHeight: 5, privateSimulationResults: new)
        try store.persistLegacy(txID: "tx", blockHeight: 6, privateWriteSet: new.pvtRwset)
        let entries = try store.privateData(txID: "tx")
        #expect(entries.count == 2)
        #expect(entries[0].privateSimulationResults == new)
        #expect(entries[1].privateSimulationResults.pvtRwset == new.pvtRwset)
        #expect(entries[1].privateSimulationResults.collectionConfigs.isEmpty)
    }

    @Test func retrievalWithFilter() throws {
        let directory = try TemporaryDirectory("ts-filter")
        defer { directory.remove() }
        let store = try TransientStoreProvider(directory: directory.url).openStore(ledgerID: "ch")
        try store.persist(txID: "tx", blockHeight: 1, privateSimulationResults: Self.results(1, Self.sample))
        let filter = TransientFilter(["ns-1": ["coll-1"], "ns-2": ["coll-2"]])
        let trimmed = try #require(try store.privateData(txID: "tx", filter: filter).first).privateSimulationResults
        let expected = Self.results(1, ["ns-1": ["coll-1"], "ns-2": ["coll-2"]])
        #expect(trimmed == expected)
        let nothing = try #require(try store.privateData(txID: "tx", filter: TransientFilter(["ns-9": ["x"]])).first)
        #expect(!nothing.privateSimulationResults.hasPvtRwset)
        #expect(nothing.privateSimulationResults.collectionConfigs.isEmpty)
    }

    @Test func purgeByTxIDs() throws {
        let directory = try TemporaryDirectory("ts-purge-ids")
        defer { directory.remove() }
        let store = try TransientStoreProvider(directory: directory.url).openStore(ledgerID: "ch")
        for (index, txID) in ["tx1", "tx2", "tx3", "tx1"].enumerated() {
            try store.persist(
                txID: txID,
                blockHeight: UInt64(10 + index),
                privateSimulationResults: Self.results(1, Self.sample)
            )
        }
        try store.purge(txIDs: ["tx1", "tx3", "unknown"])
        #expect(try store.privateData(txID: "tx1").isEmpty)
        #expect(try store.privateData(txID: "tx3").isEmpty)
        #expect(try store.privateData(txID: "tx2").count == 1)
        #expect(try store.minimumBlockHeight() == 11)
    }

    @Test func purgeBelowHeightAndMinimum() throws {
        let directory = try TemporaryDirectory("ts-purge-height")
        defer { directory.remove() }
        let store = try TransientStoreProvider(directory: directory.url).openStore(ledgerID: "ch")
        let error = #expect(throws: TransientStoreError.self) { try store.minimumBlockHeight() }
        #expect(error?.code == .noEntries)
        for height in [10, 11, 12, 13, 14] as [UInt64] {
            try store.persist(
                txID: "tx\(height)",
                blockHeight: height,
                privateSimulationResults: Self.results(height, Self.sample)
            )
        }
        #expect(try store.minimumBlockHeight() == 10)
        try store.purge(belowHeight: 13)
        #expect(try store.privateData(txID: "tx12").isEmpty)
        #expect(try store.privateData(txID: "tx13").count == 1)
        #expect(try store.minimumBlockHeight() == 13)
        try store.purge(belowHeight: 100)
        #expect(throws: TransientStoreError.self) { try store.minimumBlockHeight() }
    }

    @Test func markForDeletionAndOnlyOneProvider() throws {
        let directory = try TemporaryDirectory("ts-delete")
        defer { directory.remove() }
        do {
            let provider = try TransientStoreProvider(directory: directory.url)
            let error = #expect(throws: TransientStoreError.self) {
                try TransientStoreProvider(directory: directory.url)
            }
            #expect(error?.code == .locked)
            try provider.openStore(ledgerID: "gone").persist(
                txID: "t",
                blockHeight: 1,
                privateSimulationResults: Self.results(1, Self.sample)
            )
            try provider.openStore(ledgerID: "kept").persist(
                txID: "t",
                blockHeight: 1,
                privateSimulationResults: Self.results(1, Self.sample)
            )
            try provider.markStoreForDeletion(ledgerID: "gone")
            #expect(try provider.pendingDeletions().isEmpty)
            #expect(try provider.openStore(ledgerID: "gone").privateData(txID: "t").isEmpty)
        }
        let provider = try TransientStoreProvider(directory: directory.url)
        #expect(try provider.openStore(ledgerID: "kept").privateData(txID: "t").count == 1)
    }
}
