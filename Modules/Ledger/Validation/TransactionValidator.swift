import Foundation
public import Wire

/// Committed state and the transaction-id index as one consistent view: what the state-dependent half of
/// validation reads.
public protocol ValidationSnapshot: CommittedStateReader {
    /// Whether a transaction with `txID` is already on the chain (for DUPLICATE_TXID).
    func txIDExists(_ txID: String) throws -> Bool

    /// Whether some committed key of `namespace` (of `collection`'s hashed state when not empty) may carry
    /// key-level metadata. False guarantees that none does, so validation need not read each written key's
    /// metadata. The default answers true (read every key).
    func mayHaveKeyMetadata(namespace: String, collection: String) throws -> Bool
}

extension ValidationSnapshot {
    public func mayHaveKeyMetadata(namespace: String, collection: String) throws -> Bool { true }
}

/// What a transaction validator may read from the ledger: committed state (as of the last committed block, no
/// overlay of the block being validated) and the transaction-id index.
public protocol ValidationContext: ValidationSnapshot, Sendable {
    /// The number of committed blocks; the block being validated has this number.
    var height: UInt64 { get }

    /// Runs `body` on one snapshot of committed state, so that a block's many point reads share one read
    /// transaction instead of opening one each. The default passes the context itself.
    func withSnapshot<T>(_ body: (any ValidationSnapshot) throws -> T) throws -> T
}

extension ValidationContext {
    /// Runs `body` with the context itself as the snapshot.
    public func withSnapshot<T>(_ body: (any ValidationSnapshot) throws -> T) throws -> T { try body(self) }
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

    /// The state-independent half of validating `block` (signatures, decoding), which a commit pipeline runs
    /// while the previous block commits; nil when the validator has no such half (the default).
    func prepare(_ block: Common_Block) async -> PreparedBlock?

    /// One code per transaction of a block that ``prepare(_:)`` returned, in order. Must give exactly the codes
    /// ``validate(_:context:)`` gives for the same block and state. The default validates `prepared.block`.
    func validate(_ prepared: PreparedBlock, context: any ValidationContext) async throws -> [Protos_TxValidationCode]
}

extension TransactionValidator {
    /// No state-independent half: nil.
    public func prepare(_ block: Common_Block) async -> PreparedBlock? { nil }

    /// Validates the prepared block from scratch.
    public func validate(
        _ prepared: PreparedBlock,
        context: any ValidationContext
    ) async throws -> [Protos_TxValidationCode] {
        try await self.validate(prepared.block, context: context)
    }
}
