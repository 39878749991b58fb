/// How a block store writes its files.
public struct BlockStoreConfiguration: Sendable {
    /// A new segment file starts when a record would take the current one past this size (Fabric: 64 MiB).
    public var maxFileSize: Int64
    /// Whether records are zlib-compressed.
    public var compress: Bool
    /// The largest block a record may decompress to.
    public var decompressedLimit: Int
    /// Whether every append is flushed with fsync before it counts as written. Turning it off keeps the store
    /// consistent across a process crash (the kernel still holds the bytes) but not across a power loss.
    public var syncWrites: Bool

    /// Creates a configuration; the defaults are Fabric's file size, compression on and fsync on.
    public init(
        maxFileSize: Int64 = 64 << 20,
        compress: Bool = true,
        decompressedLimit: Int = 128 << 20,
        syncWrites: Bool = true
    ) {
        self.maxFileSize = maxFileSize
        self.compress = compress
        self.decompressedLimit = decompressedLimit
        self.syncWrites = syncWrites
    }
}
