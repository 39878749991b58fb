public import Foundation
public import GRDB
public import Logging
internal import SwiftProtobuf
internal import Synchronization
public import Wire

/// The block store of one channel: append-only segment files plus an index in SQLite.
///
/// Appends check the block number against the height and the previous hash against the last header's hash, and
/// the data hash against the data. The index maps number → file location, header hash → number and
/// tx id → (block, tx, validation code), keeping duplicates. Tx id rows reach their table a key range at a time
/// (``StagedTxIndex``); until then they are answered from memory, and after a crash they are read again from
/// the block files.
///
/// On open, records found past the index (a crash between writing a record and indexing it) are kept as
/// *unindexed*: the ledger replays them, and ``indexUnindexedBlocks()`` indexes them for stand-alone use. A torn
/// tail record (an append cut off by a crash) is detected by its length and CRC and cut off; a damaged record
/// followed by more data is reported as ``LedgerError/Code/corruptBlockFile``, never skipped. Index rows for
/// blocks no longer in the files are dropped.
public final class BlockStore: Sendable {
    /// A record written to the files but not yet in the index.
    package struct Unindexed: Sendable {
        /// The block number.
        package var number: UInt64
        /// Where its record is.
        package var location: BlockLocation
        /// Its header hash.
        package var headerHash: Data
    }

    private struct Tip: Sendable {
        var height: UInt64 = 0
        var lastHeaderHash: Data?
        var unindexed: [UInt64: Unindexed] = [:]
        var indexedHeight: UInt64 = 0
    }

    private struct Waiters: Sendable {
        var nextID = 0
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<Int> = []
    }

    let files: BlockFiles
    /// The database holding the index.
    public let database: DatabasePool
    private let tip = Mutex(Tip())
    private let waiters = Mutex(Waiters())
    /// Serialises appends: the check against the tip and the file write are one step.
    private let appendLock = Mutex(())
    /// Tx index rows not yet in `tx_index`, and the filter of every tx id.
    private let staged: Mutex<StagedTxIndex>
    /// Adds the ids already in `tx_index` to the filter, in the background after opening.
    private let filterLoad = Mutex<Task<Void, Never>?>(nil)
    private let logger: Logger

    /// Opens (or creates) the block store in `directory`, with its index in `database`.
    public init(
        directory: URL,
        database: DatabasePool,
        configuration: BlockStoreConfiguration = BlockStoreConfiguration(),
        logger: Logger = Logger(label: "ledger.blockstore")
    ) throws(LedgerError) {
        self.files = try BlockFiles(
            directory: directory,
            maxFileSize: configuration.maxFileSize,
            compression: configuration.compress ? configuration.compression : nil,
            decompressedLimit: configuration.decompressedLimit,
            syncWrites: configuration.syncWrites
        )
        self.database = database
        self.logger = logger
        self.staged = Mutex(
            StagedTxIndex(
                sliceCount: configuration.txIndexSlices,
                rowLimit: configuration.txIndexStagedRows,
                filterBits: configuration.txIDFilterBits
            )
        )
        try LedgerError.wrapping("cannot create the block index") {
            try database.write { db in try Self.createTables(db) }
        }
        try self.reconcile()
        try self.restageTxIndex()
        try self.loadTxIDFilter(chunk: max(1, configuration.txIDFilterLoadChunk))
    }

    deinit { self.filterLoad.withLock { $0?.cancel() } }

