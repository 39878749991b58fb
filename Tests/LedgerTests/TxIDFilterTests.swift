import Foundation
import GRDB
import Ledger
import TestSupport
import Testing
import Wire

/// The Bloom filter of tx ids that answers DUPLICATE_TXID look-ups of new transactions without reading
/// `tx_index` (`BlockStoreConfiguration.txIDFilterBits`): never "absent" for an id the index holds.
@Suite("Block store: tx-id filter")
struct TxIDFilterTests {
    static func randomTxID() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }).hexString
    }

    @Test func everyInsertedIDMayBePresentAndFewAbsentOnesDo() {
        var filter = TxIDFilter(bits: 1 << 20)
        #expect(filter.bitCount == 1 << 20)
        let inserted = (0..<10_000).map { _ in Self.randomTxID() } + (0..<500).map { "other-id-\($0)" }
        for txID in inserted { filter.insert(txID: txID) }
        // Until it covers the index, nothing is ruled out.
        #expect(filter.mayContain(txID: Self.randomTxID()))
        filter.markCovering()
        for txID in inserted { #expect(filter.mayContain(txID: txID)) }
        // 10,500 ids in 2^20 bits with 4 probes: a false positive rate of ≈ 2 in a million; allow 1 %.
        let absent = (0..<10_000).map { _ in Self.randomTxID() } + (0..<500).map { "absent-id-\($0)" }
        let falsePositives = absent.filter { filter.mayContain(txID: $0) }.count
        #expect(falsePositives < 105)
    }

    @Test func sizesRoundUpAndZeroTurnsItOff() {
        #expect(TxIDFilter(bits: 1).bitCount == 64)
        #expect(TxIDFilter(bits: 1000).bitCount == 1024)
        #expect(TxIDFilter(bits: 1 << 24).bitCount == 1 << 24)
        var off = TxIDFilter(bits: 0)
        #expect(!off.isEnabled)
        off.insert(txID: Self.randomTxID())
        off.markCovering()
        #expect(!off.covering)
        #expect(off.mayContain(txID: Self.randomTxID()))
    }

    static func open(
        _ directory: TemporaryDirectory,
        slices: Int = 1,
        bits: Int = 1 << 16,
        chunk: Int = 8192
    ) throws -> (DatabasePool, BlockStore) {
        let pool = try DatabasePool(path: directory.appending("index.sqlite").path)
        var configuration = BlockStoreConfiguration(syncWrites: false, txIndexSlices: slices, txIDFilterBits: bits)
        configuration.txIDFilterLoadChunk = chunk
        let store = try BlockStore(directory: directory.appending("chains"), database: pool, configuration: configuration)
        return (pool, store)
    }

    static func txIDs(_ blocks: [Common_Block]) -> [String] {
        blocks.flatMap { BlockStore.txIDs(of: $0) }.filter { !$0.isEmpty }
    }

    @Test func aNewStoreIsCoveredAtOnce() throws {
        let directory = try TemporaryDirectory("txf-new")
        defer { directory.remove() }
        let (_, store) = try Self.open(directory)
        #expect(store.txIDFilterCovers)
        let blocks = StagedTxIndexTests.chain(6)
        for block in blocks { try store.append(block) }
        for txID in Self.txIDs(blocks) { #expect(try store.txIDExists(txID)) }
        for _ in 0..<100 { #expect(try !store.txIDExists(Self.randomTxID())) }
    }

    /// A reopened store reads the ids of its table into the filter in chunks (here 7 ids per read, over blocks
    /// of 8 transactions), while blocks are appended beside the load; every id is found afterwards, from the
    /// filter and the table.
    @Test(arguments: [1, 4])
    func aReopenedStoreLoadsItsIDs(slices: Int) async throws {
        let directory = try TemporaryDirectory("txf-reopen")
        defer { directory.remove() }
        let blocks = StagedTxIndexTests.chain(30)
        do {
            let (_, store) = try Self.open(directory, slices: slices)
            for block in blocks.prefix(20) { try store.append(block) }
            try store.writeStagedTxIndex()
        }
        let (pool, store) = try Self.open(directory, slices: slices, chunk: 7)
        #expect(try Self.tableCount(pool) == Self.txIDs(Array(blocks.prefix(20))).count)
        for block in blocks.suffix(10) { try store.append(block) }
        await store.waitForTxIDFilter()
        #expect(store.txIDFilterCovers)
        for txID in Self.txIDs(blocks) { #expect(try store.txIDExists(txID)) }
        for _ in 0..<200 { #expect(try !store.txIDExists(Self.randomTxID())) }
        try Self.checkThroughASnapshot(store, pool, present: Self.txIDs(blocks))
    }

    static func tableCount(_ pool: DatabasePool) throws -> Int? {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tx_index") }
    }

    /// The look-up validation makes (DUPLICATE_TXID) inside its snapshot: the staged rows, the filter, the table.
    static func checkThroughASnapshot(_ store: BlockStore, _ pool: DatabasePool, present: [String]) throws {
        let (found, absentFound) = try pool.read { db in
            (
                try present.filter { try store.txIDExists($0, db: db) }.count,
                try store.txIDExists(Self.randomTxID(), db: db)
            )
        }
        #expect(found == present.count)
        #expect(!absentFound)
    }

    @Test func withTheFilterOffLookUpsReadTheTable() throws {
        let directory = try TemporaryDirectory("txf-off")
        defer { directory.remove() }
        let blocks = StagedTxIndexTests.chain(8)
        do {
            let (_, store) = try Self.open(directory, bits: 0)
            for block in blocks { try store.append(block) }
            try store.writeStagedTxIndex()
        }
        let (_, store) = try Self.open(directory, bits: 0)
        #expect(!store.txIDFilterCovers)
        for txID in Self.txIDs(blocks) { #expect(try store.txIDExists(txID)) }
        #expect(try !store.txIDExists(Self.randomTxID()))
    }
}
