package import Foundation
internal import Wire

/// One pending write of an update batch: a value, or a delete when `value` is nil.
package struct PendingWrite: Sendable, Equatable {
    /// The value (value hash for hashed writes); nil for a delete.
    package var value: Data?
    /// Serialized key-level metadata.
    package var metadata: Data?
    /// The height of the writing transaction.
    package var version: Height

    /// Creates a write.
    package init(value: Data?, metadata: Data?, version: Height) {
        self.value = value
        self.metadata = metadata
        self.version = version
    }

    /// Whether the write deletes the key.
    package var isDelete: Bool { self.value == nil }
}

/// A private key removed by an app-initiated purge.
package struct PurgedPrivateKey: Sendable, Hashable {
    /// The namespace.
    package var namespace: String
    /// The collection.
    package var collection: String
    /// SHA-256 of the key.
    package var keyHash: Data
    /// The purging transaction: stored private data of the key from lower heights is removed.
    package var height: Height
}

/// The state changes of one block: public writes, hashed private writes and cleartext private writes, keyed by
/// namespace (and collection) and key bytes. A later write of a key replaces an earlier one.
package struct UpdateBatch: Sendable {
    /// namespace → key → write.
    package var publicWrites: [String: [Data: PendingWrite]] = [:]
    /// namespace → collection → key hash → write.
    package var hashedWrites: [String: [String: [Data: PendingWrite]]] = [:]
    /// namespace → collection → key → write.
    package var privateWrites: [String: [String: [Data: PendingWrite]]] = [:]
    /// Private keys (namespace, collection, key hash) purged by app-initiated purges (`is_purge`): their cleartext
    /// private state is removed even where this peer never had the transaction's private data.
    package var purgedPrivateKeys: [PurgedPrivateKey] = []

    /// An empty batch.
    package init() {}

    /// The pending public write of `key`, if the block wrote it.
    package func publicWrite(_ namespace: String, _ key: Data) -> PendingWrite? {
        self.publicWrites[namespace]?[key]
    }

    /// The pending hashed write of `keyHash`, if the block wrote it.
    package func hashedWrite(_ namespace: String, _ collection: String, _ keyHash: Data) -> PendingWrite? {
        self.hashedWrites[namespace]?[collection]?[keyHash]
    }

    /// The public writes of `namespace` with keys in [start, end) (end empty: no upper bound), sorted by key bytes.
    package func publicRange(_ namespace: String, start: Data, end: Data) -> [(key: Data, write: PendingWrite)] {
        guard let writes = self.publicWrites[namespace] else { return [] }
        return writes.filter { key, _ in
            !key.bytewisePrecedes(start) && (end.isEmpty || key.bytewisePrecedes(end))
        }
        .map { (key: $0.key, write: $0.value) }
        .sorted { $0.key.bytewisePrecedes($1.key) }
    }

    /// The bytes Fabric hashes into the commit hash: `txmgr.Updates` over the public and hashed writes, sorted,
    /// with `namespace` only on a namespace's first entry and `collection` only on a collection's first entry.
    /// Namespace "" (the channel config) and cleartext private writes are left out.
    package func commitHashBytes() -> Data {
        var encoder = UpdatesEncoder()
        let namespaces = Set(self.publicWrites.keys).union(self.hashedWrites.keys)
            .filter { !$0.isEmpty }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for namespace in namespaces {
            var pendingNamespace: String? = namespace
            // Sorting the keys alone and looking each write up moves 16-byte keys instead of (key, write) pairs
            // with four reference-counted fields each.
            let writes = self.publicWrites[namespace] ?? [:]
            for key in writes.keys.bytewiseSorted() {
                encoder.append(namespace: pendingNamespace, collection: nil, key: key, write: writes[key]!)
                pendingNamespace = nil
            }
            let collections = (self.hashedWrites[namespace] ?? [:])
                .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (collection, writes) in collections {
                var pendingCollection: String? = collection
                for keyHash in writes.keys.bytewiseSorted() {
                    encoder.append(
                        namespace: pendingNamespace,
                        collection: pendingCollection,
                        key: keyHash,
                        write: writes[keyHash]!
                    )
                    pendingNamespace = nil
                    pendingCollection = nil
                }
            }
        }
        return Data(encoder.bytes)
    }
}

/// Writes `txmgr.Updates` (`repeated KVWrite kvwrites = 1`) the way a protobuf encoder does (fields in number
/// order, empty proto3 fields left out), without building a message per write: the commit hash covers every
/// write of every block.
struct UpdatesEncoder {
    private(set) var bytes: [UInt8] = []
    private var entry: [UInt8] = []

    /// Appends one `KVWrite`: `namespace` (1) and `collection` (2) where given, `key` (3), `is_delete` (4) or
    /// `value` (5), `version_bytes` (6). An empty value is a delete, as in Fabric.
    mutating func append(namespace: String?, collection: String?, key: Data, write: PendingWrite) {
        self.entry.removeAll(keepingCapacity: true)
        if let namespace, !namespace.isEmpty { Self.field(1, Array(namespace.utf8), into: &self.entry) }
        if let collection, !collection.isEmpty { Self.field(2, Array(collection.utf8), into: &self.entry) }
        if !key.isEmpty { Self.field(3, key, into: &self.entry) }
        if let value = write.value, !value.isEmpty {
            Self.field(5, value, into: &self.entry)
        } else {
            self.entry.append(4 << 3)
            self.entry.append(1)
        }
        // version_bytes is never empty (each height has its two length bytes): written in place.
        ProtobufVarint.append(6 << 3 | 2, to: &self.entry)
        ProtobufVarint.append(UInt64(write.version.versionBytesCount), to: &self.entry)
        write.version.appendVersionBytes(to: &self.entry)
        Self.field(1, self.entry, into: &self.bytes)
    }

    /// A length-delimited field (copied as one block of memory: a `Data` appended as a collection goes byte by
    /// byte).
    private static func field(_ number: UInt64, _ value: Data, into bytes: inout [UInt8]) {
        value.withUnsafeBytes { Self.field(number, $0, into: &bytes) }
    }

    private static func field(_ number: UInt64, _ value: [UInt8], into bytes: inout [UInt8]) {
        value.withUnsafeBytes { Self.field(number, $0, into: &bytes) }
    }

    private static func field(_ number: UInt64, _ value: UnsafeRawBufferPointer, into bytes: inout [UInt8]) {
        ProtobufVarint.append(number << 3 | 2, to: &bytes)
        ProtobufVarint.append(UInt64(value.count), to: &bytes)
        bytes.append(contentsOf: value)
    }
}
