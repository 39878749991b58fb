internal import CZlib
public import Foundation

extension BlockCodec {
    /// The compressed beginning of a zlib stream whose end is not known yet: the zlib header and deflate
    /// blocks for the prefix, ending on a byte boundary (a sync flush), plus the prefix's Adler-32.
    ///
    /// ``compress(_:after:level:)`` completes it with a suffix into one ordinary zlib stream, so most of the
    /// compression work can happen before the suffix exists (a block's header and data before its metadata).
    public struct DeflatedPrefix: Sendable {
        /// The zlib header and the prefix's non-final deflate blocks.
        public let bytes: Data
        /// The number of uncompressed prefix bytes.
        public let uncompressedCount: Int
        /// Adler-32 of the uncompressed prefix.
        let checksum: UInt32
    }

    /// Compresses `bytes` as the beginning of a zlib stream (see ``DeflatedPrefix``).
    public static func compressPrefix(_ bytes: Data, level: Int32 = 1) throws(WireError) -> DeflatedPrefix {
        let (output, checksum) = try Self.deflateOnce(bytes, level: level, format: .zlib, flush: .sync)
        return DeflatedPrefix(bytes: output, uncompressedCount: bytes.count, checksum: checksum)
    }

    /// Completes `prefix` with `suffix`: one zlib stream that decompresses to prefix ‖ suffix.
    ///
    /// The suffix is deflated on its own (raw deflate, final block) after the prefix's byte-aligned blocks, and
    /// the stream ends with the Adler-32 of the whole, combined from the two parts.
    public static func compress(_ suffix: Data, after prefix: DeflatedPrefix, level: Int32 = 1) throws(WireError) -> Data {
        let tail = try Self.deflateOnce(suffix, level: level, format: .raw, flush: .finish).output
        let suffixChecksum: uLong = suffix.withUnsafeBytes { input in
            adler32(adler32(0, nil, 0), input.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(input.count))
        }
        let checksum = UInt32(
            truncatingIfNeeded: adler32_combine(uLong(prefix.checksum), suffixChecksum, off_t(suffix.count))
        )
        var output = Data(capacity: prefix.bytes.count + tail.count + 4)
        output.append(prefix.bytes)
        output.append(tail)
        output.append(contentsOf: [
            UInt8(truncatingIfNeeded: checksum >> 24), UInt8(truncatingIfNeeded: checksum >> 16),
            UInt8(truncatingIfNeeded: checksum >> 8), UInt8(truncatingIfNeeded: checksum),
        ])
        return output
    }
}
