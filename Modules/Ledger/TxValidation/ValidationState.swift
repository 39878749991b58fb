public import Foundation

/// Read access to **committed** state (the state after the previous block) that transaction validation needs:
/// chaincode definitions in `_lifecycle` (and legacy `lscc`), key-level endorsement metadata, and the tx id index.
///
/// Validation of block N never sees writes of block N itself: a chaincode first defined in block N is undefined
/// for all of block N, as in Fabric.
public protocol ValidationState: Sendable {
    /// The committed value of a public key, or nil if absent.
    func value(namespace: String, key: String) throws -> Data?
    /// The committed metadata entries (name → value) of a public key, or nil if the key is absent or has none.
    func metadata(namespace: String, key: String) throws -> [String: Data]?
    /// The committed metadata entries of a private key, addressed by the SHA-256 of the key.
    func hashedMetadata(namespace: String, collection: String, keyHash: Data) throws -> [String: Data]?
    /// Whether a committed block already holds a transaction with this id.
    func txIDExists(_ txID: String) throws -> Bool
}
