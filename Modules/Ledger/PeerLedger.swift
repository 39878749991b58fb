public import Foundation
public import GRDB
public import Logging
internal import Dispatch
internal import SwiftProtobuf
internal import Synchronization
public import Wire

/// The ledger of one channel: block store, state database and private data store, with Fabric's commit
/// pipeline and crash recovery.
///
/// Commit order per block: (1) private data store (its own SQLite transaction), (2) the block record with its
/// final TRANSACTIONS_FILTER and COMMIT_HASH appended to the block files and flushed, (3) one SQLite transaction
/// with the block index, the state updates, the private-key expiries and the savepoint. A crash after (2)
/// leaves the block in the files above the savepoint; opening the ledger replays it from the stored block
/// (its final filter, so the validator is not run again) and the staged private data. See Docs/ledger.md.
///
/// Commits are serialised by a lock; reads run concurrently on SQLite snapshots (WAL).
public final class PeerLedger: Sendable {
    private struct CommitState: Sendable {
        var previousCommitHash: Data?
        var failure: LedgerError?
        var closed = false
    }

    /// The channel id.
    public let ledgerID: String
    /// The block store.
    public let blockStore: BlockStore
    /// The state database.
    public let stateDB: StateDB
    /// The private data store.
    public let privateDataStore: PrivateDataStore
    /// The SQLite database holding the block index, state and private data.
    public let database: DatabasePool
    let configuration: LedgerConfiguration
    let logger: Logger
    private let commitState = Mutex(CommitState())
    /// The committed versions of recently written public keys, for MVCC (only the commit path touches it).
    private let committedVersions = CommittedVersions()
    /// The thread the blocking part of pipelined commits (SQLite, block files, fsync) runs on.
    let commitQueue: DispatchQueue

