public import Foundation

/// A committed block as served to a state request: its bytes as stored, and the private data the requester may see.
public struct ServedBlock: Sendable, Hashable {
    /// The marshalled `common.Block` as committed (with this peer's TRANSACTIONS_FILTER and COMMIT_HASH).
    public var block: Data
    /// The private write sets of the block that the requester is eligible for.
    public var privateData: [TxPrivateWriteSet]

    /// Creates a served block.
    public init(block: Data, privateData: [TxPrivateWriteSet] = []) {
        self.block = block
        self.privateData = privateData
    }
}

/// What the server side of state transfer reads from the ledger (Fabric's `LedgerHeight` and
/// `GetPvtDataAndBlockByNum`).
///
/// PeerCore implements it over the Ledger module (block bytes) and Privdata's collection access (filtering the
/// private data by the requester's eligibility).
public protocol StateBlockSource: Sendable {
    /// The number of committed blocks.
    func ledgerHeight() throws -> UInt64

    /// Block `number` with the private data `requester` is eligible for (judged on its handshake SignedData), or
    /// nil when the block is not committed.
    func block(number: UInt64, for requester: StateRequester) async throws -> ServedBlock?
}
