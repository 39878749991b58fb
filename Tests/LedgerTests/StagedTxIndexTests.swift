import Foundation
import GRDB
import Ledger
import TestSupport
import Testing
import Wire

/// The tx index's rows reach their table one key range per commit (`BlockStoreConfiguration.txIndexSlices`);
/// until then they are answered from memory, and after a restart they are read again from the block files.
@Suite("Block store: staged tx index")
struct StagedTxIndexTests {
    /// Fabric-like tx ids (lowercase hex SHA-256), so that they spread over the key ranges.
    static func txID(_ block: UInt64, _ tx: Int) -> String { Digest.sha256(Data("\(block)/\(tx)".utf8)).hexString }

    /// A chain of `count` blocks after a genesis block, `txs` transactions each; `reuse` maps (block, tx) to the
    /// (block, tx) whose tx id it repeats.
    static func chain(_ count: Int, txs: Int = 8, reuse: [[Int]: [Int]] = [:]) -> [Common_Block] {
        var blocks = [TestBlocks.genesis()]
        for number in 1..<UInt64(count) {
            let envelopes = (0..<txs).map { tx in
                let source = reuse[[Int(number), tx]].map { (UInt64($0[0]), $0[1]) } ?? (number, tx)
                return TestBlocks.endorserTransaction(txID: Self.txID(source.0, source.1), [])
            }
            blocks.append(TestBlocks.block(number, previous: blocks.last, envelopes))
        }
        return blocks
    }

    static func open(_ directory: TemporaryDirectory, slices: Int, stagedRows: Int = 65_536) throws
        -> (DatabasePool, BlockStore)
    {
        let pool = try DatabasePool(path: directory.appending("index.sqlite").path)
        let store = try BlockStore(
            directory: directory.appending("chains"),
            database: pool,
            configuration: BlockStoreConfiguration(
                syncWrites: false,
                txIndexSlices: slices,
                txIndexStagedRows: stagedRows
            )
        )
        return (pool, store)
    }

    static func tableRows(_ pool: DatabasePool) throws -> Set<String> {
        try pool.read { db in
            Set(try Row.fetchAll(db, sql: "SELECT txid, block, tx FROM tx_index").map { row in
                "\(row[0] as String)@\(row[1] as Int64)/\(row[2] as Int64)"
            })
        }
    }

    static func rowKeys(_ blocks: ArraySlice<Common_Block>) -> Set<String> {
        var keys: Set<String> = []
        for block in blocks {
            for (index, txID) in BlockStore.txIDs(of: block).enumerated() {
                keys.insert("\(txID)@\(block.header.number)/\(index)")
            }
        }
        return keys
    }

    @Test func rowsAreAnsweredAtOnceAndWrittenWithinTheSliceCount() throws {
        let directory = try TemporaryDirectory("sti-slices")
        defer { directory.remove() }
        let (pool, store) = try Self.open(directory, slices: 4)
        let blocks = Self.chain(14)
        var staged = 0
        for block in blocks {
            try store.append(block)
            let number = Int(block.header.number)
            for tx in 0..<8 where number > 0 {
                let entries = try store.transactionEntries(txID: Self.txID(UInt64(number), tx))
                let expected = TxIndexEntry(blockNumber: UInt64(number), txNumber: UInt64(tx), validationCode: .valid)
                #expect(entries == [expected])
            }
            #expect(try !store.txIDExists(Self.txID(UInt64(number + 1), 0)))
            let table = try Self.tableRows(pool)
            // Every row of a block at least four commits old is in the table; nothing from later blocks is missing
            // from the answers above.
            if number >= 3 {
                #expect(Self.rowKeys(blocks[0...(number - 3)]).isSubset(of: table), "after block \(number)")
            }
            #expect(table.isSubset(of: Self.rowKeys(blocks[0...number])), "after block \(number)")
            staged += Self.rowKeys(blocks[0...number]).subtracting(table).count
        }
        // The rows did wait: most commits left some in memory.
        #expect(staged > 0)
    }

    @Test func aRestartReadsTheUnwrittenRowsAgainFromTheBlockFiles() throws {
        let directory = try TemporaryDirectory("sti-restart")
        defer { directory.remove() }
        let blocks = Self.chain(12)
        let unwritten: Set<String>
        do {
            let (pool, store) = try Self.open(directory, slices: 8)
            for block in blocks.prefix(10) { try store.append(block) }
            unwritten = Self.rowKeys(blocks[0..<10]).subtracting(try Self.tableRows(pool))
            #expect(!unwritten.isEmpty)
        }
        // Opened again (with fewer ranges than it was written with): nothing is lost.
        let (pool, store) = try Self.open(directory, slices: 2)
        for number in 1..<10 {
            for tx in 0..<8 {
                #expect(try store.txIDExists(Self.txID(UInt64(number), tx)), "block \(number) tx \(tx)")
            }
        }
        for block in blocks.suffix(2) { try store.append(block) }
        #expect(Self.rowKeys(blocks[0..<10]).isSubset(of: try Self.tableRows(pool)))
    }

