import Foundation
internal import GRDB

/// Fabric's combined iterator: the public keys of a namespace in [start, end) from committed state merged with
/// the block's earlier valid writes (which win on equal keys; deletes are skipped), then — when the transaction
/// did not exhaust its iterator, so that `end` is the last key it saw — the end key itself.
struct CombinedRangeIterator {
    private let db: Database
    private let batch: UpdateBatch
    private let namespace: String
    private let endKey: Data
    private let includeEndKey: Bool
    private let cursor: RowCursor
    private var dbItem: (key: Data, version: Height)?
    private let updates: [(key: Data, write: PendingWrite)]
    private var updateIndex = 0
    private var endKeyServed = false

    init(
        db: Database,
        batch: UpdateBatch,
        namespace: String,
        startKey: Data,
        endKey: Data,
        includeEndKey: Bool
    ) throws {
        self.db = db
        self.batch = batch
        self.namespace = namespace
        self.endKey = endKey
        self.includeEndKey = includeEndKey
        self.updates = batch.publicRange(namespace, start: startKey, end: endKey)
        self.cursor = try StateDB.rangeCursor(db, namespace, start: startKey, end: endKey)
        try self.advanceDB()
    }

    private mutating func advanceDB() throws {
        guard let row = try self.cursor.next() else {
            self.dbItem = nil
            return
        }
        self.dbItem = (row[0], Height(blockNumber: UInt64(row[3] as Int64), txNumber: UInt64(row[4] as Int64)))
    }

    mutating func next() throws -> (Data, Height)? {
        while true {
            let update = self.updateIndex < self.updates.count ? self.updates[self.updateIndex] : nil
            switch (self.dbItem, update) {
            case (nil, nil):
                return try self.serveEndKey()
            case (let item?, nil):
                try self.advanceDB()
                return (item.key, item.version)
            case (nil, let update?):
                self.updateIndex += 1
                if update.write.isDelete { continue }
                return (update.key, update.write.version)
            case (let item?, let update?):
                if item.key.lexicographicallyPrecedes(update.key) {
                    try self.advanceDB()
                    return (item.key, item.version)
                }
                if item.key == update.key { try self.advanceDB() }
                self.updateIndex += 1
                if update.write.isDelete { continue }
                return (update.key, update.write.version)
            }
        }
    }

    private mutating func serveEndKey() throws -> (Data, Height)? {
        guard self.includeEndKey, !self.endKeyServed else { return nil }
        self.endKeyServed = true
        if let write = self.batch.publicWrite(self.namespace, self.endKey) {
            return write.isDelete ? nil : (self.endKey, write.version)
        }
        guard let committed = try StateDB.state(self.db, self.namespace, self.endKey) else { return nil }
        return (self.endKey, committed.version)
    }
}
