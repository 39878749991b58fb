import ChannelConfig
import Foundation
import Gossip
import GossipState
import Ledger
import MetricsTestKit
import Privdata
import SwiftProtobuf
import TestSupport
import Testing
import TransientStore
import Wire

/// The spirit of Fabric's coordinator_test.go and pvtdataprovider_test.go on the conformance channel: real blocks
/// with real endorsements and kv private data, real SQLite ledgers and transient stores, the peers' own keys.
@Suite(
    "Coordinator: StoreBlock on the Fabric v3.1 conformance chain",
    .enabled(if: Conformance.isAvailable, Conformance.missingReason)
)
struct CoordinatorTests {
    struct Peer {
        let ledger: PeerLedger
        let transient: TransientStore
        let collections: CollectionStore
        let coordinator: PrivdataCoordinator
        let clock: InstantGossipClock
    }

    static func peer(
        _ directory: TemporaryDirectory,
        _ identity: (mspID: String, member: String) = Chain.org1Peer,
        reference: String = "peer0.org1",
        fetcher: (any PrivateDataFetcher)?,
        config: PrivdataConfig = .coreYAMLDefaults,
        metrics: PrivdataMetrics? = nil
    ) throws -> Peer {
        let (ledger, transient) = try Chain.stores(directory)
        let collections = try Chain.collections(ledger, localMSPID: identity.mspID)
        let clock = InstantGossipClock()
        let provider = PrivateDataProvider(
            channelID: Chain.channel,
            collections: collections,
            transientStore: transient,
            fetcher: fetcher,
            local: try Chain.local(identity),
            config: config,
            clock: clock,
            metrics: metrics
        )
        let coordinator = PrivdataCoordinator(
            channelID: Chain.channel,
            committer: LedgerPrivdataCommitter(ledger: ledger, validator: try referenceValidator(reference)),
            provider: provider,
            storePvtDataOfInvalidTx: { true }
        )
        return Peer(
            ledger: ledger,
            transient: transient,
            collections: collections,
            coordinator: coordinator,
            clock: clock
        )
    }

