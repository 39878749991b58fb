internal import CZstd
public import Foundation
import Synchronization

/// Zstandard compression for the block store's records.
///
/// Each call writes one zstd frame that records its content size and an XXH64 checksum of the content. Frames
/// written one after another decompress as one: ``decompress(_:limit:expectedSize:)`` joins them, so a record's
/// beginning can be compressed before its end is known. Decompression reads the frames' declared sizes first and
/// refuses more than `limit` bytes before allocating anything, and a frame that produces more than it declared is
/// an error, so a hostile or corrupt input cannot exhaust memory.
public enum ZstdCodec {
    /// The level records are compressed at: zstd's fastest positive level's ratio on blocks (0.140 of the raw size
    /// against libdeflate level 1's 0.151) at about 1.5 GB/s on one core, where libdeflate level 1 makes ≈ 0.4 GB/s
    /// (Docs/performance.md, ninth session).
    public static let defaultLevel: Int32 = -1

    /// Compresses `bytes` into one zstd frame at `level` (negative: faster, positive up to 22: smaller).
    public static func compress(_ bytes: Data, level: Int32 = defaultLevel) throws(WireError) -> Data {
        guard level >= ZSTD_minCLevel(), level <= ZSTD_maxCLevel() else {
            throw WireError(code: .compressionFailed, message: "zstd has no level \(level)")
        }
        let context = try Self.compressors.take()
        defer { Self.compressors.give(back: context) }
        for (parameter, value) in [(ZSTD_c_compressionLevel, level), (ZSTD_c_checksumFlag, 1), (ZSTD_c_contentSizeFlag, 1)] {
            let status = ZSTD_CCtx_setParameter(context, parameter, value)
            guard ZSTD_isError(status) == 0 else {
                throw WireError(code: .compressionFailed, message: "zstd: \(Self.errorName(status))")
            }
        }
        var status = 0
        let compressed = BlockCodec.compressed(bytes, bound: ZSTD_compressBound(bytes.count)) { input, output in
            status = ZSTD_compress2(context, output.baseAddress, output.count, input.baseAddress, input.count)
            return ZSTD_isError(status) == 0 ? status : nil
        }
        guard let compressed else {
            throw WireError(
                code: .compressionFailed,
                message: "zstd did not compress \(bytes.count) bytes: \(Self.errorName(status))"
            )
        }
        return compressed
    }

    /// Decompresses one or more zstd frames in `bytes`, joined, refusing to produce more than `limit` bytes.
    ///
    /// - Parameter expectedSize: the decompressed size if the caller knows it (the block store records it): the
    ///   frames must declare exactly this many bytes.
    /// - Throws: ``WireError/Code/corruptCompressedData`` for anything that is not whole zstd frames with declared
    ///   sizes and good checksums (a cut, trailing bytes, a flipped bit), ``WireError/Code/decompressedTooLarge``
    ///   when the frames declare more than `limit` bytes.
    public static func decompress(
        _ bytes: Data,
        limit: Int = BlockCodec.defaultDecompressedLimit,
        expectedSize: Int? = nil
    ) throws(WireError) -> Data {
        let result: Result<Data, WireError> = bytes.withUnsafeBytes { input in
            guard let base = input.baseAddress, !input.isEmpty else {
                return .failure(WireError(code: .corruptCompressedData, message: "no zstd frame"))
            }
            // The frames' declared sizes, summed, walking frame by frame.
            var declared: UInt64 = 0
            var offset = 0
            while offset < input.count {
                let frame = base + offset
                let remaining = input.count - offset
                let content = ZSTD_getFrameContentSize(frame, remaining)
                let length = ZSTD_findFrameCompressedSize(frame, remaining)
                guard CZstd_isContentSizeKnown(content) != 0, ZSTD_isError(length) == 0 else {
                    return .failure(
                        WireError(
                            code: .corruptCompressedData,
                            message: "the bytes at \(offset) of \(input.count) are not a whole zstd frame with its size"
                        )
                    )
                }
                declared += content
                offset += length
                guard declared <= UInt64(limit) else { break }
            }
            guard declared <= UInt64(limit) else {
                return .failure(
                    WireError(
                        code: .decompressedTooLarge,
                        message: "zstd frames declare \(declared) bytes, above the limit of \(limit) bytes"
                    )
                )
            }
            let size = Int(declared)
            if let expectedSize, expectedSize != size {
                return .failure(
                    WireError(
                        code: .corruptCompressedData,
                        message: "zstd frames declare \(size) bytes, \(expectedSize) were expected"
                    )
                )
            }
            // Even frames of no content are decompressed: that checks their structure and checksums.
            guard let output = malloc(max(size, 1)) else {
                return .failure(WireError(code: .decompressedTooLarge, message: "cannot allocate \(size) bytes"))
            }
            let context: OpaquePointer
            switch Result(catching: { () throws(WireError) in try Self.decompressors.take() }) {
            case .success(let taken): context = taken
            case .failure(let error):
                free(output)
                return .failure(error)
            }
            let written = ZSTD_decompressDCtx(context, output, size, base, input.count)
            Self.decompressors.give(back: context)
            guard ZSTD_isError(written) == 0, written == size else {
                free(output)
                let reason = ZSTD_isError(written) != 0 ? Self.errorName(written) : "\(written) bytes of \(size)"
                return .failure(WireError(code: .corruptCompressedData, message: "zstd frames are corrupt: \(reason)"))
            }
            guard size > 0 else {
                free(output)
                return .success(Data())
            }
            return .success(Data(bytesNoCopy: output, count: size, deallocator: .free))
        }
        return try result.get()
    }

    private static func errorName(_ code: Int) -> String { String(cString: ZSTD_getErrorName(code)) }

    // Contexts hold the codec's tables (megabytes for a compressor): reused instead of allocated per block.
    private static let compressors = ContextPool(create: { ZSTD_createCCtx() }, destroy: { _ = ZSTD_freeCCtx($0) })
    private static let decompressors = ContextPool(create: { ZSTD_createDCtx() }, destroy: { _ = ZSTD_freeDCtx($0) })
}

/// A few idle zstd contexts, each used by one caller at a time.
private final class ContextPool: Sendable {
    /// An idle context; only the pool holds it until a caller takes it.
    private struct Idle: @unchecked Sendable {
        let context: OpaquePointer
    }

    private let idle = Mutex<[Idle]>([])
    private let create: @Sendable () -> OpaquePointer?
    private let destroy: @Sendable (OpaquePointer) -> Void
    /// Contexts kept idle at most (more callers at once allocate their own and free them afterwards).
    private static let capacity = 4

    init(create: @escaping @Sendable () -> OpaquePointer?, destroy: @escaping @Sendable (OpaquePointer) -> Void) {
        self.create = create
        self.destroy = destroy
    }

    func take() throws(WireError) -> OpaquePointer {
        if let idle = self.idle.withLock({ $0.popLast() }) { return idle.context }
        guard let context = self.create() else {
            throw WireError(code: .compressionFailed, message: "cannot allocate a zstd context")
        }
        return context
    }

    func give(back context: OpaquePointer) {
        let returned = Idle(context: context)
        let kept = self.idle.withLock { idle in
            guard idle.count < Self.capacity else { return false }
            idle.append(returned)
            return true
        }
        if !kept { self.destroy(context) }
    }
}
