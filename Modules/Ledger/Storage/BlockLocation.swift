/// Where a block's record lies in the block files.
public struct BlockLocation: Hashable, Sendable, CustomStringConvertible {
    /// The suffix of the segment file (`blockfile_000003` → 3).
    public var file: Int
    /// The offset of the record's first byte.
    public var offset: Int64
    /// The length of the whole record (header and body).
    public var length: Int

    /// Creates a location.
    public init(file: Int, offset: Int64, length: Int) {
        self.file = file
        self.offset = offset
        self.length = length
    }

    /// The offset just past the record.
    public var end: Int64 { self.offset + Int64(self.length) }

    public var description: String { "blockfile_\(BlockFiles.suffix(self.file)) @\(self.offset)+\(self.length)" }
}
