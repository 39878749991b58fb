import Foundation
internal import GRDB

/// The validator's view of a ledger.
struct LedgerValidationContext: ValidationContext {
    let ledger: PeerLedger

    var height: UInt64 { self.ledger.height }

    func txIDExists(_ txID: String) throws -> Bool { try self.ledger.txIDExists(txID) }

    func state(namespace: String, key: String) throws -> VersionedValue? {
        try self.ledger.state(namespace: namespace, key: key)
    }

    func hashedState(namespace: String, collection: String, keyHash: Data) throws -> VersionedValue? {
        try self.ledger.hashedState(namespace: namespace, collection: collection, keyHash: keyHash)
    }

    /// One SQLite read transaction (a WAL snapshot) for all of `body`'s reads.
    func withSnapshot<T>(_ body: (any ValidationSnapshot) throws -> T) throws -> T {
        try self.ledger.database.read { db in
            try body(DatabaseValidationSnapshot(db: db, blockStore: self.ledger.blockStore))
        }
    }
}

/// Committed state and the tx-id index read through one open read transaction, with cached statements.
struct DatabaseValidationSnapshot: ValidationSnapshot {
    let db: Database
    /// The block store whose tx index ``txIDExists(_:)`` reads (its staged rows, then `db`).
    let blockStore: BlockStore
    /// Answers of ``mayHaveKeyMetadata(namespace:collection:)`` on this snapshot (a snapshot is used by one
    /// thread, for one slice of one block).
    private let metadataPresence = KeyMetadataPresence()

    init(db: Database, blockStore: BlockStore) {
        self.db = db
        self.blockStore = blockStore
    }

    func mayHaveKeyMetadata(namespace: String, collection: String) throws -> Bool {
        try self.metadataPresence.answer(namespace, collection) {
            try StateDB.hasKeyMetadata(self.db, namespace, collection)
        }
    }

    func txIDExists(_ txID: String) throws -> Bool { try self.blockStore.txIDExists(txID, db: self.db) }

    func state(namespace: String, key: String) throws -> VersionedValue? {
        try StateDB.state(self.db, namespace, Data(key.utf8))
    }

    func hashedState(namespace: String, collection: String, keyHash: Data) throws -> VersionedValue? {
        try StateDB.hashedState(self.db, namespace, collection, keyHash)
    }
}

/// Per snapshot (or per block being processed): whether a namespace's or collection's committed keys carry any
/// key-level metadata, asked of the database once each.
final class KeyMetadataPresence {
    private struct Key: Hashable {
        var namespace: String
        var collection: String
    }

    private var answers: [Key: Bool] = [:]

    func answer(_ namespace: String, _ collection: String, _ ask: () throws -> Bool) throws -> Bool {
        let key = Key(namespace: namespace, collection: collection)
        if let known = self.answers[key] { return known }
        let answer = try ask()
        self.answers[key] = answer
        return answer
    }
}
