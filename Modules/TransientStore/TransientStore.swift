public import Foundation
internal import GRDB
internal import SwiftProtobuf
internal import Synchronization
public import Wire

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Private simulation results one endorser persisted, with the block height at which they were received.
public struct EndorserPrivateSimulationResults: Sendable, Equatable {
    /// The ledger height when the results were persisted.
    public var receivedAtBlockHeight: UInt64
    /// The private write set with the collection configurations it was endorsed under.
    public var privateSimulationResults: Transientstore_TxPvtReadWriteSetWithConfigInfo
}

/// Which namespaces and collections a query returns: namespace → collections.
public struct TransientFilter: Sendable, Equatable {
    /// namespace → collections.
    public var collections: [String: Set<String>]

    /// Creates a filter.
    public init(_ collections: [String: Set<String>]) { self.collections = collections }

    func includes(_ namespace: String, _ collection: String) -> Bool {
        self.collections[namespace]?.contains(collection) ?? false
    }
}

/// The transient stores of all channels, in one SQLite database under a directory that only one provider
/// (process) may hold at a time.
///
/// Stores can be marked for deletion; the deletion completes immediately and, if interrupted, when the
/// provider is next opened.
public final class TransientStoreProvider: Sendable {
    let pool: DatabasePool
    private let lockDescriptor: Int32

