public import Ledger
public import Wire

/// What the coordinator validates and commits with (Fabric's `Committer` + `Validator` of the coordinator):
/// PeerCore may implement it over its channel committer; ``LedgerPrivdataCommitter`` is the direct one.
public protocol PrivdataCommitter: Sendable {
    /// The number of committed blocks.
    var height: UInt64 { get }
    /// The validator's codes for `block` (before MVCC), one per transaction.
    func validate(_ block: Common_Block) async throws -> [Protos_TxValidationCode]
    /// Whether the private data store already holds the data of block `number` (staged by a commit that crashed
    /// before the block was appended); such a block is committed with that data.
    func hasStagedPrivateData(block number: UInt64) throws -> Bool
    /// Commits `block` with the codes, the private data found and the missing-data records.
    func commit(
        _ block: Common_Block,
        validationCodes: [Protos_TxValidationCode],
        privateData: [TxPrivateData],
        missing: [MissingPrivateData]
    ) async throws
    /// The private data of a committed block (for serving state transfer and pull requests).
    func privateData(block number: UInt64) throws -> [TxPrivateData]
}

/// ``PrivdataCommitter`` straight over a ``PeerLedger`` and a ``TransactionValidator``.
public struct LedgerPrivdataCommitter: PrivdataCommitter {
    /// The ledger.
    public let ledger: PeerLedger
    /// The validator.
    public let validator: any TransactionValidator
    /// Called after each commit.
    public let onCommit: @Sendable (CommittedBlock) -> Void

    /// Creates the committer.
    public init(
        ledger: PeerLedger,
        validator: any TransactionValidator,
        onCommit: @escaping @Sendable (CommittedBlock) -> Void = { _ in }
    ) {
        self.ledger = ledger
        self.validator = validator
        self.onCommit = onCommit
    }

    public var height: UInt64 { self.ledger.height }

    public func validate(_ block: Common_Block) async throws -> [Protos_TxValidationCode] {
        try await self.validator.validate(block, context: self.ledger.validationContext)
    }

    public func hasStagedPrivateData(block number: UInt64) throws -> Bool {
        try self.ledger.privateDataStore.stagedBlock() == number
    }

    public func commit(
        _ block: Common_Block,
        validationCodes: [Protos_TxValidationCode],
        privateData: [TxPrivateData],
        missing: [MissingPrivateData]
    ) async throws {
        let committed = try self.ledger.commit(
            block,
            validationCodes: validationCodes,
            privateData: privateData,
            missingPrivateData: missing
        )
        self.onCommit(committed)
    }

    public func privateData(block number: UInt64) throws -> [TxPrivateData] {
        try self.ledger.privateData(block: number)
    }
}
