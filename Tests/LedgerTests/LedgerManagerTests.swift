import Foundation
import GRDB
import Ledger
import TestSupport
import Testing
import Wire

@Suite("Ledger manager, recovery and corrupt input")
struct LedgerManagerTests {
    typealias B = TestBlocks

    @Test func createListOpenAndRefuseDuplicates() throws {
        let directory = try TemporaryDirectory("mgr")
        defer { directory.remove() }
        let genesis = B.genesis()
        do {
            let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
            #expect(try manager.ledgerIDs().isEmpty)
            let ledger = try manager.createLedger(genesisBlock: genesis)
            #expect(ledger.ledgerID == B.channel)
            #expect(ledger.height == 1)
            #expect(try ledger.block(number: 0)?.metadata.metadata[2] == Data([0]))
            #expect(try ledger.channelConfigEnvelope() != nil)
            let error = #expect(throws: LedgerError.self) { try manager.createLedger(genesisBlock: genesis) }
            #expect(error?.code == .ledgerExists)
            #expect(try manager.openLedger(id: B.channel) === ledger)
            let missing = #expect(throws: LedgerError.self) { try manager.openLedger(id: "nosuch") }
            #expect(missing?.code == .ledgerNotFound)
            let bad = #expect(throws: LedgerError.self) { try manager.openLedger(id: "../escape") }
            #expect(bad?.code == .invalidArgument)
            // A second manager (process) on the same root is refused while this one holds it.
            #expect(throws: LedgerError.self) { try LedgerManager(rootDirectory: directory.url) }
            for block in B.chain(after: genesis, count: 3) {
                try ledger.commit(block, validationCodes: Array(repeating: .valid, count: block.data.data.count))
            }
            manager.close()
            let closed = #expect(throws: LedgerError.self) { try manager.openLedger(id: B.channel) }
            #expect(closed?.code == .closed)
        }
        let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
        #expect(try manager.ledgerIDs() == [B.channel])
        let ledger = try manager.openLedger(id: B.channel)
        #expect(ledger.height == 4)
        #expect(throws: LedgerError.self) { try manager.createLedger(genesisBlock: genesis) }
    }