    /// Opens (creating) the provider in `directory` (Fabric: `<fileSystemPath>/transientstore`).
    public init(directory: URL) throws(TransientStoreError) {
        try TransientStoreError.wrapping("cannot create \(directory.path)") {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        let lockPath = directory.appendingPathComponent("transientstore.lock").path
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw TransientStoreError(
                code: .locked,
                message: "\(directory.path) is held by another transient store provider"
            )
        }
        self.lockDescriptor = descriptor
        let path = directory.appendingPathComponent("transientstore.sqlite").path
        do {
            self.pool = try DatabasePool(path: path)
            try self.pool.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS entries (
                            id INTEGER PRIMARY KEY AUTOINCREMENT, ledger TEXT NOT NULL, txid TEXT NOT NULL,
                            height INTEGER NOT NULL, payload BLOB NOT NULL);
                        CREATE INDEX IF NOT EXISTS entries_txid ON entries(ledger, txid);
                        CREATE INDEX IF NOT EXISTS entries_height ON entries(ledger, height);
                        CREATE TABLE IF NOT EXISTS pending_deletions (ledger TEXT PRIMARY KEY);
                        """
                )
            }
        } catch {
            _ = flock(descriptor, LOCK_UN)
            close(descriptor)
            throw TransientStoreError(code: .storageFailure, message: "cannot open \(path)", cause: error)
        }
        try self.processPendingDeletions()
    }

    deinit {
        _ = flock(self.lockDescriptor, LOCK_UN)
        close(self.lockDescriptor)
    }

    /// The store of one channel.
    public func openStore(ledgerID: String) -> TransientStore { TransientStore(pool: self.pool, ledgerID: ledgerID) }

    /// Marks the store of `ledgerID` for deletion and deletes it.
    public func markStoreForDeletion(ledgerID: String) throws(TransientStoreError) {
        try TransientStoreError.wrapping("cannot mark \(ledgerID) for deletion") {
            try self.pool.write { db in
                try db.execute(
                    sql: "INSERT OR IGNORE INTO pending_deletions (ledger) VALUES (?)",
                    arguments: [ledgerID]
                )
            }
        }
        try self.processPendingDeletions()
    }

    /// The ledgers whose stores are marked for deletion and not yet deleted.
    public func pendingDeletions() throws(TransientStoreError) -> [String] {
        try TransientStoreError.wrapping("cannot read pending deletions") {
            try self.pool.read { db in
                try String.fetchAll(db, sql: "SELECT ledger FROM pending_deletions ORDER BY ledger")
            }
        }
    }

    /// Deletes every store marked for deletion.
    public func processPendingDeletions() throws(TransientStoreError) {
        try TransientStoreError.wrapping("cannot delete marked stores") {
            try self.pool.write { db in
                try db.execute(sql: "DELETE FROM entries WHERE ledger IN (SELECT ledger FROM pending_deletions)")
                try db.execute(sql: "DELETE FROM pending_deletions")
            }
        }
    }
}

/// The transient store of one channel: private simulation results kept between endorsement and commit,
/// keyed by tx id and the block height at which they arrived.
///
/// Several entries per tx id coexist (several endorsers, several pushes). After a block commits, its tx ids
/// are purged; entries received more than the retention below the current height are purged too.
public final class TransientStore: Sendable {
    let pool: DatabasePool
    /// The channel.
    public let ledgerID: String

    init(pool: DatabasePool, ledgerID: String) {
        self.pool = pool
        self.ledgerID = ledgerID
    }

    /// Persists `results` for `txID`, received at `blockHeight`.
    public func persist(
        txID: String,
        blockHeight: UInt64,
        privateSimulationResults results: Transientstore_TxPvtReadWriteSetWithConfigInfo
    ) throws(TransientStoreError) {
        var payload = Data([0])  // Fabric's marker of the "with config" format
        do {
            payload.append(try results.serializedBytes())
        } catch {
            throw TransientStoreError(
                code: .malformedEntry,
                message: "results of tx \(txID) do not encode",
                cause: error
            )
        }
        try self.insert(txID: txID, blockHeight: blockHeight, payload: payload)
    }

    /// Persists results in the format older peers wrote (a bare `TxPvtReadWriteSet`); kept for compatibility
    /// tests and migrations.
    public func persistLegacy(
        txID: String,
        blockHeight: UInt64,
        privateWriteSet: Rwset_TxPvtReadWriteSet
    )
        throws(TransientStoreError)
    {
        let payload: Data
        do {
            payload = try privateWriteSet.serializedBytes()
        } catch {
            throw TransientStoreError(
                code: .malformedEntry,
                message: "results of tx \(txID) do not encode",
                cause: error
            )
        }
        try self.insert(txID: txID, blockHeight: blockHeight, payload: payload)
    }

    private func insert(txID: String, blockHeight: UInt64, payload: Data) throws(TransientStoreError) {
        try TransientStoreError.wrapping("cannot persist private data of tx \(txID)") {
            try self.pool.write { db in
                try db.execute(
                    sql: "INSERT INTO entries (ledger, txid, height, payload) VALUES (?, ?, ?, ?)",
                    arguments: [self.ledgerID, txID, Int64(clamping: blockHeight), payload]
                )
            }
        }
    }

    /// Every entry persisted for `txID`, in persist order, trimmed to `filter` (nil: everything).
    public func privateData(
        txID: String,
        filter: TransientFilter? = nil
    ) throws(TransientStoreError)
        -> [EndorserPrivateSimulationResults]
    {
        let rows: [(Int64, Data)] = try TransientStoreError.wrapping("cannot read private data of tx \(txID)") {
            try self.pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT height, payload FROM entries WHERE ledger = ? AND txid = ? ORDER BY id",
                    arguments: [self.ledgerID, txID]
                ).map { ($0[0], $0[1]) }
            }
        }
        var result: [EndorserPrivateSimulationResults] = []
        for (height, payload) in rows {
            var message = try Self.decode(payload, txID: txID)
            if let filter { message = Self.trim(message, filter) }
            result.append(
                EndorserPrivateSimulationResults(
                    receivedAtBlockHeight: UInt64(height),
                    privateSimulationResults: message
                )
            )
        }
        return result
    }

    static func decode(
        _ payload: Data,
        txID: String
    ) throws(TransientStoreError)
        -> Transientstore_TxPvtReadWriteSetWithConfigInfo
    {
        do {
            if payload.first == 0 {
                return try Transientstore_TxPvtReadWriteSetWithConfigInfo(serializedBytes: payload.dropFirst())
            }
            var message = Transientstore_TxPvtReadWriteSetWithConfigInfo()
            message.pvtRwset = try Rwset_TxPvtReadWriteSet(serializedBytes: payload)
            return message
        } catch {
            throw TransientStoreError(
                code: .malformedEntry,
                message: "an entry of tx \(txID) does not decode",
                cause: error
            )
        }
    }

    /// Keeps only the namespaces and collections `filter` names, in the write set and the collection configs.
    static func trim(
        _ message: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        _ filter: TransientFilter
    ) -> Transientstore_TxPvtReadWriteSetWithConfigInfo {
        var trimmed = message
        if message.hasPvtRwset {
            var namespaces: [Rwset_NsPvtReadWriteSet] = []
            for ns in message.pvtRwset.nsPvtRwset {
                let collections = ns.collectionPvtRwset.filter { filter.includes(ns.namespace, $0.collectionName) }
                guard !collections.isEmpty else { continue }
                var kept = Rwset_NsPvtReadWriteSet()
                kept.namespace = ns.namespace
                kept.collectionPvtRwset = collections
                namespaces.append(kept)
            }
            if namespaces.isEmpty {
                trimmed.clearPvtRwset()
            } else {
                var set = Rwset_TxPvtReadWriteSet()
                set.dataModel = message.pvtRwset.dataModel
                set.nsPvtRwset = namespaces
                trimmed.pvtRwset = set
            }
        }
        var configs: [String: Protos_CollectionConfigPackage] = [:]
        for (namespace, package) in message.collectionConfigs {
            let kept = package.config.filter { filter.includes(namespace, $0.staticCollectionConfig.name) }
            guard !kept.isEmpty else { continue }
            var trimmedPackage = Protos_CollectionConfigPackage()
            trimmedPackage.config = kept
            configs[namespace] = trimmedPackage
        }
        trimmed.collectionConfigs = configs
        return trimmed
    }

    /// Deletes every entry of the given tx ids.
    public func purge(txIDs: [String]) throws(TransientStoreError) {
        guard !txIDs.isEmpty else { return }
        try TransientStoreError.wrapping("cannot purge \(txIDs.count) tx ids") {
            try self.pool.write { db in
                let statement = try db.cachedStatement(sql: "DELETE FROM entries WHERE ledger = ? AND txid = ?")
                for txID in txIDs { try statement.execute(arguments: [self.ledgerID, txID]) }
            }
        }
    }

    /// Deletes every entry received at a height below `height`.
    public func purge(belowHeight height: UInt64) throws(TransientStoreError) {
        try TransientStoreError.wrapping("cannot purge below height \(height)") {
            try self.pool.write { db in
                try db.execute(
                    sql: "DELETE FROM entries WHERE ledger = ? AND height < ?",
                    arguments: [self.ledgerID, Int64(clamping: height)]
                )
            }
        }
    }

    /// The smallest height among the entries; throws ``TransientStoreError/Code/noEntries`` when empty.
    public func minimumBlockHeight() throws(TransientStoreError) -> UInt64 {
        let height: Int64? = try TransientStoreError.wrapping("cannot read the minimum height") {
            try self.pool.read { db in
                try Int64.fetchOne(
                    db,
                    sql: "SELECT MIN(height) FROM entries WHERE ledger = ?",
                    arguments: [self.ledgerID]
                )
            }
        }
        guard let height else {
            throw TransientStoreError(
                code: .noEntries,
                message: "the transient store of \(self.ledgerID) has no entries"
            )
        }
        return UInt64(height)
    }
}
