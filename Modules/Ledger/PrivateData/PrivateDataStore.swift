package import Foundation
public import GRDB
internal import SwiftProtobuf
internal import Wire

/// The private data store of one channel, in SQLite: the cleartext private write sets per block, tx,
/// namespace and collection, with the block at which each expires (block-to-live), and the records of private
/// data this peer is missing (eligible or ineligible), which the reconciler asks for most recent first.
///
/// Expired data is omitted from queries as soon as its expiring block is committed and physically deleted every
/// `purgeInterval` blocks. The ledger writes a block's private data in its own transaction *before* the block is
/// appended (``stage(blockNumber:data:missing:db:)``), and marks the block committed inside the state
/// transaction (``markCommitted(_:purgeInterval:db:)``), so a crash in between leaves the data for the replay.
public final class PrivateDataStore: Sendable {
    /// One row to store: the rwset bytes of one collection of one tx, and when they expire.
    package struct Entry: Sendable {
        /// The transaction's index in the block.
        package var txIndex: UInt64
        /// The namespace.
        package var namespace: String
        /// The collection.
        package var collection: String
        /// The collection's KVRWSet bytes, exactly as hashed into the block.
        package var rwset: Data
        /// The block at whose commit the data expires.
        package var expiringBlock: UInt64

        /// Creates an entry.
        package init(txIndex: UInt64, namespace: String, collection: String, rwset: Data, expiringBlock: UInt64) {
            self.txIndex = txIndex
            self.namespace = namespace
            self.collection = collection
            self.rwset = rwset
            self.expiringBlock = expiringBlock
        }
    }

    /// A missing-data record with its expiry.
    package struct MissingEntry: Sendable {
        /// The missing collection.
        package var missing: MissingPrivateData
        /// The block at whose commit the record expires.
        package var expiringBlock: UInt64

        /// Creates a record.
        package init(missing: MissingPrivateData, expiringBlock: UInt64) {
            self.missing = missing
            self.expiringBlock = expiringBlock
        }
    }

    /// The database holding the tables.
    public let database: DatabasePool
    /// Expired data is deleted when a block whose number is a multiple of this is committed (Fabric: 100).
    public let purgeInterval: UInt64

    /// Opens the store's tables in `database`, creating them when absent.
    public init(database: DatabasePool, purgeInterval: UInt64 = 100) throws(LedgerError) {
        self.database = database
        self.purgeInterval = max(purgeInterval, 1)
        try LedgerError.wrapping("cannot create the private data tables") {
            try database.write { db in try Self.createTables(db) }
        }
    }