    /// Clean ledger vs. a ledger whose last block reached the block files but not the state (a crash between
    /// steps 2 and 3 of the commit): reopening replays it to the same state, index and commit hash.
    @Test func recoveryReplaysBlocksAboveTheSavepoint() throws {
        let clean = try TemporaryDirectory("rec-clean")
        let crashed = try TemporaryDirectory("rec-crashed")
        defer {
            clean.remove()
            crashed.remove()
        }
        let genesis = B.genesis()
        let blocks =
            B.chain(after: genesis, count: 4) + [
                B.block(
                    5,
                    previous: nil,
                    [
                        LedgerFixtures.tx(
                            "pv",
                            B.namespace("cc", collections: [B.collection("coll", writes: [B.write("secret", "s")])])
                        )
                    ]
                )
            ]
        let privateData = [
            TxPrivateData(txIndex: 0, writeSet: B.privateWriteSet("cc", ["coll": [B.write("secret", "s")]]))
        ]
        var storedBlocks: [Common_Block] = []
        let cleanFingerprint: Data
        do {
            let (_, ledger) = try LedgerFixtures.ledger(in: clean)
            for var block in blocks {
                if block.header.number == 5 {
                    block.header.previousHash = storedBlocks.last!.header.hash
                }
                let committed = try ledger.commit(
                    block,
                    validationCodes: Array(repeating: .valid, count: block.data.data.count),
                    privateData: block.header.number == 5 ? privateData : []
                )
                storedBlocks.append(committed.block)
            }
            cleanFingerprint = try ledger.stateFingerprint()
        }
        do {
            let (manager, ledger) = try LedgerFixtures.ledger(in: crashed)
            for block in storedBlocks.prefix(3) {
                try ledger.commit(block, validationCodes: Array(repeating: .valid, count: block.data.data.count))
            }
            // Block 4 appended, state not committed.
            _ = try ledger.blockStore.appendRecord(storedBlocks[3])
            manager.close()
        }
        do {
            let manager = try LedgerManager(rootDirectory: crashed.url, configuration: LedgerFixtures.configuration())
            let ledger = try manager.openLedger(id: B.channel)
            #expect(ledger.height == 5)
            #expect(try ledger.transactionEntries(txID: "tx-4-1").count == 1)
            // Block 5: private data staged, then the block appended, then the crash.
            try ledger.database.write { db in
                try PrivateDataStore.stage(
                    blockNumber: 5,
                    data: [
                        PrivateDataStore.Entry(
                            txIndex: 0,
                            namespace: "cc",
                            collection: "coll",
                            rwset: privateData[0].writeSet.nsPvtRwset[0].collectionPvtRwset[0].rwset,
                            expiringBlock: UInt64.max
                        )
                    ],
                    missing: [],
                    db: db
                )
            }
            _ = try ledger.blockStore.appendRecord(storedBlocks[4])
            manager.close()
        }
        let manager = try LedgerManager(rootDirectory: crashed.url, configuration: LedgerFixtures.configuration())
        let ledger = try manager.openLedger(id: B.channel)
        #expect(ledger.height == 6)
        #expect(try ledger.stateFingerprint() == cleanFingerprint)
        #expect(try ledger.privateState(namespace: "cc", collection: "coll", key: "secret")?.value == Data("s".utf8))
        #expect(ledger.lastCommitHash == PeerLedger.commitHash(of: storedBlocks[4]))
        for block in storedBlocks { #expect(try ledger.block(number: block.header.number) == block) }
    }

    /// Private data staged for a block that never reached the block files (crash between steps 1 and 2) is
    /// used when the block is committed again without private data (Fabric's "pvt store ahead of block store").
    @Test func privateDataStoreAheadOfBlockStore() throws {
        let directory = try TemporaryDirectory("rec-pvt-ahead")
        defer { directory.remove() }
        let (_, ledger) = try LedgerFixtures.ledger(in: directory)
        let tx = LedgerFixtures.tx(
            "pv",
            B.namespace("cc", collections: [B.collection("coll", writes: [B.write("k", "v")])])
        )
        let writeSet = B.privateWriteSet("cc", ["coll": [B.write("k", "v")]])
        try ledger.database.write { db in
            try PrivateDataStore.stage(
                blockNumber: 1,
                data: [
                    PrivateDataStore.Entry(
                        txIndex: 0,
                        namespace: "cc",
                        collection: "coll",
                        rwset: writeSet.nsPvtRwset[0].collectionPvtRwset[0].rwset,
                        expiringBlock: UInt64.max
                    )
                ],
                missing: [],
                db: db
            )
        }
        try LedgerFixtures.commit(ledger, [tx])
        #expect(try ledger.privateState(namespace: "cc", collection: "coll", key: "k")?.value == Data("v".utf8))
        #expect(try ledger.privateDataStore.stagedBlock() == nil)
    }

    @Test func corruptBlocksAreRefusedNamingTheBlock() throws {
        let directory = try TemporaryDirectory("corrupt-input")
        defer { directory.remove() }
        let (_, ledger) = try LedgerFixtures.ledger(in: directory)
        let blocks = B.chain(after: B.genesis(), count: 3)
        try ledger.commit(blocks[0], validationCodes: [.valid, .valid, .valid])
        let codes: [Protos_TxValidationCode] = [.valid, .valid, .valid]

        let skipped = #expect(throws: LedgerError.self) { try ledger.commit(blocks[2], validationCodes: codes) }
        #expect(skipped?.code == .blockNumberMismatch)
        #expect(skipped?.message.contains("block 3") == true)

        var wrongPrevious = blocks[1]
        wrongPrevious.header.previousHash = Data(repeating: 1, count: 32)
        let previous = #expect(throws: LedgerError.self) { try ledger.commit(wrongPrevious, validationCodes: codes) }
        #expect(previous?.code == .previousHashMismatch)
        #expect(previous?.message.contains("block 2") == true)

        var wrongData = blocks[1]
        wrongData.data.data.swapAt(0, 1)
        let data = #expect(throws: LedgerError.self) { try ledger.commit(wrongData, validationCodes: codes) }
        #expect(data?.code == .dataHashMismatch)
        #expect(data?.message.contains("block 2") == true)

        let count = #expect(throws: LedgerError.self) { try ledger.commit(blocks[1], validationCodes: [.valid]) }
        #expect(count?.code == .invalidValidationCodes)
        let notValidated = #expect(throws: LedgerError.self) {
            try ledger.commit(blocks[1], validationCodes: [.valid, .notValidated, .valid])
        }
        #expect(notValidated?.code == .invalidValidationCodes)

        #expect(ledger.height == 2)
        try ledger.commit(blocks[1], validationCodes: codes)
        #expect(ledger.height == 3)
    }

    /// A block file whose tail was torn (interrupted append of a block whose state never committed) is cut
    /// back on open; earlier blocks and state are kept, and the block can be committed again.
    @Test func truncatedBlockFileTail() throws {
        let directory = try TemporaryDirectory("torn-ledger")
        defer { directory.remove() }
        let blocks = B.chain(after: B.genesis(), count: 3)
        let file = directory.url.appendingPathComponent("ledgers/\(B.channel)/chains/blockfile_000000")
        var sizeBefore = 0
        do {
            let (manager, ledger) = try LedgerFixtures.ledger(in: directory)
            for block in blocks.prefix(2) {
                try ledger.commit(block, validationCodes: [.valid, .valid, .valid])
            }
            sizeBefore = try Data(contentsOf: file).count
            var stored = blocks[2]
            stored.metadata.metadata[2] = Data([0, 0, 0])
            _ = try ledger.blockStore.appendRecord(stored)
            manager.close()
        }
        let whole = try Data(contentsOf: file)
        try whole.prefix(sizeBefore + (whole.count - sizeBefore) / 2).write(to: file)
        let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
        let ledger = try manager.openLedger(id: B.channel)
        #expect(ledger.height == 3)
        #expect(try Data(contentsOf: file).count == sizeBefore)
        #expect(try ledger.state(namespace: "cc", key: "b2t0") != nil)
        try ledger.commit(blocks[2], validationCodes: [.valid, .valid, .valid])
        #expect(try ledger.state(namespace: "cc", key: "b3t0") != nil)
    }

