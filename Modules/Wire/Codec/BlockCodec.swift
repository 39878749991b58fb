internal import CLibdeflate
internal import CZlib
public import Foundation

/// zlib compression for blocks on disk and on the wire.
///
/// Decompression takes a hard limit on the output size, so a hostile or corrupt input (a "zip bomb") is refused
/// with ``WireError/Code/decompressedTooLarge`` before it can exhaust memory.
public enum BlockCodec {
    /// The default limit on a decompressed block: 128 MiB, above Fabric's largest AbsoluteMaxBytes plus metadata.
    public static let defaultDecompressedLimit = 128 << 20

    /// Compresses `bytes` into one zlib stream. `level` is 0 (stored) … 12 (smallest); 1 is fast and, for blocks
    /// full of certificates and hashes, nearly as small as 9.
    ///
    /// libdeflate compresses (one call, no streaming), about twice as fast as zlib's own deflate at level 1 on
    /// blocks and a little smaller; its output is an ordinary zlib stream, which zlib decompresses.
    public static func compress(_ bytes: Data, level: Int32 = 1) throws(WireError) -> Data {
        guard (0...12).contains(level), let compressor = libdeflate_alloc_compressor(level) else {
            throw WireError(code: .compressionFailed, message: "no libdeflate compressor for level \(level)")
        }
        defer { libdeflate_free_compressor(compressor) }
        let bound = libdeflate_zlib_compress_bound(compressor, bytes.count)
        let compressed = Self.compressed(bytes, bound: bound) { input, output in
            let written = libdeflate_zlib_compress(compressor, input.baseAddress, input.count, output.baseAddress, bound)
            return written > 0 ? written : nil
        }
        guard let compressed else {
            throw WireError(
                code: .compressionFailed,
                message: "libdeflate did not compress \(bytes.count) bytes into its own bound of \(bound)"
            )
        }
        return compressed
    }

    /// Compresses `bytes` with `compress` into a scratch buffer of `bound` bytes (a compressor's bound covers any
    /// input, so the output never runs out of room) and keeps the part written; nil when `compress` returns nil.
    static func compressed(
        _ bytes: Data,
        bound: Int,
        _ compress: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) -> Int?
    ) -> Data? {
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: bound, alignment: 16)
        defer { output.deallocate() }
        guard let written = bytes.withUnsafeBytes({ compress($0, output) }) else { return nil }
        return Data(UnsafeRawBufferPointer(rebasing: output[..<written]))
    }

    /// Decompresses zlib-format `bytes`, refusing to produce more than `limit` bytes.
    ///
    /// - Parameter expectedSize: the decompressed size if the caller knows it (the block store records it), used
    ///   to size the buffer once; it is never trusted beyond `limit`.
    /// - Parameter concatenated: whether `bytes` may hold several zlib streams one after another (as
    ///   ``compress(_:after:level:)`` makes); their outputs are joined. Otherwise bytes after the first stream are
    ///   an error.
    public static func decompress(
        _ bytes: Data,
        limit: Int = defaultDecompressedLimit,
        expectedSize: Int? = nil,
        concatenated: Bool = false
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
                    if concatenated && stream.avail_in > 0 {
                        // The next stream starts here; each one has a header and a trailer, so this always
                        // consumes input.
                        guard inflateReset(&stream) == Z_OK else {
                            return .failure(WireError(code: .corruptCompressedData, message: "zlib inflateReset failed"))
                        }
                        continue
                    }
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
