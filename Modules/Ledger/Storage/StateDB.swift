public import Foundation
public import GRDB
internal import Wire

/// The world state of one channel in SQLite: public state, hashed private state, cleartext private state,
/// the schedule of private keys to expire, and the savepoint (the last block whose state is committed).
///
/// Keys are stored as BLOBs so that SQLite orders them byte-wise, as Fabric's LevelDB does; a range scan is an
/// index range on the primary key. Every write of a block goes through ``apply(_:savepoint:db:)`` inside the
/// caller's transaction, with cached prepared statements.
public final class StateDB: Sendable {
    /// The database holding the tables.
    public let database: DatabasePool

    /// Opens the state tables in `database`, creating them when absent.
    public init(database: DatabasePool) throws(LedgerError) {
        self.database = database
        try LedgerError.wrapping("cannot create the state tables") {
            try database.write { db in try Self.createTables(db) }
        }
    }

    static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS state (
                    ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                    block INTEGER NOT NULL, tx INTEGER NOT NULL, metadata BLOB,
                    PRIMARY KEY (ns, key)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS hashed_state (
                    ns TEXT NOT NULL, coll TEXT NOT NULL, key_hash BLOB NOT NULL, value_hash BLOB NOT NULL,
                    block INTEGER NOT NULL, tx INTEGER NOT NULL, metadata BLOB,
                    PRIMARY KEY (ns, coll, key_hash)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS private_state (
                    ns TEXT NOT NULL, coll TEXT NOT NULL, key BLOB NOT NULL, key_hash BLOB NOT NULL,
                    value BLOB NOT NULL, block INTEGER NOT NULL, tx INTEGER NOT NULL, metadata BLOB,
                    PRIMARY KEY (ns, coll, key)) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS private_state_hash ON private_state(ns, coll, key_hash);
                CREATE TABLE IF NOT EXISTS state_expiry (
                    expiring_block INTEGER NOT NULL, ns TEXT NOT NULL, coll TEXT NOT NULL, key_hash BLOB NOT NULL,
                    block INTEGER NOT NULL, tx INTEGER NOT NULL,
                    PRIMARY KEY (expiring_block, ns, coll, key_hash)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS savepoint (
                    id INTEGER PRIMARY KEY CHECK (id = 0), block INTEGER NOT NULL);
                """
        )
        // Only the rare rows that carry key-level metadata are in these, so they cost nothing on writes of plain
        // values and answer `hasKeyMetadata` without a scan.
        try db.execute(
            sql: """
                CREATE INDEX IF NOT EXISTS state_with_metadata ON state(ns) WHERE metadata IS NOT NULL;
                CREATE INDEX IF NOT EXISTS hashed_state_with_metadata ON hashed_state(ns, coll)
                    WHERE metadata IS NOT NULL;
                """
        )
        try CollectionConfigHistory.createTables(db)
    }

    // MARK: Reading (each opens a read transaction on a snapshot)

    /// The last block whose state is committed, or nil for an empty ledger.
    public func savepoint() throws(LedgerError) -> UInt64? {
        try self.read { db in try Self.savepoint(db) }
    }

    /// The committed value of public `key` in `namespace`.
    public func state(namespace: String, key: String) throws(LedgerError) -> VersionedValue? {
        try self.read { db in try Self.state(db, namespace, Data(key.utf8)) }
    }

    /// The committed value hash of `keyHash` in a collection.
    public func hashedState(
        namespace: String,
        collection: String,
        keyHash: Data
    ) throws(LedgerError)
        -> VersionedValue?
    {
        try self.read { db in try Self.hashedState(db, namespace, collection, keyHash) }
    }

    /// The committed cleartext value of private `key` in a collection (present only where this peer had the
    /// private data).
    public func privateState(
        namespace: String,
        collection: String,
        key: String
    ) throws(LedgerError)
        -> VersionedValue?
    {
        try self.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT value, metadata, block, tx FROM private_state WHERE ns = ? AND coll = ? AND key = ?"
                ),
                arguments: [namespace, collection, Data(key.utf8)]
            ).map(Self.versionedValue)
        }
    }

    /// The public keys of `namespace` in [startKey, endKey) in byte order (endKey "" means no upper bound).
    public func range(
        namespace: String,
        startKey: String,
        endKey: String
    ) throws(LedgerError)
        -> [(key: String, value: VersionedValue)]
    {
        try self.read { db in
            var result: [(key: String, value: VersionedValue)] = []
            let cursor = try Self.rangeCursor(db, namespace, start: Data(startKey.utf8), end: Data(endKey.utf8))
            while let row = try cursor.next() {
                let key: Data = row[0]
                result.append((String(decoding: key, as: UTF8.self), Self.versionedValue(row, offset: 1)))
            }
            return result
        }
    }

    /// SHA-256 over every row of every state table in key order: equal fingerprints mean equal state.
    public func fingerprint(includingPrivate: Bool = true) throws(LedgerError) -> Data {
        try self.read { db in
            let hasher = Wire.DigestHasher()
            let tables = [
                ("state", "ns, key"), ("hashed_state", "ns, coll, key_hash"), ("private_state", "ns, coll, key"),
                ("state_expiry", "expiring_block, ns, coll, key_hash"), ("savepoint", "id"),
            ]
            for (table, order) in tables where includingPrivate || table != "private_state" {
                let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM \(table) ORDER BY \(order)")
                while let row = try cursor.next() {
                    hasher.update(Data(table.utf8))
                    for value in row.databaseValues {
                        hasher.update(Data(String(describing: value).utf8))
                        hasher.update([0])
                    }
                }
            }
            return hasher.finalize()
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        try LedgerError.wrapping("cannot read the state database") { try self.database.read(body) }
    }

    // MARK: Queries inside a caller's transaction

    static func savepoint(_ db: Database) throws -> UInt64? {
        try Int64.fetchOne(db, sql: "SELECT block FROM savepoint WHERE id = 0").map { UInt64($0) }
    }

    static func versionedValue(_ row: Row) -> VersionedValue { versionedValue(row, offset: 0) }

    static func versionedValue(_ row: Row, offset: Int) -> VersionedValue {
        VersionedValue(
            value: row[offset],
            metadata: row[offset + 1],
            version: Height(blockNumber: UInt64(row[offset + 2] as Int64), txNumber: UInt64(row[offset + 3] as Int64))
        )
    }

    static func state(_ db: Database, _ namespace: String, _ key: Data) throws -> VersionedValue? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT value, metadata, block, tx FROM state WHERE ns = ? AND key = ?"),
            arguments: [namespace, key]
        ).map(versionedValue)
    }

    /// Whether any committed key of `namespace` (of `collection`'s hashed state when not empty) carries key-level
    /// metadata. False guarantees that every such key's metadata is absent, so callers may skip reading them one by
    /// one (one indexed look-up instead of one per written key).
    static func hasKeyMetadata(_ db: Database, _ namespace: String, _ collection: String) throws -> Bool {
        if collection.isEmpty {
            return try Bool.fetchOne(
                db.cachedStatement(
                    sql: "SELECT EXISTS (SELECT 1 FROM state WHERE ns = ? AND metadata IS NOT NULL)"
                ),
                arguments: [namespace]
            ) ?? true
        }
        return try Bool.fetchOne(
            db.cachedStatement(
                sql: "SELECT EXISTS (SELECT 1 FROM hashed_state WHERE ns = ? AND coll = ? AND metadata IS NOT NULL)"
            ),
            arguments: [namespace, collection]
        ) ?? true
    }

    /// Reads committed versions of public keys through one statement fetched once: MVCC reads one per key
    /// every valid transaction read.
    struct VersionReader {
        private let statement: PointQuery.Statement

        init(_ db: Database) throws {
            self.statement = try PointQuery.Statement(db, "SELECT block, tx FROM state WHERE ns = ? AND key = ?")
        }

        /// The committed version of `key` in `namespace`; nil when the key has no value.
        func version(_ namespace: String, _ key: Data) throws -> Height? {
            defer { self.statement.reset() }
            try self.statement.bind(.text(namespace), at: 1)
            try self.statement.bind(.blob(key), at: 2)
            return try self.statement.step() ? StateDB.height(self.statement.columns) : nil
        }
    }

    static func hashedState(
        _ db: Database,
        _ namespace: String,
        _ collection: String,
        _ keyHash: Data
    ) throws
        -> VersionedValue?
    {
        try Row.fetchOne(
            db.cachedStatement(
                sql:
                    "SELECT value_hash, metadata, block, tx FROM hashed_state WHERE ns = ? AND coll = ? AND key_hash = ?"
            ),
            arguments: [namespace, collection, keyHash]
        ).map(versionedValue)
    }

    static func hashedVersion(
        _ db: Database,
        _ namespace: String,
        _ collection: String,
        _ keyHash: Data
    ) throws
        -> Height?
    {
        try PointQuery.first(
            db,
            "SELECT block, tx FROM hashed_state WHERE ns = ? AND coll = ? AND key_hash = ?",
            [.text(namespace), .text(collection), .blob(keyHash)],
            read: Self.height
        )
    }

    /// The height in columns 0 and 1 of a point query's row.
    private static func height(_ row: PointQuery.Columns) -> Height {
        Height(blockNumber: UInt64(bitPattern: row.int64(0)), txNumber: UInt64(bitPattern: row.int64(1)))
    }

    /// Rows (key, value, metadata, block, tx) of `namespace` with keys in [start, end), end empty meaning no bound.
    static func rangeCursor(_ db: Database, _ namespace: String, start: Data, end: Data) throws -> RowCursor {
        if end.isEmpty {
            return try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT key, value, metadata, block, tx FROM state WHERE ns = ? AND key >= ? ORDER BY key"
                ),
                arguments: [namespace, start]
            )
        }
        return try Row.fetchCursor(
            db.cachedStatement(
                sql:
                    "SELECT key, value, metadata, block, tx FROM state WHERE ns = ? AND key >= ? AND key < ? ORDER BY key"
            ),
            arguments: [namespace, start, end]
        )
    }

    // MARK: Writing

    /// Writes `batch` and the savepoint `block` inside the caller's transaction, then removes the private keys
    /// that expire at `block` (unless rewritten since they were scheduled).
    package static func apply(
        _ batch: UpdateBatch,
        expiries: [ScheduledExpiry],
        savepoint block: UInt64,
        db: Database
    ) throws {
        // Public writes are most of a block's rows: one statement, fetched once, run per row through SQLite's C
        // API. (A multi-row `INSERT OR REPLACE … VALUES (…), (…)` was slower here: SQLite then deletes each
        // existing row and inserts it again, and most written keys exist; Docs/performance.md.)
        let put = try PointQuery.Statement(
            db,
            "INSERT OR REPLACE INTO state (ns, key, value, block, tx, metadata) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for (namespace, writes) in batch.publicWrites {
            for (key, write) in writes {
                if let value = write.value, !value.isEmpty {
                    try put.run([
                        .text(namespace), .blob(key), .blob(value), .int64(Int64(write.version.blockNumber)),
                        .int64(Int64(write.version.txNumber)), .blob(orNull: write.metadata),
                    ])
                } else {
                    try PointQuery.execute(
                        db,
                        "DELETE FROM state WHERE ns = ? AND key = ?",
                        [.text(namespace), .blob(key)]
                    )
                }
            }
        }
        let putHashed = try db.cachedStatement(
            sql:
                "INSERT OR REPLACE INTO hashed_state (ns, coll, key_hash, value_hash, block, tx, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        let deleteHashed = try db.cachedStatement(
            sql: "DELETE FROM hashed_state WHERE ns = ? AND coll = ? AND key_hash = ?"
        )
        for (namespace, collections) in batch.hashedWrites {
            for (collection, writes) in collections {
                for (keyHash, write) in writes {
                    if let value = write.value, !value.isEmpty {
                        try putHashed.execute(arguments: [
                            namespace, collection, keyHash, value, Int64(write.version.blockNumber),
                            Int64(write.version.txNumber), write.metadata,
                        ])
                    } else {
                        try deleteHashed.execute(arguments: [namespace, collection, keyHash])
                    }
                }
            }
        }
        let purgePrivate = try db.cachedStatement(
            sql: "DELETE FROM private_state WHERE ns = ? AND coll = ? AND key_hash = ?"
        )
        for purged in batch.purgedPrivateKeys {
            try purgePrivate.execute(arguments: [purged.namespace, purged.collection, purged.keyHash])
        }
        let putPrivate = try db.cachedStatement(
            sql:
                "INSERT OR REPLACE INTO private_state (ns, coll, key, key_hash, value, block, tx, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        let deletePrivate = try db.cachedStatement(
            sql: "DELETE FROM private_state WHERE ns = ? AND coll = ? AND key = ?"
        )
        for (namespace, collections) in batch.privateWrites {
            for (collection, writes) in collections {
                for (key, write) in writes {
                    if let value = write.value, !value.isEmpty {
                        try putPrivate.execute(arguments: [
                            namespace, collection, key, Wire.Digest.sha256(key), value,
                            Int64(write.version.blockNumber), Int64(write.version.txNumber), write.metadata,
                        ])
                    } else {
                        try deletePrivate.execute(arguments: [namespace, collection, key])
                    }
                }
            }
        }
        let schedule = try db.cachedStatement(
            sql:
                "INSERT OR REPLACE INTO state_expiry (expiring_block, ns, coll, key_hash, block, tx) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for expiry in expiries {
            try schedule.execute(arguments: [
                Int64(clamping: expiry.expiringBlock), expiry.namespace, expiry.collection, expiry.keyHash,
                Int64(expiry.version.blockNumber), Int64(expiry.version.txNumber),
            ])
        }
        try self.expire(upTo: block, db: db)
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO savepoint (id, block) VALUES (0, ?)")
            .execute(arguments: [Int64(block)])
    }

    /// Removes from hashed and private state every key scheduled to expire at or before `block` whose version
    /// is still the one that was scheduled.
    static func expire(upTo block: UInt64, db: Database) throws {
        let due = try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT ns, coll, key_hash, block, tx FROM state_expiry WHERE expiring_block <= ?"
            ),
            arguments: [Int64(block)]
        )
        guard !due.isEmpty else { return }
        let deleteHashed = try db.cachedStatement(
            sql: "DELETE FROM hashed_state WHERE ns = ? AND coll = ? AND key_hash = ? AND block = ? AND tx = ?"
        )
        let deletePrivate = try db.cachedStatement(
            sql: "DELETE FROM private_state WHERE ns = ? AND coll = ? AND key_hash = ? AND block = ? AND tx = ?"
        )
        for row in due {
            let namespace: String = row[0]
            let collection: String = row[1]
            let keyHash: Data = row[2]
            let version: (Int64, Int64) = (row[3], row[4])
            try deleteHashed.execute(arguments: [namespace, collection, keyHash, version.0, version.1])
            try deletePrivate.execute(arguments: [namespace, collection, keyHash, version.0, version.1])
        }
        try db.cachedStatement(sql: "DELETE FROM state_expiry WHERE expiring_block <= ?")
            .execute(arguments: [Int64(block)])
    }
}

/// A private key (by hash) whose hashed and private state must be removed when `expiringBlock` is committed.
package struct ScheduledExpiry: Sendable, Hashable {
    /// The block at whose commit the key expires.
    package var expiringBlock: UInt64
    /// The namespace.
    package var namespace: String
    /// The collection.
    package var collection: String
    /// SHA-256 of the key.
    package var keyHash: Data
    /// The version written; a later write of the key cancels the expiry.
    package var version: Height
}