    /// A damaged record in the middle of a committed chain: opening works, reading it is a clear error.
    @Test func corruptRecordInTheMiddleOfALedger() throws {
        let directory = try TemporaryDirectory("corrupt-ledger")
        defer { directory.remove() }
        let blocks = B.chain(after: B.genesis(), count: 4)
        let file = directory.url.appendingPathComponent("ledgers/\(B.channel)/chains/blockfile_000000")
        var offset = 0
        do {
            let (manager, ledger) = try LedgerFixtures.ledger(in: directory)
            for block in blocks {
                if block.header.number == 2 { offset = try Data(contentsOf: file).count }
                try ledger.commit(block, validationCodes: [.valid, .valid, .valid])
            }
            manager.close()
        }
        var bytes = try Data(contentsOf: file)
        bytes[offset + 30] ^= 0x55
        try bytes.write(to: file)
        let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
        let ledger = try manager.openLedger(id: B.channel)
        #expect(ledger.height == 5)
        let error = #expect(throws: LedgerError.self) { try ledger.block(number: 2) }
        #expect(error?.code == .corruptBlockFile)
        #expect(try ledger.block(number: 3) != nil)
    }

    /// State ahead of the block files (files lost) is reported, not papered over.
    @Test func stateAheadOfBlockFilesIsReported() throws {
        let directory = try TemporaryDirectory("state-ahead")
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("ledgers/\(B.channel)/chains/blockfile_000000")
        var size = 0
        do {
            let (manager, ledger) = try LedgerFixtures.ledger(in: directory)
            let blocks = B.chain(after: B.genesis(), count: 2)
            try ledger.commit(blocks[0], validationCodes: [.valid, .valid, .valid])
            size = try Data(contentsOf: file).count
            try ledger.commit(blocks[1], validationCodes: [.valid, .valid, .valid])
            manager.close()
        }
        try Data(contentsOf: file).prefix(size).write(to: file)
        let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
        let error = #expect(throws: LedgerError.self) { try manager.openLedger(id: B.channel) }
        #expect(error?.code == .inconsistentStorage)
    }

    /// Readers iterate committed blocks (with filter and commit hash) and wait for the next commit.
    @Test func ledgerIteratorSeesCommittedBlocks() async throws {
        let directory = try TemporaryDirectory("ledger-iter")
        defer { directory.remove() }
        let (_, ledger) = try LedgerFixtures.ledger(in: directory)
        let blocks = B.chain(after: B.genesis(), count: 3)
        let reader = Task {
            var seen: [(UInt64, Data)] = []
            for try await block in ledger.blocks(from: 0) {
                seen.append((block.header.number, PeerLedger.filter(of: block)))
                if seen.count == 4 { break }
            }
            return seen
        }
        for block in blocks { try ledger.commit(block, validationCodes: [.valid, .valid, .mvccReadConflict]) }
        let seen = try await reader.value
        #expect(seen.map(\.0) == [0, 1, 2, 3])
        #expect(seen.last?.1 == Data([0, 0, 11]))
        #expect(try ledger.validationCode(txID: "tx-2-2") == .mvccReadConflict)
        #expect(try ledger.transactionEnvelope(txID: "tx-2-0") != nil)
        #expect(try ledger.range(namespace: "cc", startKey: "b2", endKey: "b3").map(\.key) == ["b2t0", "b2t1"])
    }

    /// The block files alone rebuild the index and public state: with the SQLite database gone, opening replays
    /// every block from its stored filter.
    @Test(.enabled(if: Conformance.isAvailable, Conformance.missingReason))
    func stateRebuildsFromTheBlockFiles() async throws {
        let directory = try TemporaryDirectory("rebuild")
        defer { directory.remove() }
        let fingerprint: Data
        do {
            let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
            let ledger = try manager.createLedger(genesisBlock: try Conformance.block(0))
            let validator = ReferenceFilterValidator(directory: try Conformance.url("peer0.org2"))
            for number in try Conformance.blockNumbers() where number > 0 {
                try await ledger.commit(try Conformance.block(number), validator: validator)
            }
            fingerprint = try ledger.stateFingerprint()
            manager.close()
        }
        let ledgerDirectory = directory.url.appendingPathComponent("ledgers/conformance")
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(at: ledgerDirectory.appendingPathComponent("ledger.sqlite" + suffix))
        }
        let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
        let ledger = try manager.openLedger(id: "conformance")
        #expect(ledger.height == 30)
        #expect(try ledger.stateFingerprint() == fingerprint)
        #expect(ledger.lastCommitHash?.hexString == (try Conformance.expected())[29]?.commitHashOrg2)
        #expect(
            try ledger.transactionEntries(txID: "c25c0a6244dd8f702fc18656f57d989573245e433c696ee1260fa19374c4e80c")
                .count == 1
        )
    }
}
