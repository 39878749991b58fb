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
        var stream = z_stream()
        guard CZlib_deflateInit2(&stream, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            throw WireError(code: .compressionFailed, message: "zlib deflateInit2 failed (level \(level))")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var output = Data(count: bound)
        let status: Int32 = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(
                    mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self)
                )
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw WireError(code: .compressionFailed, message: "zlib deflate returned \(status)")
        }
        output.count = Int(stream.total_out)
        return output
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
