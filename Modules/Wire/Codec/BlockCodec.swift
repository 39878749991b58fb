internal import CZlib
public import Foundation

/// zlib compression for blocks on disk and on the wire.
///
/// Decompression takes a hard limit on the output size, so a hostile or corrupt input (a "zip bomb") is refused
/// with ``WireError/Code/decompressedTooLarge`` before it can exhaust memory.
public enum BlockCodec {
    /// The default limit on a decompressed block: 128 MiB, above Fabric's largest AbsoluteMaxBytes plus metadata.
    public static let defaultDecompressedLimit = 128 << 20

    /// Compresses `bytes` in zlib format. `level` is zlib's 0 (store) … 9 (smallest); 1 is fast and, for blocks
    /// full of certificates and hashes, nearly as small as 9.
    public static func compress(_ bytes: Data, level: Int32 = 1) throws(WireError) -> Data {
        try Self.deflateOnce(bytes, level: level, format: .zlib, flush: .finish).output
    }

    /// The framing of a deflate stream: zlib (header and Adler-32 trailer) or raw deflate.
    enum DeflateFormat {
        case zlib
        case raw

        var windowBits: Int32 { self == .zlib ? 15 : -15 }
    }

    /// How a one-call deflate ends its input: finishing the stream, or with a sync flush that leaves it open on a
    /// byte boundary.
    enum DeflateFlush {
        case finish
        case sync
    }

    /// Deflates all of `input` (one stream, ended by `flush`) and returns the output and the stream's Adler-32 of
    /// the input (zlib format).
    ///
    /// The output buffer starts at a quarter of the input and grows by half when full: blocks compress to about a
    /// sixth, and a buffer sized by `deflateBound` (the input's size and more) was zero-filled, its pages faulted
    /// in, for every block.
    static func deflateOnce(
        _ input: Data,
        level: Int32,
        format: DeflateFormat,
        flush: DeflateFlush
    ) throws(WireError) -> (output: Data, adler: UInt32) {
        var stream = z_stream()
        guard CZlib_deflateInit2(&stream, level, Z_DEFLATED, format.windowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            throw WireError(code: .compressionFailed, message: "zlib deflateInit2 failed (\(format), level \(level))")
        }
        defer { deflateEnd(&stream) }
        var output = Data(count: input.count / 4 + 4096)
        var status: Int32 = Z_OK
        var complete = false
        input.withUnsafeBytes { bytes in
            stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(bytes.count)
            while true {
                let produced = Int(stream.total_out)
                if produced == output.count { output.count += output.count / 2 }
                status = output.withUnsafeMutableBytes { out in
                    stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self).advanced(by: produced)
                    stream.avail_out = uInt(out.count - produced)
                    return deflate(&stream, flush == .finish ? Z_FINISH : Z_SYNC_FLUSH)
                }
                // Done: a finished stream, or a sync flush with all input consumed and room left over (so
                // nothing of the flush is still pending). Z_OK otherwise asks for more room (a sync flush
                // that stopped with room left has failed); any other status is an error.
                complete =
                    flush == .finish
                    ? status == Z_STREAM_END
                    : status == Z_OK && stream.avail_in == 0 && stream.avail_out > 0
                if complete || status != Z_OK || (flush == .sync && stream.avail_out > 0) { return }
            }
        }
        guard complete else {
            throw WireError(
                code: .compressionFailed,
                message: "zlib deflate (\(format), \(flush)) returned \(status) with \(stream.avail_in) bytes left"
            )
        }
        output.count = Int(stream.total_out)
        return (output, UInt32(truncatingIfNeeded: stream.adler))
    }

    /// Decompresses zlib-format `bytes`, refusing to produce more than `limit` bytes.
    ///
    /// - Parameter expectedSize: the decompressed size if the caller knows it (the block store records it), used
    ///   to size the buffer once; it is never trusted beyond `limit`.
    public static func decompress(
        _ bytes: Data,
        limit: Int = defaultDecompressedLimit,
        expectedSize: Int? = nil
    ) throws(WireError) -> Data {
        var stream = z_stream()
        guard CZlib_inflateInit2(&stream, 15) == Z_OK else {
            throw WireError(code: .corruptCompressedData, message: "zlib inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }

        // One byte beyond the limit lets a stream of exactly `limit` bytes finish while a longer one is caught.
        let hardCap = limit + 1
        var capacity = min(max(expectedSize ?? bytes.count * 4, 64), hardCap)
        var output = Data(count: capacity)
        var produced = 0
        var status: Int32 = Z_OK
        let result: Result<Void, WireError> = bytes.withUnsafeBytes { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            while true {
                if produced == capacity {
                    if capacity >= hardCap {
                        return .failure(
                            WireError(
                                code: .decompressedTooLarge,
                                message: "decompressed data exceeds the limit of \(limit) bytes"
                            )
                        )
                    }
                    capacity = min(capacity * 2, hardCap)
                    output.count = capacity
                }
                status = output.withUnsafeMutableBytes { out in
                    stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                    stream.avail_out = uInt(capacity - produced)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    produced = capacity - Int(stream.avail_out)
                    return status
                }
                switch status {
                case Z_STREAM_END:
                    guard stream.avail_in == 0 else {
                        return .failure(
                            WireError(
                                code: .corruptCompressedData,
                                message: "\(stream.avail_in) bytes follow the end of the compressed stream"
                            )
                        )
                    }
                    return .success(())
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_out == 0:
                    continue
                case Z_BUF_ERROR:
                    return .failure(
                        WireError(code: .corruptCompressedData, message: "compressed stream is truncated")
                    )
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    return .failure(
                        WireError(code: .corruptCompressedData, message: "compressed stream is corrupt: \(reason)")
                    )
                }
            }
        }
        try result.get()
        guard produced <= limit else {
            throw WireError(code: .decompressedTooLarge, message: "decompressed data exceeds the limit of \(limit) bytes")
        }
        output.count = produced
        return output
    }
}
