import Foundation
public import Wire

/// What a transaction validator may read from the ledger: committed state (as of the last committed block, no
/// overlay of the block being validated) and the transaction-id index.
public protocol ValidationContext: CommittedStateReader, Sendable {
    /// The number of committed blocks; the block being validated has this number.
    var height: UInt64 { get }
    /// Whether a transaction with `txID` is already on the chain (for DUPLICATE_TXID).
    func txIDExists(_ txID: String) throws -> Bool
}

/// The seam between the ledger and transaction validation (signatures, endorsement policies, VSCC, CONFIG
/// application), which lives above the ledger because it needs MSPs and channel configuration.
///
/// Given a block, the validator returns exactly one code per transaction, in block order: `.valid` or the
/// invalid code Fabric's v2.0 validator assigns (never `.notValidated`). It runs before MVCC: the ledger then
/// skips every transaction not marked valid, extracts read-write sets, runs MVCC on the valid ones (which may
/// turn them into MVCC_READ_CONFLICT / PHANTOM_READ_CONFLICT) and commits. A CONFIG transaction it accepts is
/// the validator's to apply to the channel configuration (Fabric's `Channel.Apply`) before returning; the
/// ledger only persists the config envelope under namespace "" key `CHANNEL_CONFIG_ENV_BYTES`.
///
/// A thrown error fails the whole block (Fabric's terminal errors: VSCC execution failure, info lookup failure,
/// config apply failure); nothing is committed.
public protocol TransactionValidator: Sendable {
    /// One code per transaction of `block`, in order.
    func validate(_ block: Common_Block, context: any ValidationContext) async throws -> [Protos_TxValidationCode]
}
