import Foundation
import GRDB
import Ledger
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Ports of Fabric's blkstorage tests (block_serialization_test, blockfile_mgr_test, blockindex_test,
/// blockstore_test) to this store's format.
@Suite("Block store")
struct BlockStoreTests {
    struct Store {
        let directory: TemporaryDirectory
        let pool: DatabasePool
        let store: BlockStore

        init(
            _ directory: TemporaryDirectory,
            maxFileSize: Int64 = 64 << 20,
            compress: Bool = true,
            compression: BlockStoreConfiguration.Compression = .zstd
        ) throws {
            self.directory = directory
            self.pool = try DatabasePool(path: directory.appending("index.sqlite").path)
            self.store = try BlockStore(
                directory: directory.appending("chains"),
                database: self.pool,
                configuration: BlockStoreConfiguration(
                    maxFileSize: maxFileSize,
                    compress: compress,
                    compression: compression,
                    syncWrites: false
                )
            )
        }

        func reopen(maxFileSize: Int64 = 64 << 20) throws -> Store {
            try Store(self.directory, maxFileSize: maxFileSize)
        }

        var blockFile: URL { self.directory.appending("chains").appendingPathComponent("blockfile_000000") }
    }

    static func blocks(_ count: Int) -> [Common_Block] {
        let genesis = TestBlocks.genesis()
        return [genesis] + TestBlocks.chain(after: genesis, count: count - 1)
    }

    @Test("read/write by number, hash and tx id", arguments: [true, false])
    func blockReadWrite(compress: Bool) throws {
        let directory = try TemporaryDirectory("bs-rw")
        defer { directory.remove() }
        let store = try Store(directory, compress: compress).store
        let blocks = Self.blocks(10)
        for block in blocks { try store.append(block) }
        #expect(store.height == 10)
        #expect(store.lastBlockHash == blocks.last!.header.hash)
        for block in blocks {
            #expect(try store.block(number: block.header.number) == block)
            #expect(try store.block(hash: block.header.hash) == block)
        }
        #expect(try store.block(number: 10) == nil)
        #expect(try store.block(hash: Data(repeating: 7, count: 32)) == nil)
        let entries = try store.transactionEntries(txID: "tx-4-2")
        #expect(entries == [TxIndexEntry(blockNumber: 4, txNumber: 2, validationCode: .valid)])
        let envelope = try #require(try store.transactionEnvelope(txID: "tx-4-2"))
        #expect(try envelope.serializedBytes() == blocks[4].data.data[2])
        #expect(try store.txIDExists("tx-9-0"))
        #expect(try !store.txIDExists("tx-10-0"))
    }

    @Test func wrongBlockNumberIsRefused() throws {
        let directory = try TemporaryDirectory("bs-number")
        defer { directory.remove() }
        let store = try Store(directory).store
        let blocks = Self.blocks(3)
        try store.append(blocks[0])
        let error = #expect(throws: LedgerError.self) { try store.append(blocks[2]) }
        #expect(error?.code == .blockNumberMismatch)
        #expect(error?.message.contains("block 2") == true)
        #expect(store.height == 1)
    }

    @Test func wrongPreviousHashIsRefused() throws {
        let directory = try TemporaryDirectory("bs-prev")
        defer { directory.remove() }
        let store = try Store(directory).store
        let blocks = Self.blocks(3)
        try store.append(blocks[0])
        try store.append(blocks[1])
        var bad = blocks[2]
        bad.header.previousHash = Data(repeating: 9, count: 32)
        let error = #expect(throws: LedgerError.self) { try store.append(bad) }
        #expect(error?.code == .previousHashMismatch)
        #expect(error?.message.contains("block 2") == true)
    }

    @Test func wrongDataHashIsRefused() throws {
        let directory = try TemporaryDirectory("bs-data")
        defer { directory.remove() }
        let store = try Store(directory).store
        let blocks = Self.blocks(2)
        try store.append(blocks[0])
        var bad = blocks[1]
        bad.data.data[0] = Data("tampered".utf8)
        let error = #expect(throws: LedgerError.self) { try store.append(bad) }
        #expect(error?.code == .dataHashMismatch)
        #expect(error?.message.contains("block 1") == true)
    }

