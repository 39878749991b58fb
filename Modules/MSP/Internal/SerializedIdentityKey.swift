import Foundation

/// Serialized identity bytes as a cache key: equal when the bytes are, hashed by their length and their last
/// ``hashedSuffix`` bytes only.
///
/// A serialized identity is a few hundred bytes of PEM certificate; its tail is the certificate's signature
/// (base64) before the fixed END line, so it already tells certificates apart, and hashing all of it on every
/// lookup (three per transaction) cost more than the lookup. Keys that share a tail only share a bucket:
/// equality still compares every byte.
struct SerializedIdentityKey: Hashable, Sendable {
    static let hashedSuffix = 128

    let bytes: Data

    init(_ bytes: Data) { self.bytes = bytes }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.bytes == rhs.bytes }

    func hash(into hasher: inout Hasher) {
        hasher.combine(self.bytes.count)
        self.bytes.suffix(Self.hashedSuffix).withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
