public import Wire

/// One entry of the transaction-id index: where a transaction with a given id was committed, and its code.
///
/// A tx id can appear more than once on a chain (a resent transaction is committed again as DUPLICATE_TXID),
/// so the index keeps every occurrence.
public struct TxIndexEntry: Hashable, Sendable {
    /// The block holding the transaction.
    public var blockNumber: UInt64
    /// The transaction's index inside the block.
    public var txNumber: UInt64
    /// The validation code stored in the block's TRANSACTIONS_FILTER.
    public var validationCode: Protos_TxValidationCode

    /// Creates an entry.
    public init(blockNumber: UInt64, txNumber: UInt64, validationCode: Protos_TxValidationCode) {
        self.blockNumber = blockNumber
        self.txNumber = txNumber
        self.validationCode = validationCode
    }
}