    @Test func restartKeepsHeightAndChain() throws {
        let directory = try TemporaryDirectory("bs-restart")
        defer { directory.remove() }
        let blocks = Self.blocks(6)
        do {
            let store = try Store(directory).store
            for block in blocks.prefix(4) { try store.append(block) }
        }
        let store = try Store(directory).store
        #expect(store.height == 4)
        #expect(store.lastBlockHash == blocks[3].header.hash)
        for block in blocks.dropFirst(4) { try store.append(block) }
        #expect(try store.block(number: 5) == blocks[5])
    }

    /// A crash in the middle of an append leaves a partial record: it is cut off on open, earlier blocks stay,
    /// and the interrupted block can be appended again.
    @Test("crash during writing", arguments: [1, 7, 50, -3])
    func crashDuringWriting(partialBytes: Int) throws {
        let directory = try TemporaryDirectory("bs-crash")
        defer { directory.remove() }
        let blocks = Self.blocks(5)
        let file: URL
        let fullSize: Int
        do {
            let opened = try Store(directory)
            for block in blocks.prefix(4) { try opened.store.append(block) }
            file = opened.blockFile
            fullSize = try Data(contentsOf: file).count
            // Write most of block 4's record, as a crash would leave it.
            let scratch = try Store(TemporaryDirectory("bs-scratch"))
            defer { scratch.directory.remove() }
            for block in blocks { try scratch.store.append(block) }
            let whole = try Data(contentsOf: scratch.blockFile)
            let record = whole.suffix(from: fullSize)
            let cut = partialBytes > 0 ? min(partialBytes, record.count - 1) : record.count + partialBytes
            let handle = try FileHandle(forWritingTo: file)
            try handle.seekToEnd()
            try handle.write(contentsOf: record.prefix(cut))
            try handle.close()
        }
        let reopened = try Store(directory).store
        #expect(reopened.height == 4)
        #expect(try Data(contentsOf: file).count == fullSize)
        for block in blocks.prefix(4) { #expect(try reopened.block(number: block.header.number) == block) }
        try reopened.append(blocks[4])
        #expect(try reopened.block(number: 4) == blocks[4])
    }

    @Test func fileRolling() throws {
        let directory = try TemporaryDirectory("bs-roll")
        defer { directory.remove() }
        let blocks = Self.blocks(20)
        do {
            let store = try Store(directory, maxFileSize: 500).store
            for block in blocks.prefix(12) { try store.append(block) }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appending("chains").path)
        #expect(files.count > 2)
        let store = try Store(directory, maxFileSize: 500).store
        #expect(store.height == 12)
        for block in blocks.dropFirst(12) { try store.append(block) }
        for block in blocks { #expect(try store.block(number: block.header.number) == block) }
    }

    /// The same tx id in two blocks: both occurrences are indexed, the first is what lookups return.
    @Test func duplicateTxIDsAreKept() throws {
        let directory = try TemporaryDirectory("bs-dup")
        defer { directory.remove() }
        let store = try Store(directory).store
        let genesis = TestBlocks.genesis()
        let envelope = TestBlocks.endorserTransaction(
            txID: "same",
            [TestBlocks.namespace("cc", writes: [TestBlocks.write("k", "v")])]
        )
        var first = TestBlocks.block(1, previous: genesis, [envelope])
        first.metadata.metadata[2] = Data([0])
        var second = TestBlocks.block(2, previous: first, [envelope, envelope])
        second.metadata.metadata[2] = Data([9, 9])
        for block in [genesis, first, second] { try store.append(block) }
        let entries = try store.transactionEntries(txID: "same")
        #expect(
            entries == [
                TxIndexEntry(blockNumber: 1, txNumber: 0, validationCode: .valid),
                TxIndexEntry(blockNumber: 2, txNumber: 0, validationCode: .duplicateTxid),
                TxIndexEntry(blockNumber: 2, txNumber: 1, validationCode: .duplicateTxid),
            ]
        )
        #expect(try store.transactionEnvelope(txID: "same")?.serializedBytes() == envelope)
    }

    /// Records the index lost (a crash between append and index) are found on open and indexed.
    @Test func indexSync() throws {
        let directory = try TemporaryDirectory("bs-index")
        defer { directory.remove() }
        let blocks = Self.blocks(8)
        do {
            let opened = try Store(directory)
            for block in blocks { try opened.store.append(block) }
            try opened.pool.write { db in
                try db.execute(sql: "DELETE FROM block_index WHERE number >= 5")
                try db.execute(sql: "DELETE FROM tx_index WHERE block >= 5")
            }
        }
        let opened = try Store(directory)
        #expect(opened.store.height == 8)
        #expect(opened.store.indexedHeight == 5)
        #expect(opened.store.unindexedBlocks.map(\.number) == [5, 6, 7])
        #expect(try opened.store.block(number: 6) == blocks[6])
        try opened.store.indexUnindexedBlocks()
        #expect(opened.store.indexedHeight == 8)
        #expect(try opened.store.transactionEntries(txID: "tx-7-1").count == 1)
        #expect(try opened.store.block(hash: blocks[7].header.hash) == blocks[7])
    }

    /// Index rows whose records are gone (files cut back) are dropped on open.
    @Test func indexAheadOfFilesIsDropped() throws {
        let directory = try TemporaryDirectory("bs-ahead")
        defer { directory.remove() }
        let blocks = Self.blocks(6)
        var cutAt = 0
        do {
            let opened = try Store(directory)
            for block in blocks.prefix(4) { try opened.store.append(block) }
            cutAt = try Data(contentsOf: opened.blockFile).count
            for block in blocks.dropFirst(4) { try opened.store.append(block) }
        }
        let file = directory.appending("chains").appendingPathComponent("blockfile_000000")
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: UInt64(cutAt))
        try handle.close()
        let store = try Store(directory).store
        #expect(store.height == 4)
        #expect(try store.block(number: 4) == nil)
        #expect(try !store.txIDExists("tx-5-0"))
        try store.append(blocks[4])
    }

