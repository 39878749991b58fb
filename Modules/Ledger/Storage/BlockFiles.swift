import Foundation
internal import Synchronization
internal import Wire

/// The append-only segment files of one channel's block store.
///
/// A record is `UInt32 LE body length ‖ UInt32 LE CRC-32C(body) ‖ body`, and the body is
/// `format ‖ UInt32 LE decompressed length ‖ block bytes`, the format 0 (raw), 1 (one zlib stream), 2 (zlib
/// streams one after another: the block's header and data, then its metadata, compressed at different times) or 3
/// (one or more zstd frames, one after another likewise). The
/// decompressed length lets a reader size its buffer once and is capped by the configured limit, so a damaged
/// length cannot exhaust memory.
/// Files are `blockfile_NNNNNN`; a new file starts when a record would take the current one past the size limit.
final class BlockFiles: Sendable {
    static let headerSize = 8
    static let bodyPrefixSize = 5
    static let formatRaw: UInt8 = 0
    static let formatZlib: UInt8 = 1
    static let formatZlibStreams: UInt8 = 2
    static let formatZstd: UInt8 = 3

    let directory: URL
    let maxFileSize: Int64
    /// How new records are compressed; nil: stored raw.
    let compression: BlockStoreConfiguration.Compression?
    let decompressedLimit: Int
    let syncWrites: Bool

    private struct State {
        var files: [Int: PositionalFile] = [:]
        /// The file appends go to, and its size.
        var currentFile: Int = 0
        var currentSize: Int64 = 0
    }

    private let state = Mutex(State())

