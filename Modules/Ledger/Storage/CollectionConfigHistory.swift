public import Foundation
internal import GRDB
internal import SwiftProtobuf
internal import Wire

/// A chaincode's collection configuration as committed at one block (Fabric's `CollectionConfigInfo`): in effect
/// for the blocks after `blockNumber`, until the next record of the same namespace.
public struct CollectionConfigRecord: Sendable, Equatable {
    /// The chaincode (namespace).
    public var namespace: String
    /// The block whose commit wrote the configuration.
    public var blockNumber: UInt64
    /// The serialized `CollectionConfigPackage` (empty: the definition has no collections).
    public var package: Data

    /// Creates a record.
    public init(namespace: String, blockNumber: UInt64, package: Data) {
        self.namespace = namespace
        self.blockNumber = blockNumber
        self.package = package
    }
}

/// The collection configuration history of a channel (Fabric's `confighistory`), in the ledger's SQLite database:
/// one row per (namespace, block) whose valid transactions wrote a chaincode's collections, either through
/// `_lifecycle` (`namespaces/fields/<cc>/Collections`, a `StateData` holding the package bytes) or through the
/// legacy `lscc` (`<cc>~collection`, the package bytes). Rows are written in the block's state transaction, so a
/// replayed block writes them again and a crash never leaves them out of step with the state.
enum CollectionConfigHistory {
    static let lifecyclePrefix = "namespaces/fields/"
    static let lifecycleSuffix = "/Collections"
    static let legacySuffix = "~collection"

    static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS collection_config_history (
                    ns TEXT NOT NULL, block INTEGER NOT NULL, package BLOB NOT NULL,
                    PRIMARY KEY (ns, block)) WITHOUT ROWID;
                """
        )
    }

    /// The collection configurations the valid transactions of a block wrote, by namespace.
    static func updates(in batch: UpdateBatch) -> [String: Data] {
        var result: [String: Data] = [:]
        for (key, write) in batch.publicWrites[ChaincodeDefinitions.lifecycleNamespace] ?? [:] {
            guard let name = String(data: key, encoding: .utf8), name.hasPrefix(Self.lifecyclePrefix),
                name.hasSuffix(Self.lifecycleSuffix)
            else { continue }
            let namespace = String(name.dropFirst(Self.lifecyclePrefix.count).dropLast(Self.lifecycleSuffix.count))
            guard !namespace.isEmpty, !namespace.contains("/") else { continue }
            // A StateData whose bytes are empty (an empty package) decodes with no type: no collections. One that
            // does not decode is not recorded, rather than recorded as "no collections": lookups then fall back to
            // the configuration before it, and reading the latest one reports the undecodable value.
            var package = Data()
            if let value = write.value {
                guard let data = try? Lifecycle_StateData(serializedBytes: value) else { continue }
                if case .bytes(let bytes)? = data.type { package = bytes }
            }
            result[namespace] = package
        }
        for (key, write) in batch.publicWrites["lscc"] ?? [:] {
            guard let name = String(data: key, encoding: .utf8), name.hasSuffix(Self.legacySuffix) else { continue }
            let namespace = String(name.dropLast(Self.legacySuffix.count))
            guard !namespace.isEmpty, result[namespace] == nil else { continue }
            result[namespace] = write.value ?? Data()
        }
        return result
    }

    /// Records the configurations `batch` wrote at `block`, inside the caller's transaction.
    static func record(_ batch: UpdateBatch, block: UInt64, db: Database) throws {
        let updates = Self.updates(in: batch)
        guard !updates.isEmpty else { return }
        let insert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO collection_config_history (ns, block, package) VALUES (?, ?, ?)"
        )
        for (namespace, package) in updates {
            try insert.execute(arguments: [namespace, Int64(block), package])
        }
    }

    static func records(_ db: Database, sql: String, arguments: StatementArguments) throws -> [CollectionConfigRecord] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            CollectionConfigRecord(namespace: row[0], blockNumber: UInt64(row[1] as Int64), package: row[2])
        }
    }
}

extension PeerLedger {
    /// The most recent collection configuration of `namespace` committed at a block below `blockNumber` (Fabric's
    /// `MostRecentCollectionConfigBelow`): the one in effect when block `blockNumber` was validated. Nil when
    /// none was committed below it.
    public func collectionConfig(
        namespace: String,
        below blockNumber: UInt64
    ) throws(LedgerError) -> CollectionConfigRecord? {
        try self.readHistory { db in
            try CollectionConfigHistory.records(
                db,
                sql: """
                    SELECT ns, block, package FROM collection_config_history
                    WHERE ns = ? AND block < ? ORDER BY block DESC LIMIT 1
                    """,
                arguments: [namespace, Int64(clamping: blockNumber)]
            ).first
        }
    }

    /// Whether any collection configuration of `namespace` was recorded (a ledger made before the history existed
    /// has none for definitions committed then).
    public func hasCollectionConfigHistory(namespace: String) throws(LedgerError) -> Bool {
        try self.readHistory { db in
            try Bool.fetchOne(
                db,
                sql: "SELECT EXISTS (SELECT 1 FROM collection_config_history WHERE ns = ?)",
                arguments: [namespace]
            ) ?? false
        }
    }

    /// The collection configurations committed at block `blockNumber`.
    public func collectionConfigUpdates(block blockNumber: UInt64) throws(LedgerError) -> [CollectionConfigRecord] {
        try self.readHistory { db in
            try CollectionConfigHistory.records(
                db,
                sql: "SELECT ns, block, package FROM collection_config_history WHERE block = ? ORDER BY ns",
                arguments: [Int64(clamping: blockNumber)]
            )
        }
    }

    private func readHistory<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        try LedgerError.wrapping("cannot read the collection configuration history of \(self.ledgerID)") {
            try self.database.read(body)
        }
    }
}