    @Test func aRepeatedTxIDIsListedOnceInBlockOrder() throws {
        let directory = try TemporaryDirectory("sti-dup")
        defer { directory.remove() }
        // Block 5 tx 3 and block 9 tx 0 repeat block 2 tx 1.
        let blocks = Self.chain(10, reuse: [[5, 3]: [2, 1], [9, 0]: [2, 1]])
        let expected = [
            TxIndexEntry(blockNumber: 2, txNumber: 1, validationCode: .valid),
            TxIndexEntry(blockNumber: 5, txNumber: 3, validationCode: .valid),
            TxIndexEntry(blockNumber: 9, txNumber: 0, validationCode: .valid),
        ]
        do {
            let (_, store) = try Self.open(directory, slices: 16)
            for block in blocks { try store.append(block) }
            #expect(try store.transactionEntries(txID: Self.txID(2, 1)) == expected)
        }
        // Reopened, the staged rows are read again beside the ones already written: still listed once each.
        let (pool, store) = try Self.open(directory, slices: 16)
        #expect(try store.transactionEntries(txID: Self.txID(2, 1)) == expected)
        try store.writeStagedTxIndex()
        #expect(Self.rowKeys(blocks[...]) == (try Self.tableRows(pool)))
        #expect(try store.transactionEntries(txID: Self.txID(2, 1)) == expected)
    }

    /// Readers running beside the commits never miss a committed row, while rows move from memory to the table
    /// (a look-up reads the staged rows before it opens its snapshot).
    @Test func readersBesideCommitsNeverMissARow() async throws {
        let directory = try TemporaryDirectory("sti-readers")
        defer { directory.remove() }
        let (_, store) = try Self.open(directory, slices: 2)
        let blocks = Self.chain(40)
        try store.append(blocks[0])
        let appending = Task.detached {
            for block in blocks.dropFirst() { try store.append(block) }
        }
        let reading = Task.detached { () throws -> (checks: Int, misses: [String]) in
            var checks = 0
            var misses: [String] = []
            var generator = SystemRandomNumberGenerator()
            while store.indexedHeight < 40 || checks < 200 {
                let height = store.indexedHeight
                guard height > 1 else { continue }
                let number = UInt64.random(in: 1..<height, using: &generator)
                let tx = Int.random(in: 0..<8, using: &generator)
                let found = try store.txIDExists(Self.txID(number, tx))
                let entries = try store.transactionEntries(txID: Self.txID(number, tx))
                if !found || entries.count != 1 { misses.append("block \(number) tx \(tx)") }
                checks += 1
            }
            return (checks, misses)
        }
        try await appending.value
        let (checks, misses) = try await reading.value
        #expect(checks >= 200)
        #expect(misses.isEmpty)
    }

    /// Tx ids that are not Fabric's lowercase hex (uppercase hex, other text, one character off) are staged as
    /// text, and an uppercase id is not its lowercase twin, staged or written.
    @Test func otherTxIDsAreKeptApart() throws {
        let directory = try TemporaryDirectory("sti-text")
        defer { directory.remove() }
        let (pool, store) = try Self.open(directory, slices: 4)
        let lower = Self.txID(1, 0)
        // 64 characters, the last one just outside the lowercase hex digits.
        let nearHex = [":", "g", "`", "/"].map { String(lower.dropLast()) + $0 }
        let ids = [lower, lower.uppercased(), "tx-\(lower.prefix(10))", String(lower.dropLast())] + nearHex
        let genesis = TestBlocks.genesis()
        let block = TestBlocks.block(1, previous: genesis, ids.map { TestBlocks.endorserTransaction(txID: $0, []) })
        try store.append(genesis)
        try store.append(block)
        for (index, id) in ids.enumerated() {
            let expected = [TxIndexEntry(blockNumber: 1, txNumber: UInt64(index), validationCode: .valid)]
            #expect(try store.transactionEntries(txID: id) == expected, "\(id)")
        }
        try store.writeStagedTxIndex()
        #expect(Self.rowKeys([genesis, block][...]) == (try Self.tableRows(pool)))
        for (index, id) in ids.enumerated() {
            let expected = [TxIndexEntry(blockNumber: 1, txNumber: UInt64(index), validationCode: .valid)]
            #expect(try store.transactionEntries(txID: id) == expected, "\(id)")
        }
    }

    @Test func theStagedRowLimitBoundsWhatWaits() throws {
        let directory = try TemporaryDirectory("sti-limit")
        defer { directory.remove() }
        let (pool, store) = try Self.open(directory, slices: 64, stagedRows: 10)
        let blocks = Self.chain(20)
        for block in blocks {
            try store.append(block)
            let waiting = Self.rowKeys(blocks[0...Int(block.header.number)]).subtracting(try Self.tableRows(pool))
            #expect(waiting.count <= 10, "after block \(block.header.number)")
        }
    }

    @Test func closingTheLedgerWritesEveryStagedRow() throws {
        let directory = try TemporaryDirectory("sti-close")
        defer { directory.remove() }
        let blocks = Self.chain(6)
        let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
        let ledger = try manager.createLedger(genesisBlock: blocks[0])
        for block in blocks.dropFirst() {
            try ledger.commit(block, validationCodes: Array(repeating: .valid, count: block.data.data.count))
        }
        let before = try Self.ledgerTableRows(ledger)
        #expect(!Self.rowKeys(blocks[...]).isSubset(of: before))
        manager.close()
        #expect(Self.rowKeys(blocks[...]).isSubset(of: try Self.ledgerTableRows(ledger)))
        let complete = try ledger.database.read { db in
            try Int64.fetchOne(db, sql: "SELECT complete FROM tx_index_progress")
        }
        #expect(complete == 6)
    }

    static func ledgerTableRows(_ ledger: PeerLedger) throws -> Set<String> {
        try ledger.database.read { db in
            Set(try Row.fetchAll(db, sql: "SELECT txid, block, tx FROM tx_index").map { row in
                "\(row[0] as String)@\(row[1] as Int64)/\(row[2] as Int64)"
            })
        }
    }
}