    static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS block_index (
                    number INTEGER PRIMARY KEY, file INTEGER NOT NULL, offset INTEGER NOT NULL,
                    length INTEGER NOT NULL, hash BLOB NOT NULL, tx_count INTEGER NOT NULL);
                CREATE UNIQUE INDEX IF NOT EXISTS block_index_hash ON block_index(hash);
                CREATE TABLE IF NOT EXISTS tx_index (
                    txid TEXT NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL, code INTEGER NOT NULL,
                    PRIMARY KEY (txid, block, tx)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS tx_index_progress (
                    id INTEGER PRIMARY KEY CHECK (id = 0), complete INTEGER NOT NULL);
                """
        )
    }

    // MARK: Recovery

    /// Brings the index and the files into agreement (see the type's documentation).
    private func reconcile() throws(LedgerError) {
        // 1. Drop index rows whose records are no longer in the files (the files were cut back).
        var last = try self.lastIndexed()
        while let entry = last {
            let fileOK = self.files.fileExists(entry.location.file)
            let size = fileOK ? try self.files.file(entry.location.file).size() : -1
            if size >= entry.location.end { break }
            self.logger.warning(
                "block \(entry.number) is indexed at \(entry.location) but the file ends at \(size): dropping it from the index"
            )
            try LedgerError.wrapping("cannot drop block \(entry.number) from the index") {
                try self.database.write { db in
                    try db.execute(sql: "DELETE FROM block_index WHERE number >= ?", arguments: [Int64(entry.number)])
                    try db.execute(sql: "DELETE FROM tx_index WHERE block >= ?", arguments: [Int64(entry.number)])
                }
            }
            last = try self.lastIndexed()
        }

        // 2. The last indexed record must still be intact.
        var expected: UInt64 = 0
        var lastHash: Data?
        var scanFile = 0
        var scanOffset: Int64 = 0
        if let entry = last {
            let bytes = try self.files.read(entry.location)
            let block = try Self.decode(bytes, what: "block \(entry.number) at \(entry.location)")
            guard block.header.number == entry.number else {
                throw LedgerError(
                    code: .corruptBlockFile,
                    message:
                        "the record at \(entry.location) holds block \(block.header.number), the index says \(entry.number)"
                )
            }
            expected = entry.number + 1
            lastHash = block.header.hash
            scanFile = entry.location.file
            scanOffset = entry.location.end
        }
        let indexedHeight = expected

        // 3. Every complete record past the index is an unindexed block; a torn tail is cut off.
        var unindexed: [UInt64: Unindexed] = [:]
        let numbers = try self.files.existingFileNumbers()
        var fileNumber = scanFile
        var cutAt: (file: Int, offset: Int64)?
        while true {
            if !self.files.fileExists(fileNumber) { break }
            let stop = try self.files.scan(file: fileNumber, from: scanOffset) {
                (location, bytes) throws(LedgerError) in
                let block = try Self.decode(bytes, what: "the record at \(location)")
                guard block.header.number == expected else {
                    throw LedgerError(
                        code: .corruptBlockFile,
                        message:
                            "the record at \(location) holds block \(block.header.number), expected block \(expected)"
                    )
                }
                if let lastHash, block.header.previousHash != lastHash {
                    throw LedgerError(
                        code: .corruptBlockFile,
                        message: "block \(expected) at \(location) does not chain to block \(expected - 1)"
                    )
                }
                let hash = block.header.hash
                unindexed[expected] = Unindexed(number: expected, location: location, headerHash: hash)
                lastHash = hash
                expected += 1
            }
            switch stop {
            case .cleanEnd:
                break
            case .tornTail(let offset):
                if numbers.contains(where: { $0 > fileNumber }) {
                    throw LedgerError(
                        code: .corruptBlockFile,
                        message:
                            "\(BlockFiles.name(fileNumber)) has a damaged record at \(offset) and later files exist"
                    )
                }
                cutAt = (fileNumber, offset)
            case .corrupt(let offset, let reason):
                throw LedgerError(
                    code: .corruptBlockFile,
                    message:
                        "\(BlockFiles.name(fileNumber)) at offset \(offset) (expected block \(expected)): \(reason)"
                )
            }
            if cutAt != nil { break }
            guard numbers.contains(fileNumber + 1) else { break }
            fileNumber += 1
            scanOffset = 0
        }
        if let cutAt {
            self.logger.warning(
                "cutting the torn tail of \(BlockFiles.name(cutAt.file)) at offset \(cutAt.offset) (an append was interrupted)"
            )
            try self.files.truncate(file: cutAt.file, to: cutAt.offset)
        } else {
            // Appends continue at the end of the last file holding data (later empty files are harmless).
            let lastFile = max(fileNumber, numbers.last ?? 0)
            let size = try self.files.file(lastFile, create: true).size()
            try self.files.truncate(file: lastFile, to: size)
        }
        self.tip.withLock { tip in
            tip.height = expected
            tip.indexedHeight = indexedHeight
            tip.lastHeaderHash = lastHash
            tip.unindexed = unindexed
        }
    }

    /// Stages again the tx index rows that may be missing from `tx_index`: those of the blocks from its recorded
    /// progress to the indexed height (a store written before the progress was recorded wrote every row at its
    /// block's commit).
    private func restageTxIndex() throws(LedgerError) {
        let indexed = self.indexedHeight
        let complete: UInt64 = try LedgerError.wrapping("cannot read the tx index's progress") {
            try self.database.read { db in
                try Int64.fetchOne(db, sql: "SELECT complete FROM tx_index_progress WHERE id = 0")
                    .map { UInt64(max(0, $0)) } ?? indexed
            }
        }
        guard complete < indexed else { return }
        for number in complete..<indexed {
            let block: Common_Block
            do {
                guard let read = try self.block(number: number) else { break }
                block = read
            } catch {
                // Opening still works with a damaged record (reading it is the error); its tx ids are unknown.
                self.logger.error(
                    "block \(number) cannot be read to stage its tx index rows (its tx ids are not indexed): \(error)"
                )
                continue
            }
            let rows = StagedTxIndex.rows(block: number, txIDs: Self.txIDs(of: block), filter: Self.filter(of: block))
            self.staged.withLock { staged in
                staged.admit(rows)
                staged.stage(rows)
            }
        }
        self.logger.debug("staged the tx index rows of blocks \(complete)..<\(indexed) again from the block files")
    }

    /// Adds the tx ids already in `tx_index` to the filter. An empty table is covered at once; otherwise a task
    /// reads the ids in key order, a chunk per read transaction (so no snapshot is held for long), while look-ups
    /// read the table as before. Rows committed meanwhile were admitted before they reached the table, so ids a
    /// later chunk's snapshot misses are in the filter already.
    private func loadTxIDFilter(chunk: Int) throws(LedgerError) {
        guard self.staged.withLock({ $0.filterNeedsLoading }) else { return }
        let empty = try LedgerError.wrapping("cannot read the tx index") {
            try self.database.read { db in try Int64.fetchOne(db, sql: "SELECT 1 FROM tx_index LIMIT 1") == nil }
        }
        if empty {
            self.staged.withLock { $0.filterLoaded() }
            return
        }
        let database = self.database
        let logger = self.logger
        let task = Task.detached(priority: .utility) { [weak self] in
            var after = ""
            var loaded = 0
            do {
                while !Task.isCancelled {
                    let start = after
                    let ids = try await database.read { db in
                        try String.fetchAll(
                            db,
                            sql: "SELECT DISTINCT txid FROM tx_index WHERE txid > ? ORDER BY txid LIMIT ?",
                            arguments: [start, chunk]
                        )
                    }
                    guard let last = ids.last, let store = self else { break }
                    store.staged.withLock { $0.admitStored(ids) }
                    loaded += ids.count
                    after = last
                }
                guard !Task.isCancelled, let store = self else { return }
                store.staged.withLock { $0.filterLoaded() }
                logger.debug("the tx-id filter holds the \(loaded) tx ids of the tx index")
            } catch {
                // The look-ups keep reading the table: slower, never wrong.
                logger.warning("cannot load the tx-id filter from the tx index (look-ups read the table): \(error)")
            }
        }
        self.filterLoad.withLock { $0 = task }
    }

    /// Waits until the tx-id filter has loaded the ids of `tx_index` (or given up); for tests.
    package func waitForTxIDFilter() async {
        let task = self.filterLoad.withLock { $0 }
        await task?.value
    }

    /// Whether the tx-id filter holds every id of `tx_index`, so that absent ids are answered without it.
    package var txIDFilterCovers: Bool { self.staged.withLock { $0.filterCovers } }

    /// Writes every staged tx index row to `tx_index` (on close, so that the next open has nothing to read
    /// again from the block files). Must not run beside a commit.
    package func writeStagedTxIndex() throws(LedgerError) {
        let height = self.indexedHeight
        guard height > 0, self.staged.withLock({ $0.rowCount > 0 }) else { return }
        let update = try LedgerError.wrapping("cannot write the staged tx index rows") {
            try self.database.write { db in
                let update = self.staged.withLock { $0.update(block: height - 1, rows: [], everyRange: true) }
                try self.write(update, db: db)
                return update
            }
        }
        self.staged.withLock { $0.apply(update) }
    }

    private struct IndexedEntry {
        var number: UInt64
        var location: BlockLocation
    }

    private func lastIndexed() throws(LedgerError) -> IndexedEntry? {
        try LedgerError.wrapping("cannot read the block index") {
            try self.database.read { db in
                try Row.fetchOne(
                    db,
                    sql: "SELECT number, file, offset, length FROM block_index ORDER BY number DESC LIMIT 1"
                ).map { row in
                    IndexedEntry(
                        number: UInt64(row[0] as Int64),
                        location: BlockLocation(file: row[1], offset: row[2], length: row[3])
                    )
                }
            }
        }
    }

    static func decode(_ bytes: Data, what: @autoclosure () -> String) throws(LedgerError) -> Common_Block {
        do {
            return try Common_Block(serializedBytes: bytes)
        } catch {
            throw LedgerError(code: .corruptBlockFile, message: "\(what()) does not decode as a block", cause: error)
        }
    }

    /// Blocks written to the files but not in the index, in order (left by a crash; replayed by the ledger).
    package var unindexedBlocks: [Unindexed] {
        self.tip.withLock { $0.unindexed.values.sorted { $0.number < $1.number } }
    }

    /// Indexes every unindexed block (stand-alone use; the ledger replays them with their state instead).
    public func indexUnindexedBlocks() throws(LedgerError) {
        for pending in self.unindexedBlocks {
            let block = try Self.decode(try self.files.read(pending.location), what: "block \(pending.number)")
            let update = try LedgerError.wrapping("cannot index block \(pending.number)") {
                try self.database.write { db in
                    try self.writeIndex(block: block, location: pending.location, txIDs: nil, db: db)
                }
            }
            self.didIndex(pending.number, update)
        }
    }

    // MARK: Appending

    /// The number of blocks in the store (indexed or not): the number the next block must have.
    public var height: UInt64 { self.tip.withLock { $0.height } }

    /// The number of blocks in the index.
    public var indexedHeight: UInt64 { self.tip.withLock { $0.indexedHeight } }

    /// The header hash of the last block, or nil when the store is empty.
    public var lastBlockHash: Data? { self.tip.withLock { $0.lastHeaderHash } }

    /// Checks that `block` can be appended: number, previous hash and data hash.
    public func checkAppendable(_ block: Common_Block) throws(LedgerError) {
        try self.checkAppendable(block, dataHash: .verify)
    }

    /// Whether an append check recomputes the block's data hash (SHA-256 over every transaction: megabytes for
    /// a full block) or relies on the caller, which checked this same block value on its way in.
    package enum DataHashCheck: Sendable {
        case verify
        case verifiedByCaller
    }

    /// Checks that `block` can be appended: number, previous hash and, unless the caller checked it, data hash.
    package func checkAppendable(_ block: Common_Block, dataHash check: DataHashCheck) throws(LedgerError) {
        let (height, lastHash) = self.tip.withLock { ($0.height, $0.lastHeaderHash) }
        let number = block.header.number
        guard number == height else {
            throw LedgerError(
                code: .blockNumberMismatch,
                message:
                    "block \(number) cannot be appended: the store's height is \(height), so the next block is \(height)"
            )
        }
        if let lastHash, block.header.previousHash != lastHash {
            throw LedgerError(
                code: .previousHashMismatch,
                message: "block \(number) has previous_hash \(block.header.previousHash.hexString), "
                    + "but block \(number - 1) hashes to \(lastHash.hexString)"
            )
        }
        guard check == .verify else { return }
        let dataHash = block.data.hash
        guard block.header.dataHash == dataHash else {
            throw LedgerError(
                code: .dataHashMismatch,
                message: "block \(number) has data_hash \(block.header.dataHash.hexString), "
                    + "but its data hashes to \(dataHash.hexString)"
            )
        }
    }

    /// The part of a block's record that does not depend on its metadata, compressed before the commit knows
    /// the metadata (``prepareRecord(_:)``): the serialized header and data, compressed as the first part of the
    /// record (one zstd frame or zlib stream; the metadata becomes the second).
    package struct PreparedRecord: Sendable {
        /// The block number.
        let number: UInt64
        /// The block's header.
        let header: Common_BlockHeader
        /// How `compressed` was compressed.
        let compression: BlockStoreConfiguration.Compression
        /// The serialized header and data fields, compressed.
        let compressed: Data
        /// The number of serialized header and data bytes.
        let uncompressedCount: Int
    }

    /// Serializes (``Common_Block/headerAndDataBytes()``) and compresses the header and data of `block` ahead of
    /// its commit, or nil when the store does not compress or the block's encoding would not split there (unknown
    /// fields). A protobuf message serializes its fields in field-number order, so the stored block's bytes are
    /// these followed by its metadata field.
    package func prepareRecord(_ block: Common_Block) -> PreparedRecord? {
        guard let compression = self.files.compression, let bytes = try? block.headerAndDataBytes(),
            let compressed = try? BlockFiles.compress(bytes, compression)
        else { return nil }
        return PreparedRecord(
            number: block.header.number,
            header: block.header,
            compression: compression,
            compressed: compressed,
            uncompressedCount: bytes.count
        )
    }

    /// Writes `block` to the files (flushed) without indexing it; the caller indexes it with
    /// ``writeIndex(block:location:txIDs:db:)`` in its own transaction and then calls ``didIndex(_:)``.
    ///
    /// - Parameter prepared: the block's header and data compressed ahead (``prepareRecord(_:)``); only the
    ///   metadata is compressed now. Ignored unless it was prepared from a block with this header.
    /// - Parameter dataHash: whether the block's data hash is checked here or was by the caller.
    package func appendRecord(
        _ block: Common_Block,
        prepared: PreparedRecord? = nil,
        dataHash: DataHashCheck = .verify
    ) throws(LedgerError) -> BlockLocation {
        try self.appendLock.withLock { (_) throws(LedgerError) -> BlockLocation in
            try self.appendRecordLocked(block, prepared: prepared, dataHash: dataHash)
        }
    }

    private func appendRecordLocked(
        _ block: Common_Block,
        prepared: PreparedRecord?,
        dataHash: DataHashCheck
    ) throws(LedgerError) -> BlockLocation {
        try self.checkAppendable(block, dataHash: dataHash)
        let location: BlockLocation
        if let prepared, prepared.compression == self.files.compression, prepared.number == block.header.number,
            prepared.header == block.header, block.unknownFields.data.isEmpty
        {
            var metadataOnly = Common_Block()
            metadataOnly.metadata = block.metadata
            let suffix: Data
            do {
                suffix = try metadataOnly.serializedBytes()
            } catch {
                throw LedgerError(
                    code: .malformedBlock,
                    message: "the metadata of block \(block.header.number) does not encode",
                    cause: error
                )
            }
            location = try self.files.append(
                record: try self.files.encodeRecord(
                    compressed: [prepared.compressed, try BlockFiles.compress(suffix, prepared.compression)],
                    prepared.compression,
                    rawLength: prepared.uncompressedCount + suffix.count
                )
            )
        } else {
            let bytes: Data
            do {
                bytes = try block.serializedBytes()
            } catch {
                throw LedgerError(
                    code: .malformedBlock,
                    message: "block \(block.header.number) does not encode",
                    cause: error
                )
            }
            location = try self.files.append(bytes)
        }
        let hash = block.header.hash
        self.tip.withLock { tip in
            tip.unindexed[block.header.number] = Unindexed(
                number: block.header.number,
                location: location,
                headerHash: hash
            )
            tip.height = block.header.number + 1
            tip.lastHeaderHash = hash
        }
        return location
    }

    /// Writes the index rows of `block` (at `location`) inside the caller's transaction: its block index row, and
    /// the tx index rows whose key range is due (``StagedTxIndex``). Pass the result to ``didIndex(_:_:)`` once
    /// the transaction has committed.
    ///
    /// - Parameter txIDs: the tx ids in block order when the caller has already decoded them ("" where the
    ///   envelope does not decode); computed from the block when nil.
    package func writeIndex(
        block: Common_Block,
        location: BlockLocation,
        txIDs: [String]?,
        db: Database
    ) throws -> StagedTxIndex.Update {
        let number = block.header.number
        try db.cachedStatement(
            sql:
                "INSERT OR REPLACE INTO block_index (number, file, offset, length, hash, tx_count) VALUES (?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [
            Int64(number), location.file, location.offset, location.length, block.header.hash, block.data.data.count,
        ])
        let rows = StagedTxIndex.rows(
            block: number,
            txIDs: txIDs ?? Self.txIDs(of: block),
            filter: Self.filter(of: block)
        )
        let update = self.staged.withLock { staged in
            staged.admit(rows)
            return staged.update(block: number, rows: rows)
        }
        try self.write(update, db: db)
        return update
    }

    /// Writes the rows `update` writes, and the progress it makes, inside the caller's transaction.
    private func write(_ update: StagedTxIndex.Update, db: Database) throws {
        let put = try PointQuery.Statement(db, "INSERT OR REPLACE INTO tx_index (txid, block, tx, code) VALUES (?, ?, ?, ?)")
        for row in update.written {
            try put.run([.text(row.id), .int64(Int64(row.block)), .int64(Int64(row.tx)), .int64(Int64(row.code))])
        }
        try PointQuery.execute(
            db,
            "INSERT OR REPLACE INTO tx_index_progress (id, complete) VALUES (0, ?)",
            [.int64(Int64(update.complete))]
        )
    }

    /// The TRANSACTIONS_FILTER of `block` (empty when its metadata has none).
    static func filter(of block: Common_Block) -> Data {
        let index = Int(Common_BlockMetadataIndex.transactionsFilter.rawValue)
        return block.metadata.metadata.count > index ? block.metadata.metadata[index] : Data()
    }

    /// Records that block `number` is now in the index (its transaction, which wrote `update`, has committed),
    /// and wakes readers waiting for it.
    package func didIndex(_ number: UInt64, _ update: StagedTxIndex.Update) {
        self.staged.withLock { $0.apply(update) }
        self.tip.withLock { tip in
            tip.unindexed.removeValue(forKey: number)
            tip.indexedHeight = max(tip.indexedHeight, number + 1)
        }
        let ready = self.waiters.withLock { waiters in
            let all = Array(waiters.waiting.values)
            waiters.waiting.removeAll()
            return all
        }
        for continuation in ready { continuation.resume() }
    }

    /// Appends `block` and indexes it (stand-alone use; the ledger indexes inside its state transaction).
    public func append(_ block: Common_Block) throws(LedgerError) {
        let location = try self.appendRecord(block)
        let update = try LedgerError.wrapping("cannot index block \(block.header.number)") {
            try self.database.write { db in
                try self.writeIndex(block: block, location: location, txIDs: nil, db: db)
            }
        }
        self.didIndex(block.header.number, update)
    }

    /// The tx ids of `block` in order, "" where an envelope or its headers do not decode.
    public static func txIDs(of block: Common_Block) -> [String] {
        block.data.data.map { bytes in
            (try? TransactionEnvelope(bytes: bytes))?.txID ?? ""
        }
    }

    // MARK: Reading

    /// The location of block `number`, or nil when the store does not hold it.
    package func location(of number: UInt64) throws(LedgerError) -> BlockLocation? {
        if let pending = self.tip.withLock({ $0.unindexed[number] }) { return pending.location }
        return try LedgerError.wrapping("cannot read the block index") {
            try self.database.read { db in
                try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT file, offset, length FROM block_index WHERE number = ?"),
                    arguments: [Int64(bitPattern: number)]
                ).map { row in BlockLocation(file: row[0], offset: row[1], length: row[2]) }
            }
        }
    }

    /// The serialized bytes of block `number` as stored, or nil when the store does not hold it.
    public func blockBytes(number: UInt64) throws(LedgerError) -> Data? {
        guard let location = try self.location(of: number) else { return nil }
        return try self.files.read(location)
    }

    /// Block `number`, or nil when the store does not hold it.
    public func block(number: UInt64) throws(LedgerError) -> Common_Block? {
        guard let bytes = try self.blockBytes(number: number) else { return nil }
        let block = try Self.decode(bytes, what: "block \(number)")
        guard block.header.number == number else {
            throw LedgerError(
                code: .corruptBlockFile,
                message: "the record indexed as block \(number) holds block \(block.header.number)"
            )
        }
        return block
    }

    /// The block whose header hashes to `hash`, or nil.
    public func block(hash: Data) throws(LedgerError) -> Common_Block? {
        if let pending = self.tip.withLock({ $0.unindexed.values.first { $0.headerHash == hash } }) {
            return try self.block(number: pending.number)
        }
        let number: Int64? = try LedgerError.wrapping("cannot read the block index") {
            try self.database.read { db in
                try Int64.fetchOne(db, sql: "SELECT number FROM block_index WHERE hash = ?", arguments: [hash])
            }
        }
        guard let number else { return nil }
        return try self.block(number: UInt64(number))
    }

    /// Every indexed occurrence of `txID`, in block order.
    public func transactionEntries(txID: String) throws(LedgerError) -> [TxIndexEntry] {
        // Staged rows first: a row leaves them only after the commit that wrote it to the table, so a snapshot
        // begun after this look-up has it.
        let staged = self.staged.withLock { $0.entries(txID) }
        let stored = try LedgerError.wrapping("cannot read the tx index") {
            try self.database.read { db in
                try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT block, tx, code FROM tx_index WHERE txid = ? ORDER BY block, tx"),
                    arguments: [txID]
                ).map { row in
                    TxIndexEntry(
                        blockNumber: UInt64(row[0] as Int64),
                        txNumber: UInt64(row[1] as Int64),
                        validationCode: Protos_TxValidationCode(rawValue: row[2]) ?? .invalidOtherReason
                    )
                }
            }
        }
        guard !staged.isEmpty else { return stored }
        // A row can be both staged and stored (written by the last commit, or staged again on open).
        var entries: [TxIndexEntry] = stored
        for entry in staged
        where !stored.contains(where: { $0.blockNumber == entry.blockNumber && $0.txNumber == entry.txNumber }) {
            entries.append(entry)
        }
        return entries.sorted { ($0.blockNumber, $0.txNumber) < ($1.blockNumber, $1.txNumber) }
    }

    /// Whether a transaction with `txID` has been committed (with any code).
    public func txIDExists(_ txID: String) throws(LedgerError) -> Bool {
        switch self.staged.withLock({ $0.presence(txID) }) {
        case .staged: return true
        case .absent: return false
        case .mayBeStored:
            return try LedgerError.wrapping("cannot read the tx index") {
                try self.database.read { db in try Self.storedTxIDExists(txID, db: db) }
            }
        }
    }

    /// Whether `txID` is in the tx index, read inside the caller's transaction (a snapshot that no commit has
    /// passed since it began: rows a commit wrote stay staged until the next one).
    package func txIDExists(_ txID: String, db: Database) throws -> Bool {
        switch self.staged.withLock({ $0.presence(txID) }) {
        case .staged: return true
        case .absent: return false
        case .mayBeStored: return try Self.storedTxIDExists(txID, db: db)
        }
    }

    private static func storedTxIDExists(_ txID: String, db: Database) throws -> Bool {
        try PointQuery.first(db, "SELECT 1 FROM tx_index WHERE txid = ? LIMIT 1", [.text(txID)]) { _ in true } ?? false
    }

    /// The envelope of the first committed transaction with `txID`, or nil.
    public func transactionEnvelope(txID: String) throws(LedgerError) -> Common_Envelope? {
        guard let entry = try self.transactionEntries(txID: txID).first,
            let block = try self.block(number: entry.blockNumber),
            Int(entry.txNumber) < block.data.data.count
        else { return nil }
        do {
            return try Common_Envelope(serializedBytes: block.data.data[Int(entry.txNumber)])
        } catch {
            throw LedgerError(
                code: .malformedBlock,
                message: "tx \(txID) in block \(entry.blockNumber) does not decode"
            )
        }
    }

    // MARK: Waiting

    /// Returns once the index holds more than `number` blocks, or the task is cancelled.
    func waitForIndexedHeight(above number: UInt64) async {
        let id = self.waiters.withLock { waiters -> Int in
            waiters.nextID += 1
            return waiters.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.waiters.withLock { waiters -> Bool in
                    if waiters.cancelled.remove(id) != nil { return true }
                    if self.indexedHeight > number { return true }
                    waiters.waiting[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = self.waiters.withLock { waiters -> CheckedContinuation<Void, Never>? in
                if let continuation = waiters.waiting.removeValue(forKey: id) { return continuation }
                waiters.cancelled.insert(id)
                return nil
            }
            continuation?.resume()
        }
    }

    /// The blocks from `number` on, in order; waits for blocks not yet committed and ends only when the task
    /// is cancelled.
    public func blocks(from number: UInt64) -> BlockSequence { BlockSequence(store: self, start: number) }
}
