public import Foundation

extension BlockCodec {
    /// A block's beginning compressed before its end is known: one complete zlib stream of the prefix.
    ///
    /// ``compress(_:after:level:)`` appends a second stream for the suffix, so most of the compression work can
    /// happen before the suffix exists (a block's header and data before its metadata). The two streams, one after
    /// the other, decompress with ``decompress(_:limit:expectedSize:concatenated:)`` and `concatenated: true`.
    public struct DeflatedPrefix: Sendable {
        /// The prefix's zlib stream.
        public let bytes: Data
        /// The number of uncompressed prefix bytes.
        public let uncompressedCount: Int
    }

    /// Compresses `bytes` as the first of two zlib streams (see ``DeflatedPrefix``).
    public static func compressPrefix(_ bytes: Data, level: Int32 = 1) throws(WireError) -> DeflatedPrefix {
        DeflatedPrefix(bytes: try Self.compress(bytes, level: level), uncompressedCount: bytes.count)
    }

    /// Completes `prefix` with `suffix`: the prefix's zlib stream followed by the suffix's, which together
    /// decompress (`concatenated: true`) to prefix ‖ suffix.
    public static func compress(_ suffix: Data, after prefix: DeflatedPrefix, level: Int32 = 1) throws(WireError) -> Data {
        let tail = try Self.compress(suffix, level: level)
        var output = Data(capacity: prefix.bytes.count + tail.count)
        output.append(prefix.bytes)
        output.append(tail)
        return output
    }
}
