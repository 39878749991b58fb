/// How a block store writes its files.
public struct BlockStoreConfiguration: Sendable {
    /// A new segment file starts when a record would take the current one past this size (Fabric: 64 MiB).
    public var maxFileSize: Int64
    /// Whether records are compressed.
    public var compress: Bool
    /// How compressed records are compressed: zstd (the default) or zlib. Records of either kind, and raw ones,
    /// are read whatever this says.
    public var compression: Compression
    /// The largest block a record may decompress to.
    public var decompressedLimit: Int
    /// Whether every append is flushed with fsync before it counts as written. Turning it off keeps the store
    /// consistent across a process crash (the kernel still holds the bytes) but not across a power loss.
    public var syncWrites: Bool
    /// Into how many key ranges the tx index's staged rows are cut: block n's commit writes range n mod this
    /// count, so a row waits at most this many commits in memory (1 writes every block's rows at its commit).
    public var txIndexSlices: Int
    /// The most tx index rows held in memory: a commit that would stage more writes every range.
    public var txIndexStagedRows: Int
    /// The size in bits of the Bloom filter of tx ids (``TxIDFilter``; rounded up to a power of two) that answers
    /// most DUPLICATE_TXID look-ups of new transactions without reading `tx_index`; 0 turns it off.
    public var txIDFilterBits: Int
    /// How many tx ids of `tx_index` one read adds to the filter while it loads after opening.
    package var txIDFilterLoadChunk = 8192

    /// How a compressing store compresses new records.
    public enum Compression: String, Sendable, CaseIterable {
        /// Zstandard frames (record format 3): about four times as fast as zlib at level 1, and smaller.
        case zstd
        /// zlib streams (record formats 1 and 2), which any zlib reads.
        case zlib
    }

    /// Creates a configuration; the defaults are Fabric's file size, compression on (zstd), fsync on, tx index rows
    /// written in 64 key ranges with at most 65,536 held in memory, and a tx-id filter of 2^24 bits (2 MiB).
    public init(
        maxFileSize: Int64 = 64 << 20,
        compress: Bool = true,
        compression: Compression = .zstd,
        decompressedLimit: Int = 128 << 20,
        syncWrites: Bool = true,
        txIndexSlices: Int = 64,
        txIndexStagedRows: Int = 65_536,
        txIDFilterBits: Int = 1 << 24
    ) {
        self.maxFileSize = maxFileSize
        self.compress = compress
        self.compression = compression
        self.decompressedLimit = decompressedLimit
        self.syncWrites = syncWrites
        self.txIndexSlices = txIndexSlices
        self.txIndexStagedRows = txIndexStagedRows
        self.txIDFilterBits = txIDFilterBits
    }
}
