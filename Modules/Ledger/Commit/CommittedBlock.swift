public import Foundation
public import Wire

/// What committing a block produced.
public struct CommittedBlock: Sendable {
    /// The block as stored: the orderer's block with TRANSACTIONS_FILTER and COMMIT_HASH added.
    public var block: Common_Block
    /// The final validation codes (after MVCC), one per transaction.
    public var validationCodes: [Protos_TxValidationCode]
    /// The commit hash stored in metadata[COMMIT_HASH], or nil (block 0).
    public var commitHash: Data?

    /// The block number.
    public var number: UInt64 { self.block.header.number }
}