    /// A damaged record inside the chain is a clear error on read, and on open when it lies past the index;
    /// the store never silently drops blocks after it.
    @Test func corruptRecordInTheMiddleIsAnError() throws {
        let directory = try TemporaryDirectory("bs-corrupt")
        defer { directory.remove() }
        let blocks = Self.blocks(6)
        var offset: Int64 = 0
        do {
            let opened = try Store(directory)
            for block in blocks.prefix(2) { try opened.store.append(block) }
            offset = Int64(try Data(contentsOf: opened.blockFile).count)
            for block in blocks.dropFirst(2) { try opened.store.append(block) }
        }
        let file = directory.appending("chains").appendingPathComponent("blockfile_000000")
        var bytes = try Data(contentsOf: file)
        bytes[Int(offset) + 20] ^= 0xff  // inside block 2's record
        try bytes.write(to: file)

        let opened = try Store(directory)
        let readError = #expect(throws: LedgerError.self) { try opened.store.block(number: 2) }
        #expect(readError?.code == .corruptBlockFile)
        #expect(try opened.store.block(number: 5) == blocks[5])
        // With the index lost from block 1 on, opening must scan the damaged record: an error, not a truncation.
        try opened.pool.write { db in
            try db.execute(sql: "DELETE FROM block_index WHERE number >= 1")
            try db.execute(sql: "DELETE FROM tx_index WHERE block >= 1")
        }
        let openError = #expect(throws: LedgerError.self) { try opened.reopen() }
        #expect(openError?.code == .corruptBlockFile)
        #expect(openError?.message.contains("expected block 2") == true)
        #expect(try Data(contentsOf: file).count == bytes.count)
    }