    /// Opens (creating when absent) the ledger stored in `directory`, replaying any block the files hold above
    /// the state savepoint.
    public init(
        id: String,
        directory: URL,
        configuration: LedgerConfiguration = LedgerConfiguration(),
        logger: Logger = Logger(label: "ledger")
    ) throws(LedgerError) {
        self.ledgerID = id
        self.configuration = configuration
        self.commitQueue = DispatchQueue(label: "ledger.commit.\(id)")
        var logger = logger
        logger[metadataKey: "channel"] = "\(id)"
        self.logger = logger
        try LedgerError.wrapping("cannot create \(directory.path)") {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        var databaseConfiguration = Configuration()
        databaseConfiguration.label = "ledger.\(id)"
        let synchronous = configuration.synchronousDatabase ? "FULL" : "NORMAL"
        databaseConfiguration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        let path = directory.appendingPathComponent("ledger.sqlite").path
        self.database = try LedgerError.wrapping("cannot open \(path)") {
            try DatabasePool(path: path, configuration: databaseConfiguration)
        }
        self.blockStore = try BlockStore(
            directory: directory.appendingPathComponent("chains"),
            database: self.database,
            configuration: configuration.blockStore,
            logger: logger
        )
        self.stateDB = try StateDB(database: self.database)
        self.privateDataStore = try PrivateDataStore(
            database: self.database,
            purgeInterval: configuration.purgeInterval
        )
        try self.recover()
    }

    // MARK: Recovery

    private func recover() throws(LedgerError) {
        let savepoint = try self.stateDB.savepoint()
        let indexed = self.blockStore.indexedHeight
        // The index and the state are written in one transaction, so they agree unless files were lost.
        let stateHeight = savepoint.map { $0 + 1 } ?? 0
        guard stateHeight == indexed else {
            throw LedgerError(
                code: .inconsistentStorage,
                message: "ledger \(self.ledgerID): state is committed up to height \(stateHeight) but the block "
                    + "files hold only \(indexed) indexed blocks; the block files were damaged or removed"
            )
        }
        for pending in self.blockStore.unindexedBlocks {
            guard let block = try self.blockStore.block(number: pending.number) else { break }
            self.logger.notice(
                "replaying block \(pending.number) from the block files (state savepoint \(savepoint.map(String.init) ?? "none"))"
            )
            try self.replay(block, location: pending.location)
        }
        if let last = try self.blockStore.block(number: max(self.blockStore.height, 1) - 1),
            self.blockStore.height > 0
        {
            let hash = Self.commitHash(of: last)
            self.commitState.withLock { $0.previousCommitHash = hash }
        }
    }

    /// Re-applies a stored block: its filter holds the final codes, so neither the validator nor MVCC runs.
    private func replay(_ block: Common_Block, location: BlockLocation) throws(LedgerError) {
        let number = block.header.number
        let filter = Self.filter(of: block)
        let codes = block.data.data.indices.map { index in
            index < filter.count
                ? Protos_TxValidationCode(rawValue: Int(filter[filter.startIndex + index])) ?? .invalidOtherReason
                : .valid
        }
        let privateData = try self.stagedPrivateData(block: number)
        let processed: ProcessedBlock = try LedgerError.wrapping("cannot replay block \(number)") {
            try self.database.read { db in
                var processor = BlockProcessor(
                    blockNumber: number,
                    db: db,
                    btlPolicy: self.configuration.blockToLivePolicy,
                    logger: self.logger
                )
                return try processor.process(block, codes: codes, runMVCC: false, privateData: privateData)
            }
        }
        try self.writeState(block: block, location: location, processed: processed)
    }

    /// The private data rows stored for block `number` (expired or not), by tx.
    private func stagedPrivateData(block number: UInt64) throws(LedgerError) -> [UInt64: Rwset_TxPvtReadWriteSet] {
        let rows: [Row] = try LedgerError.wrapping("cannot read the private data of block \(number)") {
            try self.database.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT tx, ns, coll, rwset FROM pvt_data WHERE block = ? ORDER BY tx, ns, coll",
                    arguments: [Int64(number)]
                )
            }
        }
        var result: [UInt64: Rwset_TxPvtReadWriteSet] = [:]
        for row in rows {
            let tx = UInt64(row[0] as Int64)
            let namespace: String = row[1]
            var collection = Rwset_CollectionPvtReadWriteSet()
            collection.collectionName = row[2]
            collection.rwset = row[3]
            var set = result[tx] ?? Rwset_TxPvtReadWriteSet()
            if set.nsPvtRwset.last?.namespace != namespace {
                var ns = Rwset_NsPvtReadWriteSet()
                ns.namespace = namespace
                set.nsPvtRwset.append(ns)
            }
            set.nsPvtRwset[set.nsPvtRwset.count - 1].collectionPvtRwset.append(collection)
            result[tx] = set
        }
        return result
    }

    // MARK: Committing

    /// The number of committed blocks (the next block's number).
    public var height: UInt64 { self.blockStore.indexedHeight }

    /// The commit hash of the last committed block, or nil (empty ledger, or only block 0).
    public var lastCommitHash: Data? { self.commitState.withLock { $0.previousCommitHash } }

    /// Validates `block` with `validator`, then commits it (see ``commit(_:validationCodes:privateData:missingPrivateData:)``).
    @discardableResult
    public func commit(
        _ block: Common_Block,
        validator: any TransactionValidator,
        privateData: [TxPrivateData] = [],
        missingPrivateData: [MissingPrivateData] = []
    ) async throws(LedgerError) -> CommittedBlock {
        try await self.commit(
            BlockCommitRequest(block: block, privateData: privateData, missingPrivateData: missingPrivateData),
            prepared: nil,
            validator: validator
        )
    }

    /// Commits `block` whose transactions the validator has coded `validationCodes` (pre-MVCC).
    ///
    /// Runs preprocess and MVCC, writes the final TRANSACTIONS_FILTER (raw bytes, metadata index 2) and the
    /// COMMIT_HASH (metadata index 4), then stores private data, the block and state in that order.
    ///
    /// - Parameters:
    ///   - privateData: the cleartext private write sets this peer has for the block's transactions. When empty
    ///     and the private data store already holds data staged for this block (a crash after staging), that
    ///     data is used.
    ///   - missingPrivateData: the collections whose private data this peer lacks.
    /// - Throws: ``LedgerError`` naming the block; nothing is committed when it throws before the block append.
    @discardableResult
    public func commit(
        _ block: Common_Block,
        validationCodes: [Protos_TxValidationCode],
        privateData: [TxPrivateData] = [],
        missingPrivateData: [MissingPrivateData] = []
    ) throws(LedgerError) -> CommittedBlock {
        try self.commit(
            block,
            validationCodes: validationCodes,
            privateData: privateData,
            missingPrivateData: missingPrivateData,
            prepared: nil,
            record: nil,
            dataHash: .verify
        )
    }

    /// ``commit(_:validationCodes:privateData:missingPrivateData:)`` with the block as validation prepared it
    /// (its decoded read-write sets are reused) and its record compressed ahead, when there are.
    func commit(
        _ block: Common_Block,
        validationCodes: [Protos_TxValidationCode],
        privateData: [TxPrivateData],
        missingPrivateData: [MissingPrivateData],
        prepared: PreparedBlock?,
        record: BlockStore.PreparedRecord?,
        dataHash: BlockStore.DataHashCheck
    ) throws(LedgerError) -> CommittedBlock {
        try self.commitState.withLock { (state) throws(LedgerError) -> CommittedBlock in
            if state.closed { throw LedgerError(code: .closed, message: "ledger \(self.ledgerID) is closed") }
            if let failure = state.failure {
                throw LedgerError(
                    code: .inconsistentStorage,
                    message: "ledger \(self.ledgerID) failed an earlier commit and must be reopened to recover",
                    cause: failure
                )
            }
            let committed = try self.commitLocked(
                block,
                codes: validationCodes,
                privateData: privateData,
                missing: missingPrivateData,
                prepared: prepared,
                record: record,
                dataHash: dataHash,
                previousCommitHash: state.previousCommitHash,
                markFailed: { state.failure = $0 }
            )
            if let hash = committed.commitHash { state.previousCommitHash = hash }
            return committed
        }
    }

    private func commitLocked(
        _ block: Common_Block,
        codes: [Protos_TxValidationCode],
        privateData: [TxPrivateData],
        missing: [MissingPrivateData],
        prepared: PreparedBlock?,
        record: BlockStore.PreparedRecord?,
        dataHash: BlockStore.DataHashCheck,
        previousCommitHash: Data?,
        markFailed: (LedgerError) -> Void
    ) throws(LedgerError) -> CommittedBlock {
        let number = block.header.number
        try self.blockStore.checkAppendable(block, dataHash: dataHash)
        guard codes.count == block.data.data.count else {
            throw LedgerError(
                code: .invalidValidationCodes,
                message: "block \(number) has \(block.data.data.count) transactions but \(codes.count) validation codes"
            )
        }
        if let index = codes.firstIndex(of: .notValidated) {
            throw LedgerError(code: .invalidValidationCodes, message: "block \(number) tx \(index) is NOT_VALIDATED")
        }

        var privateData = privateData
        if privateData.isEmpty, missing.isEmpty, try self.privateDataStore.stagedBlock() == number {
            privateData = try self.stagedPrivateData(block: number).map {
                TxPrivateData(txIndex: $0.key, writeSet: $0.value)
            }
            .sorted { $0.txIndex < $1.txIndex }
        }
        var privateByTx: [UInt64: Rwset_TxPvtReadWriteSet] = [:]
        for tx in privateData {
            guard tx.txIndex < UInt64(block.data.data.count) else {
                throw LedgerError(
                    code: .privateDataMismatch,
                    message:
                        "block \(number) has \(block.data.data.count) transactions; private data names tx \(tx.txIndex)"
                )
            }
            privateByTx[tx.txIndex] = tx.writeSet
        }

        // Preprocess, MVCC and the update batch, against a snapshot of committed state.
        let (processed, entries, missingEntries) = try LedgerError.wrapping("cannot process block \(number)") {
            try self.database.read { db in
                var processor = BlockProcessor(
                    blockNumber: number,
                    db: db,
                    btlPolicy: self.configuration.blockToLivePolicy,
                    logger: self.logger,
                    committedVersions: self.committedVersions
                )
                let processed = try processor.process(
                    block,
                    codes: codes,
                    runMVCC: true,
                    privateData: privateByTx,
                    prepared: prepared
                )
                var entries: [PrivateDataStore.Entry] = []
                for tx in privateData {
                    for item in tx.writeSet.flattened {
                        let btl = try processor.blockToLive(item.namespace, item.collection)
                        entries.append(
                            PrivateDataStore.Entry(
                                txIndex: tx.txIndex,
                                namespace: item.namespace,
                                collection: item.collection,
                                rwset: item.rwset,
                                expiringBlock: BlockToLive.expiringBlock(committingBlock: number, blockToLive: btl)
                            )
                        )
                    }
                }
                var missingEntries: [PrivateDataStore.MissingEntry] = []
                for item in missing {
                    let btl = try processor.blockToLive(item.namespace, item.collection)
                    missingEntries.append(
                        PrivateDataStore.MissingEntry(
                            missing: item,
                            expiringBlock: BlockToLive.expiringBlock(committingBlock: number, blockToLive: btl)
                        )
                    )
                }
                return (processed, entries, missingEntries)
            }
        }

        // The block as stored: final filter and commit hash.
        var stored = block
        while stored.metadata.metadata.count < 5 { stored.metadata.metadata.append(Data()) }
        let filter = Data(processed.codes.map { UInt8(truncatingIfNeeded: $0.rawValue) })
        stored.metadata.metadata[Int(Common_BlockMetadataIndex.transactionsFilter.rawValue)] = filter
        var commitHash: Data?
        if number == 1 || previousCommitHash != nil {
            let hasher = DigestHasher()
            hasher.update(ProtobufVarint.encoding(UInt64(filter.count)))
            hasher.update(filter)
            hasher.update(processed.batch.commitHashBytes())
            if let previousCommitHash { hasher.update(previousCommitHash) }
            let hash = hasher.finalize()
            var metadata = Common_Metadata()
            metadata.value = hash
            stored.metadata.metadata[Int(Common_BlockMetadataIndex.commitHash.rawValue)] =
                try LedgerError.wrapping("cannot encode the commit hash") { try metadata.serializedBytes() }
            commitHash = hash
        }

        // (1) Private data store.
        if !entries.isEmpty || !missingEntries.isEmpty {
            try LedgerError.wrapping("cannot store the private data of block \(number)") {
                try self.database.write { db in
                    try PrivateDataStore.stage(blockNumber: number, data: entries, missing: missingEntries, db: db)
                }
            }
        }
        // (2) Block files.
        // `stored` is `block` with new metadata: its header and data were checked above.
        let location = try self.blockStore.appendRecord(stored, prepared: record, dataHash: .verifiedByCaller)
        // (3) Index, state, savepoint.
        do {
            try self.writeState(block: stored, location: location, processed: processed)
        } catch {
            self.logger.critical("block \(number) is in the block files but its state did not commit: \(error)")
            markFailed(error)
            throw error
        }
        return CommittedBlock(block: stored, validationCodes: processed.codes, commitHash: commitHash)
    }

    private func writeState(
        block: Common_Block,
        location: BlockLocation,
        processed: ProcessedBlock
    )
        throws(LedgerError)
    {
        let number = block.header.number
        let indexUpdate: StagedTxIndex.Update
        do {
            indexUpdate = try self.writeStateTransaction(block: block, location: location, processed: processed)
        } catch {
            // Whether any of it committed is not known here: versions are read from state again.
            self.committedVersions.clear()
            throw error
        }
        self.committedVersions.record(processed.batch.publicWrites)
        self.blockStore.didIndex(number, indexUpdate)
    }

    /// The state transaction of `writeState`: tx index rows, state, savepoint and private data bookkeeping.
    private func writeStateTransaction(
        block: Common_Block,
        location: BlockLocation,
        processed: ProcessedBlock
    ) throws(LedgerError) -> StagedTxIndex.Update {
        let number = block.header.number
        return try LedgerError.wrapping("cannot commit the state of block \(number)") {
            try self.database.write { db in
                let update = try self.blockStore.writeIndex(
                    block: block,
                    location: location,
                    txIDs: processed.txIDs,
                    db: db
                )
                try StateDB.apply(processed.batch, expiries: processed.expiries, savepoint: number, db: db)
                try CollectionConfigHistory.record(processed.batch, block: number, db: db)
                try PrivateDataStore.removePurgedKeys(processed.batch.purgedPrivateKeys, db: db)
                try PrivateDataStore.markCommitted(number, purgeInterval: self.configuration.purgeInterval, db: db)
                return update
            }
        }
    }

    /// Stops accepting commits and writes the tx index rows still held in memory. Reads keep working until the
    /// ledger is released.
    public func close() {
        self.commitState.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            // Under the commit lock: no commit runs beside it. A failure only leaves the rows to be read again
            // from the block files on the next open.
            do {
                try self.blockStore.writeStagedTxIndex()
            } catch {
                self.logger.warning("\(error)")
            }
        }
    }

    // MARK: Reading

    /// Block `number`, as stored (with its filter and commit hash), or nil.
    public func block(number: UInt64) throws(LedgerError) -> Common_Block? {
        number < self.height ? try self.blockStore.block(number: number) : nil
    }

    /// The block whose header hashes to `hash`, or nil.
    public func block(hash: Data) throws(LedgerError) -> Common_Block? {
        guard let block = try self.blockStore.block(hash: hash), block.header.number < self.height else { return nil }
        return block
    }

    /// The committed blocks from `number` on; waits for new ones until the task is cancelled.
    public func blocks(from number: UInt64) -> BlockSequence { self.blockStore.blocks(from: number) }

    /// Every committed occurrence of `txID` (duplicates are kept), in block order.
    public func transactionEntries(txID: String) throws(LedgerError) -> [TxIndexEntry] {
        try self.blockStore.transactionEntries(txID: txID)
    }

    /// Whether `txID` was committed (with any code).
    public func txIDExists(_ txID: String) throws(LedgerError) -> Bool { try self.blockStore.txIDExists(txID) }

    /// The validation code of the first committed transaction with `txID`, or nil.
    public func validationCode(txID: String) throws(LedgerError) -> Protos_TxValidationCode? {
        try self.transactionEntries(txID: txID).first?.validationCode
    }

    /// The envelope of the first committed transaction with `txID`, or nil.
    public func transactionEnvelope(txID: String) throws(LedgerError) -> Common_Envelope? {
        try self.blockStore.transactionEnvelope(txID: txID)
    }

    /// The committed public value of `key`.
    public func state(namespace: String, key: String) throws(LedgerError) -> VersionedValue? {
        try self.stateDB.state(namespace: namespace, key: key)
    }

    /// The committed value hash of a private key.
    public func hashedState(
        namespace: String,
        collection: String,
        keyHash: Data
    ) throws(LedgerError)
        -> VersionedValue?
    {
        try self.stateDB.hashedState(namespace: namespace, collection: collection, keyHash: keyHash)
    }

    /// The committed cleartext value of a private key, where this peer has it.
    public func privateState(
        namespace: String,
        collection: String,
        key: String
    ) throws(LedgerError)
        -> VersionedValue?
    {
        try self.stateDB.privateState(namespace: namespace, collection: collection, key: key)
    }

    /// The public keys of `namespace` in [startKey, endKey) (endKey "" means no upper bound).
    public func range(
        namespace: String,
        startKey: String,
        endKey: String
    ) throws(LedgerError)
        -> [(key: String, value: VersionedValue)]
    {
        try self.stateDB.range(namespace: namespace, startKey: startKey, endKey: endKey)
    }

    /// The channel configuration persisted by the last CONFIG transaction (namespace "" key
    /// `CHANNEL_CONFIG_ENV_BYTES`), or nil before the genesis block is committed.
    public func channelConfigEnvelope() throws(LedgerError) -> Common_ConfigEnvelope? {
        guard let value = try self.state(namespace: ChannelConfigKey.namespace, key: ChannelConfigKey.key) else {
            return nil
        }
        do {
            return try Common_ConfigEnvelope(serializedBytes: value.value)
        } catch {
            throw LedgerError(
                code: .malformedBlock,
                message: "the persisted channel config of \(self.ledgerID) does not decode",
                cause: error
            )
        }
    }

    /// The private data of block `number`, omitting expired data and what `filter` leaves out.
    public func privateData(
        block number: UInt64,
        filter: PrivateDataFilter? = nil
    ) throws(LedgerError)
        -> [TxPrivateData]
    {
        try self.privateDataStore.privateData(block: number, filter: filter)
    }

    /// The eligible missing private data of the most recent blocks, most recent first: the prioritized list, or
    /// with `deprioritized` the list of entries whose reconciliation failed before.
    public func missingPrivateData(
        mostRecentBlocks maxBlocks: Int,
        deprioritized: Bool = false
    ) throws(LedgerError) -> [MissingBlockPrivateData] {
        try self.privateDataStore.missingData(mostRecentBlocks: maxBlocks, deprioritized: deprioritized)
    }

    /// SHA-256 over all state rows and the savepoint: equal for ledgers with equal state. Without
    /// `includingPrivate` the cleartext private state is left out, so peers of organisations that are members of
    /// different collections still agree when their shared (public and hashed) state is equal.
    public func stateFingerprint(includingPrivate: Bool = true) throws(LedgerError) -> Data {
        try self.stateDB.fingerprint(includingPrivate: includingPrivate)
    }

    // MARK: Helpers

    /// The TRANSACTIONS_FILTER bytes of `block` (empty when absent).
    public static func filter(of block: Common_Block) -> Data { BlockStore.filter(of: block) }

    /// The commit hash stored in `block`'s metadata, or nil.
    public static func commitHash(of block: Common_Block) -> Data? {
        let index = Int(Common_BlockMetadataIndex.commitHash.rawValue)
        guard block.metadata.metadata.count > index, !block.metadata.metadata[index].isEmpty,
            let metadata = try? Common_Metadata(serializedBytes: block.metadata.metadata[index]),
            !metadata.value.isEmpty
        else { return nil }
        return metadata.value
    }
}
