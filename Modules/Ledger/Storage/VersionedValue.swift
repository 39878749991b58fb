public import Foundation

/// A value with its version and key-level metadata, as stored in the state database.
public struct VersionedValue: Hashable, Sendable {
    /// The value (for hashed state: the value hash).
    public var value: Data
    /// Serialized key-level metadata (`kvrwset.KVMetadataWrite{entries}`), or nil when the key has none.
    public var metadata: Data?
    /// The block and tx that last wrote the key.
    public var version: Height

    /// Creates a versioned value.
    public init(value: Data, metadata: Data? = nil, version: Height) {
        self.value = value
        self.metadata = metadata
        self.version = version
    }
}