    static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS pvt_data (
                    block INTEGER NOT NULL, tx INTEGER NOT NULL, ns TEXT NOT NULL, coll TEXT NOT NULL,
                    rwset BLOB NOT NULL, expiring_block INTEGER NOT NULL,
                    PRIMARY KEY (block, tx, ns, coll)) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS pvt_data_expiry ON pvt_data(expiring_block);
                CREATE TABLE IF NOT EXISTS pvt_missing (
                    block INTEGER NOT NULL, tx INTEGER NOT NULL, ns TEXT NOT NULL, coll TEXT NOT NULL,
                    eligible INTEGER NOT NULL, deprioritized INTEGER NOT NULL DEFAULT 0,
                    expiring_block INTEGER NOT NULL,
                    PRIMARY KEY (block, tx, ns, coll)) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS pvt_missing_recent ON pvt_missing(eligible, deprioritized, block DESC);
                CREATE TABLE IF NOT EXISTS pvt_meta (
                    id INTEGER PRIMARY KEY CHECK (id = 0), last_committed INTEGER, staged INTEGER);
                INSERT OR IGNORE INTO pvt_meta (id, last_committed, staged) VALUES (0, NULL, NULL);
                """
        )
    }

    // MARK: Writing

    /// The last block the store holds as committed, or nil when none.
    public func lastCommittedBlock() throws(LedgerError) -> UInt64? {
        try self.read { db in try Self.meta(db).lastCommitted }
    }

    /// The block whose data was staged but not yet marked committed (a crash between the two), or nil.
    public func stagedBlock() throws(LedgerError) -> UInt64? {
        try self.read { db in try Self.meta(db).staged }
    }

    static func meta(_ db: Database) throws -> (lastCommitted: UInt64?, staged: UInt64?) {
        guard let row = try Row.fetchOne(db, sql: "SELECT last_committed, staged FROM pvt_meta WHERE id = 0") else {
            return (nil, nil)
        }
        let last: Int64? = row[0]
        let staged: Int64? = row[1]
        return (last.map { UInt64($0) }, staged.map { UInt64($0) })
    }

    /// Writes the private data and missing-data records of block `blockNumber`, replacing any staged earlier
    /// for it, and records the block as staged.
    package static func stage(blockNumber: UInt64, data: [Entry], missing: [MissingEntry], db: Database) throws {
        let number = Int64(blockNumber)
        try db.execute(sql: "DELETE FROM pvt_data WHERE block = ?", arguments: [number])
        try db.execute(sql: "DELETE FROM pvt_missing WHERE block = ?", arguments: [number])
        let insert = try db.cachedStatement(
            sql:
                "INSERT OR REPLACE INTO pvt_data (block, tx, ns, coll, rwset, expiring_block) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for entry in data {
            try insert.execute(arguments: [
                number, Int64(entry.txIndex), entry.namespace, entry.collection, entry.rwset,
                Int64(clamping: entry.expiringBlock),
            ])
        }
        let insertMissing = try db.cachedStatement(
            sql:
                "INSERT OR REPLACE INTO pvt_missing (block, tx, ns, coll, eligible, expiring_block) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for entry in missing {
            try insertMissing.execute(arguments: [
                number, Int64(entry.missing.txIndex), entry.missing.namespace, entry.missing.collection,
                entry.missing.isEligible, Int64(clamping: entry.expiringBlock),
            ])
        }
        try db.execute(sql: "UPDATE pvt_meta SET staged = ? WHERE id = 0", arguments: [number])
    }

    /// Records block `blockNumber` as committed and, every `purgeInterval` blocks, deletes expired data.
    package static func markCommitted(_ blockNumber: UInt64, purgeInterval: UInt64, db: Database) throws {
        try db.cachedStatement(sql: "UPDATE pvt_meta SET last_committed = ?, staged = NULL WHERE id = 0")
            .execute(arguments: [Int64(blockNumber)])
        if blockNumber % purgeInterval == 0 {
            try Self.purge(upTo: blockNumber, db: db)
        }
    }

    /// Removes app-purged keys from the private write sets stored at lower heights than their purge (Fabric's
    /// purge markers, applied at once): writes and reads of the key are dropped from each collection rwset, and a
    /// rwset left empty is deleted.
    package static func removePurgedKeys(_ keys: [PurgedPrivateKey], db: Database) throws {
        guard !keys.isEmpty else { return }
        let select = try db.cachedStatement(
            sql: """
                SELECT block, tx, rwset FROM pvt_data
                WHERE ns = ? AND coll = ? AND (block < ? OR (block = ? AND tx < ?))
                """
        )
        let update = try db.cachedStatement(
            sql: "UPDATE pvt_data SET rwset = ? WHERE block = ? AND tx = ? AND ns = ? AND coll = ?"
        )
        let delete = try db.cachedStatement(
            sql: "DELETE FROM pvt_data WHERE block = ? AND tx = ? AND ns = ? AND coll = ?"
        )
        for key in keys {
            let block = Int64(key.height.blockNumber)
            let rows = try Row.fetchAll(
                select,
                arguments: [key.namespace, key.collection, block, block, Int64(key.height.txNumber)]
            )
            for row in rows {
                let bytes: Data = row[2]
                guard var kv = try? Kvrwset_KVRWSet(serializedBytes: bytes) else { continue }
                let matches = { (name: String) in Digest.sha256(Data(name.utf8)) == key.keyHash }
                guard kv.writes.contains(where: { matches($0.key) }) || kv.reads.contains(where: { matches($0.key) })
                else { continue }
                kv.writes.removeAll { matches($0.key) }
                kv.reads.removeAll { matches($0.key) }
                let arguments: StatementArguments = [row[0] as Int64, row[1] as Int64, key.namespace, key.collection]
                if kv.writes.isEmpty && kv.reads.isEmpty && kv.rangeQueriesInfo.isEmpty && kv.metadataWrites.isEmpty {
                    try delete.execute(arguments: arguments)
                } else {
                    try update.execute(arguments: [try kv.serializedBytes() as Data] + arguments)
                }
            }
        }
    }

    static func purge(upTo blockNumber: UInt64, db: Database) throws {
        try db.execute(sql: "DELETE FROM pvt_data WHERE expiring_block <= ?", arguments: [Int64(blockNumber)])
        try db.execute(sql: "DELETE FROM pvt_missing WHERE expiring_block <= ?", arguments: [Int64(blockNumber)])
    }

    /// Stores the private data of block `blockNumber` (stand-alone use; the ledger stages and marks inside its
    /// commit). The block must be the next one after ``lastCommittedBlock()``.
    ///
    /// - Parameter expiringBlock: the block at which a collection's data expires (see ``BlockToLive``).
    public func commit(
        blockNumber: UInt64,
        privateData: [TxPrivateData],
        missing: [MissingPrivateData] = [],
        expiringBlock: (_ namespace: String, _ collection: String) -> UInt64 = { _, _ in UInt64.max }
    ) throws(LedgerError) {
        let expected = try self.lastCommittedBlock().map { $0 + 1 } ?? 0
        guard blockNumber == expected else {
            throw LedgerError(
                code: .privateDataOutOfOrder,
                message:
                    "private data of block \(blockNumber) cannot be committed: the next expected block is \(expected)"
            )
        }
        let entries = Self.entries(privateData, expiringBlock: expiringBlock)
        let missingEntries = missing.map {
            MissingEntry(missing: $0, expiringBlock: expiringBlock($0.namespace, $0.collection))
        }
        try LedgerError.wrapping("cannot commit the private data of block \(blockNumber)") {
            try self.database.write { db in
                try Self.stage(blockNumber: blockNumber, data: entries, missing: missingEntries, db: db)
                try Self.markCommitted(blockNumber, purgeInterval: self.purgeInterval, db: db)
            }
        }
    }

    /// The rows of `privateData`, each with its expiring block.
    package static func entries(
        _ privateData: [TxPrivateData],
        expiringBlock: (String, String) -> UInt64
    ) -> [Entry] {
        privateData.flatMap { tx in
            tx.writeSet.flattened.map { item in
                Entry(
                    txIndex: tx.txIndex,
                    namespace: item.namespace,
                    collection: item.collection,
                    rwset: item.rwset,
                    expiringBlock: expiringBlock(item.namespace, item.collection)
                )
            }
        }
    }

    /// Adds reconciled private data of an already committed block and removes the matching missing records.
    public func storeReconciled(
        blockNumber: UInt64,
        privateData: [TxPrivateData],
        expiringBlock: (_ namespace: String, _ collection: String) -> UInt64 = { _, _ in UInt64.max }
    ) throws(LedgerError) {
        let entries = Self.entries(privateData, expiringBlock: expiringBlock)
        try LedgerError.wrapping("cannot store reconciled private data of block \(blockNumber)") {
            try self.database.write { db in
                let insert = try db.cachedStatement(
                    sql:
                        "INSERT OR REPLACE INTO pvt_data (block, tx, ns, coll, rwset, expiring_block) VALUES (?, ?, ?, ?, ?, ?)"
                )
                let remove = try db.cachedStatement(
                    sql: "DELETE FROM pvt_missing WHERE block = ? AND tx = ? AND ns = ? AND coll = ?"
                )
                for entry in entries {
                    let arguments: StatementArguments = [
                        Int64(blockNumber), Int64(entry.txIndex), entry.namespace, entry.collection,
                    ]
                    try insert.execute(arguments: arguments + [entry.rwset, Int64(clamping: entry.expiringBlock)])
                    try remove.execute(arguments: arguments)
                }
            }
        }
    }

    /// Moves missing records of (namespace, collection) to the deprioritized list (reconciliation failed for
    /// them, for example a hash mismatch); ``missingData(mostRecentBlocks:deprioritized:)`` serves them separately.
    public func deprioritize(
        blockNumber: UInt64,
        txIndex: UInt64,
        namespace: String,
        collection: String
    )
        throws(LedgerError)
    {
        try LedgerError.wrapping("cannot deprioritize missing data") {
            try self.database.write { db in
                try db.execute(
                    sql: "UPDATE pvt_missing SET deprioritized = 1 WHERE block = ? AND tx = ? AND ns = ? AND coll = ?",
                    arguments: [Int64(blockNumber), Int64(txIndex), namespace, collection]
                )
            }
        }
    }

    /// Turns the ineligible missing records of (namespace, collection) into eligible ones (this organisation
    /// became a member of the collection); returns how many were converted.
    @discardableResult
    public func makeEligible(namespace: String, collection: String) throws(LedgerError) -> Int {
        try LedgerError.wrapping("cannot convert ineligible missing data of \(namespace)/\(collection)") {
            try self.database.write { db in
                try db.execute(
                    sql: "UPDATE pvt_missing SET eligible = 1 WHERE eligible = 0 AND ns = ? AND coll = ?",
                    arguments: [namespace, collection]
                )
                return db.changesCount
            }
        }
    }

    /// The (namespace, collection) pairs that have ineligible missing records, expired or not.
    public func ineligibleCollections() throws(LedgerError) -> [(namespace: String, collection: String)] {
        try self.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT DISTINCT ns, coll FROM pvt_missing WHERE eligible = 0 ORDER BY ns, coll"
            ).map { (namespace: $0[0], collection: $0[1]) }
        }
    }

    // MARK: Reading

    /// The private data of block `blockNumber`, by tx, omitting expired data and what `filter` leaves out.
    public func privateData(
        block blockNumber: UInt64,
        filter: PrivateDataFilter? = nil
    ) throws(LedgerError)
        -> [TxPrivateData]
    {
        try self.read { db in
            let last = try Self.meta(db).lastCommitted
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql:
                        "SELECT tx, ns, coll, rwset, expiring_block FROM pvt_data WHERE block = ? ORDER BY tx, ns, coll"
                ),
                arguments: [Int64(blockNumber)]
            )
            var result: [TxPrivateData] = []
            for row in rows {
                let tx = UInt64(row[0] as Int64)
                let namespace: String = row[1]
                let collection: String = row[2]
                let expiring = UInt64(row[4] as Int64)
                if let last, expiring <= last { continue }
                if let filter, !filter.includes(namespace: namespace, collection: collection) { continue }
                var collectionSet = Rwset_CollectionPvtReadWriteSet()
                collectionSet.collectionName = collection
                collectionSet.rwset = row[3]
                if result.last?.txIndex != tx {
                    result.append(TxPrivateData(txIndex: tx, writeSet: Rwset_TxPvtReadWriteSet()))
                }
                var writeSet = result[result.count - 1].writeSet
                if writeSet.nsPvtRwset.last?.namespace != namespace {
                    var ns = Rwset_NsPvtReadWriteSet()
                    ns.namespace = namespace
                    writeSet.nsPvtRwset.append(ns)
                }
                writeSet.nsPvtRwset[writeSet.nsPvtRwset.count - 1].collectionPvtRwset.append(collectionSet)
                result[result.count - 1].writeSet = writeSet
            }
            return result
        }
    }

    /// Whether the store holds any private data rows of block `blockNumber` (expired or not).
    public func hasData(block blockNumber: UInt64) throws(LedgerError) -> Bool {
        try self.read { db in
            try Bool.fetchOne(
                db,
                sql: "SELECT EXISTS (SELECT 1 FROM pvt_data WHERE block = ?)",
                arguments: [Int64(blockNumber)]
            ) ?? false
        }
    }

    /// The eligible missing private data of the most recent blocks first, at most `maxBlocks` blocks, omitting
    /// expired entries; `deprioritized` selects the list of entries whose reconciliation failed before.
    public func missingData(
        mostRecentBlocks maxBlocks: Int,
        deprioritized: Bool = false
    ) throws(LedgerError)
        -> [MissingBlockPrivateData]
    {
        try self.missing(eligible: true, deprioritized: deprioritized, maxBlocks: maxBlocks)
    }

    /// The ineligible missing private data, most recent blocks first, at most `maxBlocks` blocks.
    public func ineligibleMissingData(mostRecentBlocks maxBlocks: Int) throws(LedgerError) -> [MissingBlockPrivateData]
    {
        try self.missing(eligible: false, deprioritized: nil, maxBlocks: maxBlocks)
    }

    private func missing(
        eligible: Bool,
        deprioritized: Bool?,
        maxBlocks: Int
    ) throws(LedgerError)
        -> [MissingBlockPrivateData]
    {
        guard maxBlocks > 0 else { return [] }
        return try self.read { db in
            let last = try Self.meta(db).lastCommitted.map { Int64($0) } ?? -1
            var sql = "SELECT block, tx, ns, coll FROM pvt_missing WHERE eligible = ? AND expiring_block > ?"
            var arguments: StatementArguments = [eligible, last]
            if let deprioritized {
                sql += " AND deprioritized = ?"
                arguments += [deprioritized]
            }
            sql += " ORDER BY block DESC, tx, ns, coll"
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            var result: [MissingBlockPrivateData] = []
            while let row = try cursor.next() {
                let block = UInt64(row[0] as Int64)
                if result.last?.blockNumber != block {
                    if result.count == maxBlocks { break }
                    result.append(MissingBlockPrivateData(blockNumber: block, entries: []))
                }
                result[result.count - 1].entries.append(
                    MissingPrivateData(
                        txIndex: UInt64(row[1] as Int64),
                        namespace: row[2],
                        collection: row[3],
                        isEligible: eligible
                    )
                )
            }
            return result
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        try LedgerError.wrapping("cannot read the private data store") { try self.database.read(body) }
    }
}