    /// The iterator delivers committed blocks, then waits for new ones.
    @Test func iteratorWaitsForNewBlocks() async throws {
        let directory = try TemporaryDirectory("bs-iter")
        defer { directory.remove() }
        let store = try Store(directory).store
        let blocks = Self.blocks(5)
        for block in blocks.prefix(2) { try store.append(block) }
        let reader = Task {
            var numbers: [UInt64] = []
            for try await block in store.blocks(from: 1) {
                numbers.append(block.header.number)
                if numbers.count == 4 { break }
            }
            return numbers
        }
        for block in blocks.dropFirst(2) { try store.append(block) }
        #expect(try await reader.value == [1, 2, 3, 4])

        let waiting = Task { () -> Int in
            var count = 0
            for try await _ in store.blocks(from: 5) { count += 1 }
            return count
        }
        waiting.cancel()
        #expect(try await waiting.value == 0)
    }

    /// One store holds records of every format, written under different settings over its life: zlib streams
    /// (format 1 whole, 2 prepared ahead), zstd frames (format 3, whole or prepared ahead) and raw (format 0).
    /// Every block reads back as written, whatever the store writes now, and after a restart.
    @Test func everyRecordFormatReadsBack() throws {
        let directory = try TemporaryDirectory("bs-formats")
        defer { directory.remove() }
        let blocks = Self.blocks(9)
        func append(_ store: BlockStore, _ number: Int, prepared: Bool) throws {
            let block = blocks[number]
            guard prepared else { return try store.append(block) }
            let record = try #require(store.prepareRecord(block))
            let location = try store.appendRecord(block, prepared: record)
            let update = try pool(store).write { db in
                try store.writeIndex(block: block, location: location, txIDs: nil, db: db)
            }
            store.didIndex(block.header.number, update)
        }
        var pools: [ObjectIdentifier: DatabasePool] = [:]
        func pool(_ store: BlockStore) -> DatabasePool { pools[ObjectIdentifier(store)]! }
        for (settings, numbers) in [
            ((true, BlockStoreConfiguration.Compression.zlib), 0...1),
            ((true, .zlib), 2...3), ((true, .zstd), 4...5), ((true, .zstd), 6...7), ((false, .zstd), 8...8),
        ] {
            let opened = try Store(directory, compress: settings.0, compression: settings.1)
            pools[ObjectIdentifier(opened.store)] = opened.pool
            for number in numbers {
                // Odd blocks go through the commit's path: header and data compressed ahead of the metadata.
                try append(opened.store, number, prepared: number % 2 == 1 && settings.0)
            }
        }
        let reopened = try Store(directory)
        for block in blocks {
            #expect(try reopened.store.blockBytes(number: block.header.number) == block.serializedBytes())
            #expect(try reopened.store.block(hash: block.header.hash) == block)
        }
        // The format byte of each record, in file order (record: length, CRC, then the format).
        let file = try Data(contentsOf: reopened.blockFile)
        var formats: [UInt8] = []
        var offset = 0
        while offset + 9 <= file.count {
            let length = file[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
            formats.append(file[offset + 8])
            offset += 8 + length
        }
        #expect(formats == [1, 2, 1, 2, 3, 3, 3, 3, 0])
    }

    /// Compressed and uncompressed records of the same block decode to the same bytes.
    @Test func recordFormats() throws {
        let directory = try TemporaryDirectory("bs-format")
        defer { directory.remove() }
        let raw = try Store(TemporaryDirectory("bs-raw"), compress: false)
        defer { raw.directory.remove() }
        let packed = try Store(directory, compress: true)
        let blocks = Self.blocks(3)
        for block in blocks {
            try raw.store.append(block)
            try packed.store.append(block)
        }
        for block in blocks {
            #expect(try raw.store.blockBytes(number: block.header.number) == block.serializedBytes())
            #expect(try packed.store.blockBytes(number: block.header.number) == block.serializedBytes())
        }
        #expect(try Data(contentsOf: packed.blockFile).count < Data(contentsOf: raw.blockFile).count)
    }
}