    static func suffix(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    static func name(_ number: Int) -> String { "blockfile_" + suffix(number) }

    init(
        directory: URL,
        maxFileSize: Int64,
        compression: BlockStoreConfiguration.Compression?,
        decompressedLimit: Int,
        syncWrites: Bool
    )
        throws(LedgerError)
    {
        self.directory = directory
        self.maxFileSize = maxFileSize
        self.compression = compression
        self.decompressedLimit = decompressedLimit
        self.syncWrites = syncWrites
        try LedgerError.wrapping("cannot create \(directory.path)") {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        let numbers = try self.existingFileNumbers()
        let current = numbers.last ?? 0
        let file = try self.file(current, create: true)
        let size = try file.size()
        self.state.withLock {
            $0.currentFile = current
            $0.currentSize = size
        }
    }

    /// The suffixes of the segment files on disk, ascending.
    func existingFileNumbers() throws(LedgerError) -> [Int] {
        let names = try LedgerError.wrapping("cannot list \(self.directory.path)") {
            try FileManager.default.contentsOfDirectory(atPath: self.directory.path)
        }
        return names.compactMap { name in
            name.hasPrefix("blockfile_") ? Int(name.dropFirst("blockfile_".count)) : nil
        }.sorted()
    }

    func path(_ number: Int) -> String { self.directory.appendingPathComponent(Self.name(number)).path }

    /// The open file with suffix `number`.
    func file(_ number: Int, create: Bool = false) throws(LedgerError) -> PositionalFile {
        if let file = self.state.withLock({ $0.files[number] }) { return file }
        let path = self.path(number)
        if !create, !FileManager.default.fileExists(atPath: path) {
            throw LedgerError(code: .corruptBlockFile, message: "block file \(path) is missing")
        }
        let file = try PositionalFile(path: path, create: create)
        if create { syncDirectory(self.directory.path) }
        return self.state.withLock { state in
            if let existing = state.files[number] { return existing }
            state.files[number] = file
            return file
        }
    }

    func fileExists(_ number: Int) -> Bool { FileManager.default.fileExists(atPath: self.path(number)) }

    /// Where the next record goes.
    var tail: (file: Int, size: Int64) { self.state.withLock { ($0.currentFile, $0.currentSize) } }

    // MARK: Encoding

    /// The record bytes for `blockBytes`.
    func encodeRecord(_ blockBytes: Data) throws(LedgerError) -> [UInt8] {
        guard let compression = self.compression else {
            return try self.encodeRecord(format: Self.formatRaw, rawLength: blockBytes.count, payload: [blockBytes])
        }
        return try self.encodeRecord(
            compressed: [try Self.compress(blockBytes, compression)],
            compression,
            rawLength: blockBytes.count
        )
    }

    /// The record for a block of `rawLength` serialized bytes stored as `parts`, each compressed apart with
    /// `compression` (``compress(_:_:)``), in order: format 3 for zstd frames, 1 or 2 for one or more zlib
    /// streams.
    func encodeRecord(
        compressed parts: [Data],
        _ compression: BlockStoreConfiguration.Compression,
        rawLength: Int
    ) throws(LedgerError) -> [UInt8] {
        let format: UInt8
        switch compression {
        case .zstd: format = Self.formatZstd
        case .zlib: format = parts.count == 1 ? Self.formatZlib : Self.formatZlibStreams
        }
        return try self.encodeRecord(format: format, rawLength: rawLength, payload: parts)
    }

    /// `bytes` compressed as one part of a record: one zstd frame or one zlib stream. Parts compressed apart and
    /// joined make one record of format 3 or 2.
    static func compress(
        _ bytes: Data,
        _ compression: BlockStoreConfiguration.Compression
    ) throws(LedgerError) -> Data {
        do {
            switch compression {
            case .zstd: return try ZstdCodec.compress(bytes)
            case .zlib: return try BlockCodec.compress(bytes)
            }
        } catch {
            throw LedgerError.storage("cannot compress \(bytes.count) bytes of a block", cause: error)
        }
    }

    /// The record for a block of `rawLength` serialized bytes stored as the concatenation of `payload` in
    /// `format` (the parts are copied once, into the record).
    func encodeRecord(format: UInt8, rawLength: Int, payload: [Data]) throws(LedgerError) -> [UInt8] {
        let payloadCount = payload.reduce(0) { $0 + $1.count }
        guard rawLength <= Int(UInt32.max), payloadCount + Self.bodyPrefixSize <= Int(UInt32.max) else {
            throw LedgerError(code: .invalidArgument, message: "block of \(rawLength) bytes is too large")
        }
        var record = [UInt8]()
        record.reserveCapacity(Self.headerSize + Self.bodyPrefixSize + payloadCount)
        appendUInt32(UInt32(payloadCount + Self.bodyPrefixSize), to: &record)
        appendUInt32(0, to: &record)  // CRC, filled in below
        record.append(format)
        appendUInt32(UInt32(rawLength), to: &record)
        for part in payload {
            part.withUnsafeBytes { record.append(contentsOf: $0) }
        }
        let crc = record.withUnsafeBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[Self.headerSize...]))
        }
        record[4] = UInt8(truncatingIfNeeded: crc)
        record[5] = UInt8(truncatingIfNeeded: crc >> 8)
        record[6] = UInt8(truncatingIfNeeded: crc >> 16)
        record[7] = UInt8(truncatingIfNeeded: crc >> 24)
        return record
    }

    /// The block bytes of a record body that passed its CRC check.
    func decodeBody(_ body: ArraySlice<UInt8>, at location: BlockLocation) throws(LedgerError) -> Data {
        guard body.count >= Self.bodyPrefixSize else {
            throw LedgerError(code: .corruptBlockFile, message: "record at \(location) is too short")
        }
        let start = body.startIndex
        let format = body[start]
        let rawLength = Int(readUInt32(body, at: start + 1))
        let payload = Data(body[(start + Self.bodyPrefixSize)...])
        switch format {
        case Self.formatRaw:
            guard payload.count == rawLength else {
                throw LedgerError(
                    code: .corruptBlockFile,
                    message: "record at \(location) holds \(payload.count) bytes, its header says \(rawLength)"
                )
            }
            return payload
        case Self.formatZlib, Self.formatZlibStreams, Self.formatZstd:
            guard rawLength <= self.decompressedLimit else {
                throw LedgerError(
                    code: .corruptBlockFile,
                    message:
                        "record at \(location) claims \(rawLength) bytes, above the limit \(self.decompressedLimit)"
                )
            }
            do {
                let bytes =
                    format == Self.formatZstd
                    ? try ZstdCodec.decompress(payload, limit: self.decompressedLimit, expectedSize: rawLength)
                    : try BlockCodec.decompress(
                        payload,
                        limit: self.decompressedLimit,
                        expectedSize: rawLength,
                        concatenated: format == Self.formatZlibStreams
                    )
                guard bytes.count == rawLength else {
                    throw LedgerError(
                        code: .corruptBlockFile,
                        message: "record at \(location) decompresses to \(bytes.count) bytes, expected \(rawLength)"
                    )
                }
                return bytes
            } catch let error as LedgerError {
                throw error
            } catch {
                throw LedgerError(
                    code: .corruptBlockFile,
                    message: "record at \(location) does not decompress",
                    cause: error
                )
            }
        default:
            throw LedgerError(code: .corruptBlockFile, message: "record at \(location) has unknown format \(format)")
        }
    }

    // MARK: Writing

    /// Appends one record, rolling to a new file first when the current one would exceed the size limit.
    /// Returns its location once the bytes are written (and flushed when `syncWrites`).
    func append(_ blockBytes: Data) throws(LedgerError) -> BlockLocation {
        try self.append(record: try self.encodeRecord(blockBytes))
    }

    /// Appends an encoded record (``encodeRecord(format:rawLength:payload:)``); see ``append(_:)``.
    func append(record: [UInt8]) throws(LedgerError) -> BlockLocation {
        var (number, size) = self.tail
        if size > 0, size + Int64(record.count) > self.maxFileSize {
            number += 1
            size = 0
            _ = try self.file(number, create: true)
            self.state.withLock {
                $0.currentFile = number
                $0.currentSize = 0
            }
        }
        let file = try self.file(number, create: true)
        do {
            try file.write(record, at: size)
            if self.syncWrites { try file.sync() }
        } catch {
            // Leave no partial record behind for the next append to follow.
            try? file.truncate(to: size)
            throw error
        }
        self.state.withLock { $0.currentSize = size + Int64(record.count) }
        return BlockLocation(file: number, offset: size, length: record.count)
    }

    /// Cuts file `number` to `size` bytes, removes every later file, and makes it the append target.
    func truncate(file number: Int, to size: Int64) throws(LedgerError) {
        let file = try self.file(number, create: true)
        try file.truncate(to: size)
        try file.sync()
        for later in try self.existingFileNumbers() where later > number {
            _ = self.state.withLock { $0.files.removeValue(forKey: later) }
            try LedgerError.wrapping("cannot remove \(self.path(later))") {
                try FileManager.default.removeItem(atPath: self.path(later))
            }
        }
        syncDirectory(self.directory.path)
        self.state.withLock {
            $0.currentFile = number
            $0.currentSize = size
        }
    }

    // MARK: Reading

    /// Reads and checks the record at `location`, returning the block bytes.
    func read(_ location: BlockLocation) throws(LedgerError) -> Data {
        let file = try self.file(location.file)
        let bytes = try file.read(at: location.offset, count: location.length)
        guard bytes.count == location.length, bytes.count >= Self.headerSize else {
            throw LedgerError(
                code: .corruptBlockFile,
                message: "record at \(location) is cut short: \(bytes.count) of \(location.length) bytes on disk"
            )
        }
        let bodyLength = Int(readUInt32(bytes[...], at: 0))
        guard bodyLength == location.length - Self.headerSize else {
            throw LedgerError(
                code: .corruptBlockFile,
                message:
                    "record at \(location) has length \(bodyLength), the index says \(location.length - Self.headerSize)"
            )
        }
        let crc = readUInt32(bytes[...], at: 4)
        let body = bytes[Self.headerSize...]
        let actual = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[Self.headerSize...])) }
        guard crc == actual else {
            throw LedgerError(code: .corruptBlockFile, message: "record at \(location) fails its CRC check")
        }
        return try self.decodeBody(body, at: location)
    }

    /// The outcome of scanning a file from an offset.
    enum ScanStop: Equatable {
        /// The file ends exactly after the last good record.
        case cleanEnd
        /// The bytes from `offset` to the end of the file are an incomplete or damaged last record.
        case tornTail(offset: Int64)
        /// A damaged record at `offset` is followed by more data: not an interrupted append.
        case corrupt(offset: Int64, reason: String)
    }

    /// Reads the good records of file `number` from `offset` on, calling `body` with each, until the end of the
    /// file or the first bad record.
    func scan(
        file number: Int,
        from offset: Int64,
        _ body: (BlockLocation, Data) throws(LedgerError) -> Void
    ) throws(LedgerError) -> ScanStop {
        let file = try self.file(number)
        let size = try file.size()
        var position = offset
        while position < size {
            let remaining = size - position
            let header = try file.read(at: position, count: Int(min(remaining, Int64(Self.headerSize))))
            guard header.count == Self.headerSize else { return .tornTail(offset: position) }
            let bodyLength = Int64(readUInt32(header[...], at: 0))
            if bodyLength < Int64(Self.bodyPrefixSize) || Int64(Self.headerSize) + bodyLength > remaining {
                // Length runs past the end: the append was cut off (or the length bytes are damaged, which only
                // an all-zero or truncated tail can look like at the end of the file).
                var torn = Int64(Self.headerSize) + bodyLength > remaining
                if !torn { torn = try self.isZero(file, from: position, to: size) }
                if torn { return .tornTail(offset: position) }
                return .corrupt(offset: position, reason: "record length \(bodyLength) is impossible")
            }
            let location = BlockLocation(file: number, offset: position, length: Self.headerSize + Int(bodyLength))
            let record = try file.read(at: position, count: location.length)
            let crc = readUInt32(header[...], at: 4)
            let actual = record.withUnsafeBytes {
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[Self.headerSize...]))
            }
            if crc != actual {
                var torn = location.end == size
                if !torn { torn = try self.isZero(file, from: position, to: size) }
                if torn { return .tornTail(offset: position) }
                return .corrupt(offset: position, reason: "record fails its CRC check and is followed by more data")
            }
            let blockBytes = try self.decodeBody(record[Self.headerSize...], at: location)
            try body(location, blockBytes)
            position = location.end
        }
        return .cleanEnd
    }

    private func isZero(_ file: PositionalFile, from start: Int64, to end: Int64) throws(LedgerError) -> Bool {
        var position = start
        while position < end {
            let chunk = try file.read(at: position, count: Int(min(end - position, 1 << 20)))
            if chunk.isEmpty { break }
            if chunk.contains(where: { $0 != 0 }) { return false }
            position += Int64(chunk.count)
        }
        return true
    }
}

private func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
    out.append(UInt8(truncatingIfNeeded: value))
    out.append(UInt8(truncatingIfNeeded: value >> 8))
    out.append(UInt8(truncatingIfNeeded: value >> 16))
    out.append(UInt8(truncatingIfNeeded: value >> 24))
}

private func readUInt32(_ bytes: ArraySlice<UInt8>, at index: Int) -> UInt32 {
    UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
        | UInt32(bytes[index + 3]) << 24
}
