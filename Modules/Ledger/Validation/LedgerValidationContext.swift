import Foundation

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
}
