public import Ledger
public import Logging
public import Wire

/// The channel's one commit path: validates and commits blocks strictly in order, one at a time.
///
/// Everything that commits into the channel's ledger (the gossip state loop, the deliver hand-off when gossip state
/// is off, replays) goes through here, so two sources can never interleave a block. A block below the height is
/// already committed and is skipped; a block above it is refused (the caller buffers and retries in order).
public actor ChannelCommitter {
    /// The outcome of ``commit(_:)``.
    public enum Outcome: Sendable {
        /// The block was committed.
        case committed(CommittedBlock)
        /// The block was already in the ledger; nothing changed.
        case alreadyCommitted
    }

    /// The ledger.
    public nonisolated let ledger: PeerLedger
    private let validator: any TransactionValidator
    private let logger: Logger
    private let onCommit: @Sendable (CommittedBlock) -> Void

    /// A committer for `ledger`, validating with `validator`; `onCommit` runs after each commit (heights, metrics).
    public init(
        ledger: PeerLedger,
        validator: any TransactionValidator,
        logger: Logger,
        onCommit: @escaping @Sendable (CommittedBlock) -> Void = { _ in }
    ) {
        self.ledger = ledger
        self.validator = validator
        self.logger = logger
        self.onCommit = onCommit
    }

    /// The ledger height (the number of the next block to commit).
    public nonisolated var height: UInt64 { self.ledger.height }

    /// Validates and commits `block` with the private data this peer has for it.
    ///
    /// - Throws: ``PeerCoreError/Code/badBlock`` for a block out of order; the ledger's error when validation or
    ///   the commit fails (nothing of the block is committed then).
    @discardableResult
    public func commit(
        _ block: Common_Block,
        privateData: [TxPrivateData] = [],
        missingPrivateData: [MissingPrivateData] = []
    ) async throws -> Outcome {
        guard try self.isNext(block) else { return .alreadyCommitted }
        let committed = try await self.ledger.commit(
            block,
            validator: self.validator,
            privateData: privateData,
            missingPrivateData: missingPrivateData
        )
        return self.committed(committed, block, privateData: privateData.count, missing: missingPrivateData.count)
    }

    /// Whether `block` is the next one to commit (false: already committed); a block above the height throws.
    private func isNext(_ block: Common_Block) throws(PeerCoreError) -> Bool {
        let height = self.ledger.height
        let number = block.header.number
        if number < height { return false }
        guard number == height else {
            throw PeerCoreError(
                .badBlock,
                "channel \(self.ledger.ledgerID): block \(number) cannot be committed at height \(height); "
                    + "blocks are committed in order"
            )
        }
        return true
    }

    private func committed(_ committed: CommittedBlock, _ block: Common_Block, privateData: Int, missing: Int) -> Outcome {
        self.logger.info(
            "committed block",
            metadata: [
                "channel": "\(self.ledger.ledgerID)", "block": "\(block.header.number)",
                "transactions": "\(block.data.data.count)", "private": "\(privateData)", "missing": "\(missing)",
            ]
        )
        self.onCommit(committed)
        return .committed(committed)
    }

    /// The validator's codes for `block` (before MVCC), for a caller that decides on private data between
    /// validation and commit (the private-data coordinator).
    public func validate(_ block: Common_Block) async throws -> [Protos_TxValidationCode] {
        try await self.validator.validate(block, context: self.ledger.validationContext)
    }

    /// Commits `block` whose transactions ``validate(_:)`` coded `validationCodes`, with the private data found
    /// and the missing-data records; same ordering rules as ``commit(_:privateData:missingPrivateData:)``.
    @discardableResult
    public func commit(
        _ block: Common_Block,
        validationCodes: [Protos_TxValidationCode],
        privateData: [TxPrivateData],
        missingPrivateData: [MissingPrivateData]
    ) throws -> Outcome {
        guard try self.isNext(block) else { return .alreadyCommitted }
        let committed = try self.ledger.commit(
            block,
            validationCodes: validationCodes,
            privateData: privateData,
            missingPrivateData: missingPrivateData
        )
        return self.committed(committed, block, privateData: privateData.count, missing: missingPrivateData.count)
    }
}
