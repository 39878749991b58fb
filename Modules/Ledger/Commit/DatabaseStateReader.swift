import Foundation
internal import GRDB

/// Committed state read through an open database connection.
struct DatabaseStateReader: CommittedStateReader {
    let db: Database

    func state(namespace: String, key: String) throws -> VersionedValue? {
        try StateDB.state(self.db, namespace, Data(key.utf8))
    }

    func hashedState(namespace: String, collection: String, keyHash: Data) throws -> VersionedValue? {
        try StateDB.hashedState(self.db, namespace, collection, keyHash)
    }
}