    /// Block 15's data comes with the block, block 16's from the transient store, block 17's from a peer; every
    /// block's commit hash is Fabric's, and the ledger holds exactly what peer0.org1 held; the transient store is
    /// purged of the committed transactions.
    @Test("cache, then transient store, then peers; commit hashes and private data equal Fabric's")
    func storeBlockFromEverySource() async throws {
        try await TemporaryDirectory.with("privdata-coord") { directory in
            let data = try Chain.privateData()
            let fetcher = DictionaryFetcher(Chain.fetcherData(data, blocks: 17...17))
            let peer = try Self.peer(directory, fetcher: fetcher)
            // Block 16's data arrived at endorsement time.
            let txIDs16 = try Chain.txIDs(16)
            for tx in data[16] ?? [] {
                var results = Transientstore_TxPvtReadWriteSetWithConfigInfo()
                results.pvtRwset = tx.writeSet
                try peer.coordinator.storePrivateData(txID: txIDs16[Int(tx.txIndex)], data: results, blockHeight: 15)
            }
            #expect(try peer.transient.minimumBlockHeight() == 15)
            for number in 1...29 as ClosedRange<UInt64> {
                let block = try Conformance.block(number)
                let prefetched = number == 15 ? writeSets(data[15] ?? []) : []
                try await peer.coordinator.storeBlock(block, privateData: prefetched)
                #expect(
                    try peer.ledger.block(number: number)?.metadata.metadata[4]
                        == Conformance.block(number, in: "peer0.org1").metadata.metadata[4],
                    "commit hash of block \(number)"
                )
                if number == 17 {
                    for held in 15...17 as ClosedRange<UInt64> {
                        #expect(
                            summary(try peer.ledger.privateData(block: held)) == summary(data[held] ?? []),
                            "private data of block \(held)"
                        )
                    }
                    // Only the `_lifecycle` approvals' implicit-collection data (blocks 3 and 6, which Fabric's
                    // peer had from endorsing them) is missing; no kv data.
                    #expect(try kvMissing(peer.ledger).isEmpty)
                    for (collection, keys) in try Conformance.privateQueries(peer: "peer0.org1", phase: "before_expiry")
                    {
                        for (key, value) in keys {
                            let state = try peer.ledger.privateState(namespace: "kv", collection: collection, key: key)
                            #expect(state.map { String(decoding: $0.value, as: UTF8.self) } ?? "" == value, "\(key)")
                        }
                    }
                }
            }
            // Of the kv blocks only block 17 needed the peers, asked once for the coll1 data of its 10 txs.
            let kvCalls = fetcher.calls.value.filter { $0.contains { $0.namespace == "kv" } }
            #expect(kvCalls.count == 1)
            #expect(kvCalls.first?.count == 10 && kvCalls.first?.allSatisfy { $0.blockSeq == 17 } == true)
            // Committing block 16 purged its tx ids from the transient store (on the purge queue).
            await peer.coordinator.purgesDone()
            #expect(throws: TransientStoreError.self) { try peer.transient.minimumBlockHeight() }
            #expect(peer.ledger.height == 30)
        }
    }

    /// Fabric's privdata metrics: every block is timed through validation, listing what is missing, the commit and
    /// the transient-store purge; a block that needed the peers also through the fetch; all under the channel.
    @Test("StoreBlock records Fabric's privdata durations per channel")
    func metrics() async throws {
        try await TemporaryDirectory.with("privdata-metrics") { directory in
            let data = try Chain.privateData()
            let factory = TestMetrics()
            let peer = try Self.peer(
                directory,
                fetcher: DictionaryFetcher(Chain.fetcherData(data, blocks: 17...17)),
                metrics: PrivdataMetrics(channelID: Chain.channel, factory: factory)
            )
            let txIDs16 = try Chain.txIDs(16)
            for tx in data[16] ?? [] {
                var results = Transientstore_TxPvtReadWriteSetWithConfigInfo()
                results.pvtRwset = tx.writeSet
                try peer.coordinator.storePrivateData(txID: txIDs16[Int(tx.txIndex)], data: results, blockHeight: 15)
            }
            for number in 1...17 as ClosedRange<UInt64> {
                try await peer.coordinator.storeBlock(try Conformance.block(number), privateData: [])
            }
            await peer.coordinator.purgesDone()
            func count(_ name: String) throws -> Int {
                try factory.expectTimer("gossip_privdata_\(name)_duration", [("channel", Chain.channel)]).values.count
            }
            #expect(try count("validation") == 17)
            #expect(try count("list_missing") == 17)
            #expect(try count("commit_block") == 17)
            // Purged by tx id after blocks that committed private data (16 from the transient store, 17 pulled).
            #expect(try count("purge") >= 2)
            // Only blocks whose data was neither with the block nor in the transient store needed the peers (the
            // approvals' implicit-collection data of 3 and 6, kv's of 15 and 17), not all 17.
            #expect(try (2..<17).contains(count("fetch")))
        }
    }

    /// peer0.org2 is not a member of coll1: its data is recorded as ineligible missing, never fetched; coll12 is
    /// committed; the commit hashes are peer0.org2's.
    @Test("ineligible collections are recorded as ineligible missing and not pulled")
    func ineligibleData() async throws {
        try await TemporaryDirectory.with("privdata-coord-org2") { directory in
            let data = try Chain.privateData()
            let fetcher = DictionaryFetcher(Chain.fetcherData(data, blocks: 15...17))
            let peer = try Self.peer(directory, Chain.org2Peer, reference: "peer0.org2", fetcher: fetcher)
            for number in 1...17 as ClosedRange<UInt64> {
                try await peer.coordinator.storeBlock(try Conformance.block(number), privateData: [])
                #expect(
                    try peer.ledger.block(number: number)?.metadata.metadata[4]
                        == Conformance.block(number, in: "peer0.org2").metadata.metadata[4]
                )
            }
            let org2View = try Conformance.privateData(peer: "peer0.org2", phase: "before_expiry")
            for block in 15...17 as ClosedRange<UInt64> {
                let held = try peer.ledger.privateData(block: block)
                #expect(
                    held.allSatisfy { tx in
                        tx.writeSet.nsPvtRwset.allSatisfy { ns in
                            ns.collectionPvtRwset.allSatisfy { $0.collectionName == "coll12" }
                        }
                    }
                )
                var expected: [UInt64: [String]] = [:]
                for (tx, collections) in org2View[block] ?? [:] where !collections.isEmpty {
                    expected[tx] = collections.map { "\($0.namespace)/\($0.collection)/\($0.rwsetSHA256)" }.sorted()
                }
                #expect(summary(held) == expected, "block \(block)")
            }
            let ineligible = try peer.ledger.privateDataStore.ineligibleMissingData(mostRecentBlocks: 10)
                .filter { $0.blockNumber >= 15 }
            #expect(Set(ineligible.map(\.blockNumber)) == [15, 16, 17])
            #expect(ineligible.allSatisfy { $0.entries.allSatisfy { $0.collection == "coll1" && !$0.isEligible } })
            #expect(try kvMissing(peer.ledger).isEmpty)
            #expect(
                fetcher.calls.value.flatMap { $0 }.filter { $0.namespace == "kv" }.allSatisfy {
                    $0.collection == "coll12"
                }
            )
            // The `_lifecycle` approvals: Org1's implicit collection is ineligible for peer0.org2, its own is not.
            let lifecycle = try peer.ledger.privateDataStore.ineligibleMissingData(mostRecentBlocks: 30)
                .flatMap(\.entries).filter { $0.namespace == "_lifecycle" }
            #expect(!lifecycle.isEmpty && lifecycle.allSatisfy { $0.collection == "_implicit_org_Org1MSP" })
        }
    }

    /// Data with a wrong hash (in the block's payload or from a peer) is never committed: the collection becomes
    /// eligible missing; the reconciler later fetches the right data, commits it to the old block and updates
    /// private state where that block's write is still the latest.
    @Test("wrong hashes become reconcile-later; the reconciler commits the right data to old blocks")
    func wrongHashThenReconcile() async throws {
        try await TemporaryDirectory.with("privdata-coord-hash") { directory in
            let data = try Chain.privateData()
            let fetcher = DictionaryFetcher()
            var config = PrivdataConfig.coreYAMLDefaults
            config.pullRetryThreshold = .seconds(3)
            let peer = try Self.peer(directory, fetcher: fetcher, config: config)
            var tampered = data[17] ?? []
            for index in tampered.indices {
                for ns in tampered[index].writeSet.nsPvtRwset.indices {
                    for coll in tampered[index].writeSet.nsPvtRwset[ns].collectionPvtRwset.indices {
                        tampered[index].writeSet.nsPvtRwset[ns].collectionPvtRwset[coll].rwset.append(0x2A)
                    }
                }
            }
            for number in 1...17 as ClosedRange<UInt64> {
                let prefetched: [TxPrivateData] =
                    switch number {
                    case 15, 16: data[number] ?? []
                    case 17: tampered
                    default: []
                    }
                try await peer.coordinator.storeBlock(try Conformance.block(number), privateData: writeSets(prefetched))
            }
            #expect(try peer.ledger.privateData(block: 17).isEmpty)
            let missing = try kvMissing(peer.ledger)
            #expect(missing.map(\.blockNumber) == [17])
            #expect(missing.first?.entries.count == 10)  // block 17 writes coll1 only
            // Nothing was pulled for block 17: data came with it, mismatched, and is reconciled later.
            #expect(fetcher.calls.value.allSatisfy { $0.allSatisfy { $0.namespace != "kv" } })
            // Private state still holds block 15's/16's values: block 17's were not committed.
            #expect(
                try peer.ledger.privateState(namespace: "kv", collection: "coll1", key: "sx_1")?.version.blockNumber
                    == 16
            )

            // The reconciler: a peer now serves block 17's data (one wrong entry stays unreconciled).
            var served = Chain.fetcherData(data, blocks: 17...17)
            let wrongKey = DictionaryFetcher.Key(block: 17, tx: 3, namespace: "kv", collection: "coll1")
            served[wrongKey] = Data("not it".utf8)
            let reconcilerFetcher = DictionaryFetcher(served)
            var reconcile = PrivdataConfig.coreYAMLDefaults
            reconcile.reconcileBatchSize = 1
            reconcile.deprioritizedDataReconcilerInterval = .seconds(600)
            let clock = InstantGossipClock()
            let reconciler = Reconciler(
                ledger: peer.ledger,
                collections: peer.collections,
                fetcher: reconcilerFetcher,
                config: reconcile,
                clock: clock
            )
            let count = try await reconciler.reconcile()
            #expect(count == 9)
            var expected = summary(data[17] ?? [])
            expected.removeValue(forKey: 3)
            #expect(summary(try peer.ledger.privateData(block: 17)) == expected)
            // The wrong one is deprioritized, so the eligible (prioritized) list is empty now.
            #expect(try peer.ledger.missingPrivateData(mostRecentBlocks: 10).isEmpty)
            #expect(
                try peer.ledger.privateDataStore.missingData(mostRecentBlocks: 10, deprioritized: true)
                    .filter { $0.blockNumber == 17 }
                    .flatMap(\.entries) == [
                        MissingPrivateData(txIndex: 3, namespace: "kv", collection: "coll1", isEligible: true)
                    ]
            )
            // Private state: block 17's coll1 writes are the latest, so the reconciled values are applied.
            let queries = try Conformance.privateQueries(peer: "peer0.org1", phase: "before_expiry")
            for (key, value) in queries["coll1"] ?? [:] where key != "sx_3" {
                let state = try peer.ledger.privateState(namespace: "kv", collection: "coll1", key: key)
                #expect(state.map { String(decoding: $0.value, as: UTF8.self) } ?? "" == value, "\(key)")
                #expect(state?.version.blockNumber == 17, "\(key)")
            }
            #expect(
                try peer.ledger.privateState(namespace: "kv", collection: "coll1", key: "sx_3")?.version.blockNumber
                    == 16
            )

            // The deprioritized entry is retried once per deprioritizedDataReconcilerInterval: not before it ends,
            // even with the right data on offer now, and once it has, the entry is reconciled and leaves the list.
            let right = try #require(Chain.fetcherData(data, blocks: 17...17)[wrongKey])
            reconcilerFetcher.data.withLock { $0[wrongKey] = right }
            try await clock.sleep(for: .seconds(599))
            #expect(try await reconciler.reconcile() == 0)
            func deprioritized17() throws -> [MissingPrivateData] {
                try peer.ledger.missingPrivateData(mostRecentBlocks: 20, deprioritized: true)
                    .filter { $0.blockNumber == 17 }.flatMap(\.entries)
            }
            #expect(try deprioritized17().count == 1)
            try await clock.sleep(for: .seconds(1))
            #expect(try await reconciler.reconcile() == 1)
            #expect(summary(try peer.ledger.privateData(block: 17)) == summary(data[17] ?? []))
            #expect(try deprioritized17().isEmpty)
            #expect(try peer.ledger.missingPrivateData(mostRecentBlocks: 10).isEmpty)
            // Applied to private state too: block 17's write of sx_3 is still the latest.
            #expect(
                try peer.ledger.privateState(namespace: "kv", collection: "coll1", key: "sx_3")?.version.blockNumber
                    == 17
            )
        }
    }

    /// Fabric's TestReconciliationHappyPathWithScheduler: the reconciler's own loop finds the missing data of
    /// block 15 and commits it; disabled, it returns at once.
    @Test("the reconciler's scheduled loop reconciles; a disabled reconciler does nothing")
    func scheduledReconciliation() async throws {
        try await TemporaryDirectory.with("privdata-reconcile-loop") { directory in
            let data = try Chain.privateData()
            let peer = try Self.peer(directory, fetcher: nil, config: PrivdataConfig())
            for number in 1...15 as ClosedRange<UInt64> {
                try await peer.coordinator.storeBlock(try Conformance.block(number), privateData: [])
            }
            #expect(try kvMissing(peer.ledger).first?.entries.count == 15)
            let fetcher = DictionaryFetcher(Chain.fetcherData(data, blocks: 15...15))
            let disabled = Reconciler(
                ledger: peer.ledger,
                collections: peer.collections,
                fetcher: fetcher,
                config: PrivdataConfig(),
                clock: InstantGossipClock()
            )
            await disabled.run()
            #expect(fetcher.calls.value.isEmpty)

            var config = PrivdataConfig.coreYAMLDefaults
            config.reconcileSleepInterval = .seconds(60)
            let reconciler = Reconciler(
                ledger: peer.ledger,
                collections: peer.collections,
                fetcher: fetcher,
                config: config,
                clock: InstantGossipClock()
            )
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await reconciler.run() }
                let deadline = ContinuousClock.now.advanced(by: .seconds(60))
                while ContinuousClock.now < deadline, try !kvMissing(peer.ledger).isEmpty {
                    try await Task.sleep(for: .milliseconds(5))
                }
                group.cancelAll()
            }
            #expect(try kvMissing(peer.ledger).isEmpty)
            #expect(summary(try peer.ledger.privateData(block: 15)) == summary(data[15] ?? []))
        }
    }

    /// With nothing anywhere, the coordinator asks peers until pullRetryThreshold (1 s apart on an instant
    /// clock), then commits with the data recorded as eligible missing.
    @Test("pulls are retried until pullRetryThreshold, then the block commits without the data")
    func retriesUntilThreshold() async throws {
        try await TemporaryDirectory.with("privdata-coord-retry") { directory in
            let fetcher = DictionaryFetcher()
            var config = PrivdataConfig.coreYAMLDefaults
            config.pullRetryThreshold = .seconds(5)
            let peer = try Self.peer(directory, fetcher: fetcher, config: config)
            for number in 1...15 as ClosedRange<UInt64> {
                try await peer.coordinator.storeBlock(try Conformance.block(number), privateData: [])
            }
            // Blocks 3 and 6 (the `_lifecycle` approvals' implicit collection) and block 15: five attempts each.
            #expect(fetcher.calls.value.filter { $0.contains { $0.blockSeq == 15 } }.count == 5)
            #expect(peer.clock.sleeps == 15)
            let missing = try kvMissing(peer.ledger)
            #expect(missing.map(\.blockNumber) == [15])
            #expect(missing.first?.entries.count == 15)  // 10 × coll12 + 5 × coll1 (even txs)
        }
    }

    /// pullRetryThreshold 0 (the code fallback) never pulls.
    @Test("a zero pullRetryThreshold never pulls")
    func noPullWithZeroThreshold() async throws {
        try await TemporaryDirectory.with("privdata-coord-nopull") { directory in
            let fetcher = DictionaryFetcher(Chain.fetcherData(try Chain.privateData(), blocks: 15...15))
            let peer = try Self.peer(directory, fetcher: fetcher, config: PrivdataConfig())
            for number in 1...15 as ClosedRange<UInt64> {
                try await peer.coordinator.storeBlock(try Conformance.block(number), privateData: [])
            }
            #expect(fetcher.calls.value.isEmpty)
            #expect(try kvMissing(peer.ledger).first?.entries.count == 15)
        }
    }

    /// The reference codes with block 15's first transaction marked invalid (ENDORSEMENT_POLICY_FAILURE).
    struct InvalidFirstTx: TransactionValidator {
        let reference: ReferenceFilterValidator

        func validate(_ block: Common_Block, context: any ValidationContext) async throws -> [Protos_TxValidationCode] {
            var codes = try await self.reference.validate(block, context: context)
            if block.header.number == 15, !codes.isEmpty { codes[0] = .endorsementPolicyFailure }
            return codes
        }
    }

    /// Fabric's TestSkipPullingAllInvalidTransactions and the StorePvtDataOfInvalidTx capability: without it the
    /// private data of invalid transactions is neither fetched nor recorded; with it and
    /// skipPullingInvalidTransactionsDuringCommit it is recorded as missing but not pulled.
    @Test(
        "invalid transactions: skipped without StorePvtDataOfInvalidTx, not pulled when configured so",
        arguments: [
            false, true,
        ]
    )
    func invalidTransactions(storeInvalid: Bool) async throws {
        try await TemporaryDirectory.with("privdata-coord-invalid-tx") { directory in
            let (ledger, transient) = try Chain.stores(directory)
            let collections = try Chain.collections(ledger, localMSPID: "Org1MSP")
            let fetcher = DictionaryFetcher()
            var config = PrivdataConfig.coreYAMLDefaults
            config.pullRetryThreshold = .seconds(1)
            config.skipPullingInvalidTransactionsDuringCommit = true
            let coordinator = PrivdataCoordinator(
                channelID: Chain.channel,
                committer: LedgerPrivdataCommitter(
                    ledger: ledger,
                    validator: InvalidFirstTx(reference: try referenceValidator("peer0.org1"))
                ),
                provider: PrivateDataProvider(
                    channelID: Chain.channel,
                    collections: collections,
                    transientStore: transient,
                    fetcher: fetcher,
                    local: try Chain.local(Chain.org1Peer),
                    config: config,
                    clock: InstantGossipClock()
                ),
                storePvtDataOfInvalidTx: { storeInvalid }
            )
            for number in 1...15 as ClosedRange<UInt64> {
                try await coordinator.storeBlock(try Conformance.block(number), privateData: [])
            }
            let pulled = fetcher.calls.value.flatMap { $0 }.filter { $0.blockSeq == 15 }
            #expect(!pulled.isEmpty && pulled.allSatisfy { $0.seqInBlock != 0 })
            let tx0 = try kvMissing(ledger).flatMap(\.entries).filter { $0.txIndex == 0 }
            #expect(tx0.count == (storeInvalid ? 2 : 0))  // coll12 and coll1 of tx 0
            #expect(try ledger.validationCode(txID: try Chain.txIDs(15)[0]) == .endorsementPolicyFailure)
        }
    }

    /// Fabric's TestCoordinatorStoreInvalidBlock: no data, or a validator whose codes do not match the
    /// transactions, fails the block and commits nothing.
    @Test("invalid blocks are refused and nothing is committed")
    func invalidBlocks() async throws {
        try await TemporaryDirectory.with("privdata-coord-invalid") { directory in
            let peer = try Self.peer(directory, fetcher: nil)
            var noData = try Conformance.block(1)
            noData.clearData()
            await #expect(throws: PrivdataError.self) { try await peer.coordinator.storeBlock(noData, privateData: []) }

            struct ShortFilter: TransactionValidator {
                func validate(
                    _ block: Common_Block,
                    context: any ValidationContext
                ) async throws -> [Protos_TxValidationCode] {
                    Array(repeating: .valid, count: max(0, block.data.data.count - 1))
                }
            }
            let (ledger, transient) = (peer.ledger, peer.transient)
            let coordinator = PrivdataCoordinator(
                channelID: Chain.channel,
                committer: LedgerPrivdataCommitter(ledger: ledger, validator: ShortFilter()),
                provider: PrivateDataProvider(
                    channelID: Chain.channel,
                    collections: peer.collections,
                    transientStore: transient,
                    fetcher: nil,
                    local: try Chain.local(Chain.org1Peer),
                    config: PrivdataConfig()
                ),
                storePvtDataOfInvalidTx: { true }
            )
            do {
                try await coordinator.storeBlock(try Conformance.block(1), privateData: [])
                Issue.record("a short TRANSACTIONS_FILTER was accepted")
            } catch let error as PrivdataError {
                #expect(error.code == .invalidBlock)
                #expect(error.message.contains("block 1"))
            }
            #expect(ledger.height == 1)
        }
    }

    /// The state-transfer server side: a requester gets only the collections it is eligible for.
    @Test("state transfer serves each requester only the collections it may see")
    func blockSourceFiltersByEligibility() async throws {
        try await TemporaryDirectory.with("privdata-source") { directory in
            let data = try Chain.privateData()
            let peer = try Self.peer(directory, fetcher: nil)
            for number in 1...15 as ClosedRange<UInt64> {
                try await peer.coordinator.storeBlock(
                    try Conformance.block(number),
                    privateData: number == 15 ? writeSets(data[15] ?? []) : []
                )
            }
            let source = PrivdataBlockSource(ledger: peer.ledger, collections: peer.collections)
            func requester(_ who: (mspID: String, member: String)) throws -> StateRequester {
                let signed = try Chain.signedData(who)
                return StateRequester(
                    connection: ConnectionInfo(
                        pkiID: try PKIID.of(serializedIdentity: signed.identity),
                        identity: signed.identity,
                        endpoint: "127.0.0.1:7051",
                        auth: AuthInfo(signedData: signed.data, signature: signed.signature)
                    )
                )
            }
            let org1 = try #require(try await source.block(number: 15, for: requester(Chain.org1Peer)))
            let org2 = try #require(try await source.block(number: 15, for: requester(Chain.org2Peer)))
            func collections(_ served: ServedBlock) -> Set<String> {
                Set(
                    served.privateData.flatMap {
                        $0.writeSet.nsPvtRwset.flatMap { $0.collectionPvtRwset.map(\.collectionName) }
                    }
                )
            }
            #expect(collections(org1) == ["coll1", "coll12"])
            #expect(collections(org2) == ["coll12"])
            #expect(try Common_Block(serializedBytes: org2.block).header == Conformance.block(15).header)
            // A forged signature is eligible for nothing.
            var forged = try requester(Chain.org1Peer)
            forged.signature = Data(forged.signature.reversed())
            #expect(try await source.block(number: 15, for: forged)?.privateData.isEmpty == true)
            #expect(try await source.block(number: 99, for: requester(Chain.org1Peer)) == nil)
        }
    }
}

/// The eligible missing records of the `kv` chaincode (the `_lifecycle` approvals of blocks 3 and 6 also wrote
/// Org1's implicit collection, whose data only the approving peer had).
func kvMissing(_ ledger: PeerLedger) throws -> [MissingBlock] {
    try ledger.missingPrivateData(mostRecentBlocks: 30).compactMap { block in
        let entries = block.entries.filter { $0.namespace == "kv" }
        return entries.isEmpty ? nil : MissingBlock(blockNumber: block.blockNumber, entries: entries)
    }
}

struct MissingBlock: Equatable {
    var blockNumber: UInt64
    var entries: [MissingPrivateData]
}
