public import Foundation

/// Where the ledger stands: its height and the hash of its last block.
public struct LedgerTip: Sendable, Hashable {
    /// The number of blocks in the ledger (the next block to fetch is number `height`).
    public var height: UInt64
    /// The header hash (SHA-256 of the DER header) of block `height - 1`; nil when unknown, which skips the
    /// previous-hash check of the next block, as Fabric does without a last hash.
    public var lastBlockHash: Data?

    /// Creates a tip.
    public init(height: UInt64, lastBlockHash: Data?) {
        self.height = height
        self.lastBlockHash = lastBlockHash
    }
}

/// What the deliverer needs from the channel's ledger (Fabric's `LedgerInfo`): asked before every connection, so
/// a reconnect seeks from what has actually been committed.
///
/// PeerCore adapts the Ledger module's block store to it.
public protocol BlockHeightProvider: Sendable {
    /// The ledger's current height and last block hash. An error ends delivery for the channel (Fabric treats it
    /// as critical).
    func ledgerTip() async throws -> LedgerTip
}
