import Foundation
internal import GRDB
internal import Logging
internal import SwiftProtobuf
internal import Wire

/// The namespace and key under which a CONFIG transaction's `ConfigEnvelope` is kept in state.
public enum ChannelConfigKey {
    /// The namespace: the empty string.
    public static let namespace = ""
    /// The key.
    public static let key = "CHANNEL_CONFIG_ENV_BYTES"
}

/// What processing a block produced: final codes, tx ids, the update batch and the private-key expiries.
struct ProcessedBlock {
    var codes: [Protos_TxValidationCode]
    var txIDs: [String]
    var batch: UpdateBatch
    var expiries: [ScheduledExpiry]
}

/// Fabric's commit-time processing of one block (kvledger's `ValidateAndPrepare`): preprocess, MVCC, and the
/// update batch, against committed state read through `db` (a snapshot of the last committed block).
///
/// - Preprocess: transactions the validator did not mark VALID are skipped. A VALID endorser transaction whose
///   action cannot be extracted becomes NIL_TXACTION, one whose read-write set does not decode
///   INVALID_OTHER_REASON. A CONFIG transaction writes its ConfigEnvelope bytes to namespace "" key
///   `CHANNEL_CONFIG_ENV_BYTES`. Other header types have no processor and commit nothing. (A VALID transaction
///   whose envelope does not even decode gets the code Fabric's validator would give it, never a crash.)
/// - MVCC per VALID transaction in order: public reads (written earlier in the block, or a committed version
///   different from the read version → MVCC_READ_CONFLICT), range queries re-executed over committed state merged
///   with the earlier valid writes of the block (→ PHANTOM_READ_CONFLICT), hashed reads (→ MVCC_READ_CONFLICT),
///   namespace by namespace. A valid transaction's writes enter the batch at (block, tx).
/// - Private writes of VALID transactions whose private data is present enter the batch after their hash is
///   checked against `pvt_rwset_hash` (a mismatch fails the block).
struct BlockProcessor {
    let blockNumber: UInt64
    let db: Database
    let btlPolicy: any BlockToLivePolicy
    let logger: Logger
    private var btlCache: [String: UInt64] = [:]
    /// Whether committed keys carry metadata, per namespace and collection (asked once per block).
    private let metadataPresence = KeyMetadataPresence()

    /// Versions of recently committed keys, looked up before state (``CommittedVersions``).
    private let committedVersions: CommittedVersions?

    init(
        blockNumber: UInt64,
        db: Database,
        btlPolicy: any BlockToLivePolicy,
        logger: Logger,
        committedVersions: CommittedVersions? = nil
    ) {
        self.blockNumber = blockNumber
        self.db = db
        self.btlPolicy = btlPolicy
        self.logger = logger
        self.committedVersions = committedVersions
    }

    /// Processes `block` whose pre-MVCC codes are `codes`.
    ///
    /// - Parameters:
    ///   - runMVCC: false when replaying a block whose final codes are already known (recovery).
    ///   - privateData: cleartext private write sets by tx index.
    ///   - prepared: the block as validation prepared it, when it did: the read-write sets of the endorser
    ///     transactions it decoded are taken from there instead of decoding their envelopes again (the same
    ///     bytes through the same decoders, so the same result).
    mutating func process(
        _ block: Common_Block,
        codes initialCodes: [Protos_TxValidationCode],
        runMVCC: Bool,
        privateData: [UInt64: Rwset_TxPvtReadWriteSet],
        prepared preparedBlock: PreparedBlock? = nil
    ) throws(LedgerError) -> ProcessedBlock {
        var codes = initialCodes
        var txIDs = [String](repeating: "", count: block.data.data.count)
        var batch = UpdateBatch()
        let decoded = preparedBlock.flatMap { $0.block.header.number == block.header.number ? $0 : nil }
        var versions: StateDB.VersionReader?
        for (index, envelopeBytes) in block.data.data.enumerated() {
            let txID: String
            let prepared: TxReadWriteSet?
            if codes[index] == .valid, let extracted = decoded?.endorserReadWriteSet(at: index) {
                txID = extracted.txID
                prepared = TxReadWriteSet(extracted.readWriteSet)
            } else {
                let preprocessed = self.preprocess(envelopeBytes, index: index, code: &codes[index])
                txID = preprocessed.0
                prepared = preprocessed.1
            }
            txIDs[index] = txID
            guard codes[index] == .valid, var rwset = prepared else { continue }
            let height = Height(blockNumber: self.blockNumber, txNumber: UInt64(index))
            do {
                if runMVCC {
                    let reader = try versions ?? StateDB.VersionReader(self.db)
                    versions = reader
                    let code = try self.validate(rwset, batch: batch, versions: reader)
                    if code != .valid {
                        self.logger.debug("block \(self.blockNumber) tx \(index) (\(txID)) marked \(code) by MVCC")
                        codes[index] = code
                        continue
                    }
                }
                if rwset.namespaces.isEmpty { continue }
                try self.apply(&rwset, at: height, to: &batch)
                if let pvt = privateData[UInt64(index)] {
                    try self.applyPrivate(pvt, of: rwset, txID: txID, at: height, to: &batch)
                }
            } catch let error as LedgerError {
                throw error
            } catch {
                throw LedgerError.storage("cannot read state while committing block \(self.blockNumber)", cause: error)
            }
        }
        let expiries = try self.expiries(of: batch)
        return ProcessedBlock(codes: codes, txIDs: txIDs, batch: batch, expiries: expiries)
    }

    // MARK: Preprocess

    /// Extracts the tx id and, for a VALID transaction, its read-write set; may change `code`.
    private func preprocess(
        _ bytes: Data,
        index: Int,
        code: inout Protos_TxValidationCode
    )
        -> (String, TxReadWriteSet?)
    {
        let envelope: Common_Envelope
        let payload: Common_Payload
        let header: Common_ChannelHeader
        do {
            envelope = try Common_Envelope(decoding: bytes, field: "Block.data")
        } catch {
            self.invalidate(&code, .invalidOtherReason, index, "the envelope does not decode")
            return ("", nil)
        }
        do {
            payload = try envelope.unpackPayload()
        } catch {
            self.invalidate(&code, .badPayload, index, "\(error)")
            return ("", nil)
        }
        do {
            header = try payload.unpackChannelHeader()
        } catch {
            self.invalidate(&code, .badCommonHeader, index, "\(error)")
            return ("", nil)
        }
        guard code == .valid else { return (header.txID, nil) }
        switch header.headerType {
        case .endorserTransaction?:
            let results: Data
            do {
                let transaction = try payload.unpackTransaction()
                guard let action = transaction.actions.first else {
                    throw WireError.missing("Transaction", field: "actions")
                }
                let chaincodeAction = try action.unpackChaincodeActionPayload().unpackProposalResponsePayload()
                    .unpackChaincodeAction()
                results = chaincodeAction.results
            } catch {
                self.invalidate(&code, .nilTxaction, index, "no chaincode action: \(error)")
                return (header.txID, nil)
            }
            do {
                return (header.txID, try TxReadWriteSet(resultsBytes: results))
            } catch {
                self.invalidate(&code, .invalidOtherReason, index, "read-write set does not decode: \(error)")
                return (header.txID, nil)
            }
        case .config?:
            guard (try? Common_ConfigEnvelope(serializedBytes: payload.data)) != nil else {
                self.invalidate(&code, .invalidConfigTransaction, index, "payload data is not a ConfigEnvelope")
                return (header.txID, nil)
            }
            var write = Kvrwset_KVWrite()
            write.key = ChannelConfigKey.key
            write.value = payload.data
            var kv = Kvrwset_KVRWSet()
            kv.writes = [write]
            return (
                header.txID,
                TxReadWriteSet(namespaces: [.init(name: ChannelConfigKey.namespace, kv: kv, collections: [])])
            )
        default:
            // No custom processor for this type: nothing to commit (Fabric's validator gives such txs
            // UNKNOWN_TX_TYPE before they get here).
            return (header.txID, nil)
        }
    }

    private func invalidate(
        _ code: inout Protos_TxValidationCode,
        _ newCode: Protos_TxValidationCode,
        _ index: Int,
        _ reason: String
    ) {
        guard code == .valid else { return }
        self.logger.warning("block \(self.blockNumber) tx \(index) marked \(newCode): \(reason)")
        code = newCode
    }

    // MARK: MVCC

    private func validate(
        _ rwset: TxReadWriteSet,
        batch: UpdateBatch,
        versions: StateDB.VersionReader
    ) throws -> Protos_TxValidationCode {
        for ns in rwset.namespaces {
            for read in ns.kv.reads {
                let key = Data(read.key.utf8)
                if batch.publicWrite(ns.name, key) != nil { return .mvccReadConflict }
                let committed = try self.committedVersions?.version(ns.name, key) ?? versions.version(ns.name, key)
                if committed != (read.hasVersion ? Height(read.version) : nil) { return .mvccReadConflict }
            }
            for query in ns.kv.rangeQueriesInfo {
                if try !self.validateRange(query, namespace: ns.name, batch: batch) { return .phantomReadConflict }
            }
            for collection in ns.collections {
                for read in collection.hashed.hashedReads {
                    if batch.hashedWrite(ns.name, collection.name, read.keyHash) != nil { return .mvccReadConflict }
                    let committed = try StateDB.hashedVersion(self.db, ns.name, collection.name, read.keyHash)
                    if committed != (read.hasVersion ? Height(read.version) : nil) { return .mvccReadConflict }
                }
            }
        }
        return .valid
    }

    private func validateRange(_ query: Kvrwset_RangeQueryInfo, namespace: String, batch: UpdateBatch) throws -> Bool {
        var results = try CombinedRangeIterator(
            db: self.db,
            batch: batch,
            namespace: namespace,
            startKey: Data(query.startKey.utf8),
            endKey: Data(query.endKey.utf8),
            includeEndKey: !query.itrExhausted
        )
        switch query.readsInfo {
        case .readsMerkleHashes(let expected)?:
            var builder = RangeQueryMerkleBuilder(maxDegree: expected.maxDegree)
            while let (key, version) = try results.next() {
                var read = Kvrwset_KVRead()
                read.key = String(decoding: key, as: UTF8.self)
                read.version = version.version
                try builder.add(read)
            }
            guard let summary = try builder.finish() else { return false }
            return summary == expected
        case .rawReads(let raw)?:
            return try Self.matches(raw.kvReads, &results)
        case nil:
            return try Self.matches([], &results)
        }
    }

    private static func matches(_ reads: [Kvrwset_KVRead], _ results: inout CombinedRangeIterator) throws -> Bool {
        for read in reads {
            guard let (key, version) = try results.next() else { return false }
            guard key == Data(read.key.utf8) else { return false }
            guard read.hasVersion, version == Height(read.version) else { return false }
        }
        return try results.next() == nil
    }

    // MARK: Applying writes

    private struct CompositeKey: Hashable {
        var namespace: String
        var collection: String
        var key: Data
    }

    private struct KeyOps {
        var upsert = false
        var delete = false
        var metadataUpdate = false
        var metadataDelete = false
        var value = Data()
        var metadata: Data?
    }

    /// Adds the writes of a VALID transaction to `batch` at `height` (Fabric's txops: value and metadata
    /// writes of one key merge; a metadata-only write takes the key's latest value, or is dropped for an absent
    /// key; a value-only write keeps the key's latest metadata).
    private func apply(_ rwset: inout TxReadWriteSet, at height: Height, to batch: inout UpdateBatch) throws {
        // The keys in first-touch order with their merged operations. A transaction writes a few keys, so they are
        // found by comparison in the list; an index by key takes over past 16.
        var ops: [(key: CompositeKey, op: KeyOps)] = []
        var positions: [CompositeKey: Int]?
        func touch(_ key: CompositeKey, _ change: (inout KeyOps) -> Void) {
            let found = positions.map { $0[key] } ?? ops.firstIndex { $0.key == key }
            let position: Int
            if let found {
                position = found
            } else {
                position = ops.count
                ops.append((key, KeyOps()))
                if positions != nil {
                    positions![key] = position
                } else if ops.count > 16 {
                    positions = Dictionary(uniqueKeysWithValues: ops.enumerated().map { ($0.element.key, $0.offset) })
                }
            }
            change(&ops[position].op)
        }
        for ns in rwset.namespaces {
            for write in ns.kv.writes {
                let key = CompositeKey(namespace: ns.name, collection: "", key: Data(write.key.utf8))
                if write.isDelete || write.value.isEmpty {
                    touch(key) { $0.delete = true }
                } else {
                    touch(key) {
                        $0.upsert = true
                        $0.value = write.value
                    }
                }
            }
            for write in ns.kv.metadataWrites {
                let key = CompositeKey(namespace: ns.name, collection: "", key: Data(write.key.utf8))
                try Self.applyMetadata(write.entries, key, touch)
            }
            for collection in ns.collections {
                for write in collection.hashed.hashedWrites {
                    let key = CompositeKey(namespace: ns.name, collection: collection.name, key: write.keyHash)
                    if write.isPurge {
                        Self.purge(
                            PurgedPrivateKey(
                                namespace: ns.name,
                                collection: collection.name,
                                keyHash: write.keyHash,
                                height: height
                            ),
                            in: &batch
                        )
                    }
                    if write.isDelete || write.valueHash.isEmpty || write.valueHash == Self.emptyValueHash {
                        touch(key) { $0.delete = true }
                    } else {
                        touch(key) {
                            $0.upsert = true
                            $0.value = write.valueHash
                        }
                    }
                }
                for write in collection.hashed.metadataWrites {
                    let key = CompositeKey(namespace: ns.name, collection: collection.name, key: write.keyHash)
                    try Self.applyMetadata(write.entries, key, touch)
                }
            }
        }
        for (key, op) in ops {
            var write: PendingWrite
            if op.delete {
                write = PendingWrite(value: nil, metadata: nil, version: height)
            } else if op.upsert {
                var metadata = op.metadata
                if !op.metadataUpdate && !op.metadataDelete {
                    metadata = try self.latestMetadata(key, batch)
                }
                write = PendingWrite(value: op.value, metadata: metadata, version: height)
            } else {
                // Metadata only: merge with the latest value; an absent key makes the write a no-op.
                guard let latest = try self.latest(key, batch) else { continue }
                write = PendingWrite(value: latest.value, metadata: op.metadata, version: height)
            }
            if key.collection.isEmpty {
                batch.publicWrites[key.namespace, default: [:]][key.key] = write
            } else {
                batch.hashedWrites[key.namespace, default: [:]][key.collection, default: [:]][key.key] = write
            }
        }
    }

    private static let emptyValueHash = Digest.sha256(Data())

    /// Records an app-initiated purge, dropping cleartext writes of the key made earlier in the block.
    private static func purge(_ key: PurgedPrivateKey, in batch: inout UpdateBatch) {
        batch.purgedPrivateKeys.append(key)
        if let writes = batch.privateWrites[key.namespace]?[key.collection] {
            for (clearKey, _) in writes where Digest.sha256(clearKey) == key.keyHash {
                batch.privateWrites[key.namespace]?[key.collection]?[clearKey] = nil
            }
        }
    }

    private static func applyMetadata(
        _ entries: [Kvrwset_KVMetadataEntry],
        _ key: CompositeKey,
        _ touch: (CompositeKey, (inout KeyOps) -> Void) -> Void
    ) throws {
        if entries.isEmpty {
            touch(key) {
                $0.metadataDelete = true
                $0.metadata = nil
            }
        } else {
            var message = Kvrwset_KVMetadataWrite()
            message.entries = entries
            let bytes: Data = try message.serializedBytes()
            touch(key) {
                $0.metadataUpdate = true
                $0.metadata = bytes
            }
        }
    }

    /// The latest value of `key`: an earlier write of this block (a delete there counts, with no value), else
    /// committed state; nil when the key exists in neither.
    private func latest(_ key: CompositeKey, _ batch: UpdateBatch) throws -> (value: Data?, metadata: Data?)? {
        if key.collection.isEmpty {
            if let write = batch.publicWrite(key.namespace, key.key) { return (write.value, write.metadata) }
            return try StateDB.state(self.db, key.namespace, key.key).map { ($0.value, $0.metadata) }
        }
        if let write = batch.hashedWrite(key.namespace, key.collection, key.key) {
            return (write.value, write.metadata)
        }
        return try StateDB.hashedState(self.db, key.namespace, key.collection, key.key).map { ($0.value, $0.metadata) }
    }

    /// The latest metadata of `key` (what a value-only write keeps): as ``latest(_:_:)``, without reading
    /// committed state when no committed key of the namespace (or collection) has metadata at all.
    private func latestMetadata(_ key: CompositeKey, _ batch: UpdateBatch) throws -> Data? {
        if key.collection.isEmpty {
            if let write = batch.publicWrite(key.namespace, key.key) { return write.metadata }
        } else if let write = batch.hashedWrite(key.namespace, key.collection, key.key) {
            return write.metadata
        }
        let present = try self.metadataPresence.answer(key.namespace, key.collection) {
            try StateDB.hasKeyMetadata(self.db, key.namespace, key.collection)
        }
        guard present else { return nil }
        return try self.latest(key, batch)?.metadata
    }

    /// Adds the cleartext private writes of a VALID transaction, after checking each collection's hash.
    private func applyPrivate(
        _ pvt: Rwset_TxPvtReadWriteSet,
        of rwset: TxReadWriteSet,
        txID: String,
        at height: Height,
        to batch: inout UpdateBatch
    ) throws {
        for (namespace, collection, bytes) in pvt.flattened {
            guard let expected = rwset.pvtRWSetHash(namespace: namespace, collection: collection) else {
                throw LedgerError(
                    code: .privateDataMismatch,
                    message: "block \(self.blockNumber) tx \(height.txNumber) (\(txID)): private data for "
                        + "\(namespace)/\(collection), which the transaction does not write"
                )
            }
            guard Digest.sha256(bytes) == expected else {
                throw LedgerError(
                    code: .privateDataMismatch,
                    message: "block \(self.blockNumber) tx \(height.txNumber) (\(txID)): private data of "
                        + "\(namespace)/\(collection) hashes to \(Digest.sha256(bytes).hexString), the block says \(expected.hexString)"
                )
            }
            let kv: Kvrwset_KVRWSet
            do {
                kv = try Kvrwset_KVRWSet(decoding: bytes, field: "private rwset of \(namespace)/\(collection)")
            } catch {
                throw LedgerError(
                    code: .privateDataMismatch,
                    message: "block \(self.blockNumber) tx \(height.txNumber) (\(txID)): the private rwset of "
                        + "\(namespace)/\(collection) matches its hash but does not decode",
                    cause: error
                )
            }
            for write in kv.writes {
                let value: Data? = write.isDelete || write.value.isEmpty ? nil : write.value
                batch.privateWrites[namespace, default: [:]][collection, default: [:]][Data(write.key.utf8)] =
                    PendingWrite(value: value, metadata: nil, version: height)
            }
        }
    }

    // MARK: Expiry

    /// The private keys of this block's hashed writes that must expire, per their collection's block-to-live.
    private mutating func expiries(of batch: UpdateBatch) throws(LedgerError) -> [ScheduledExpiry] {
        var result: [ScheduledExpiry] = []
        for (namespace, collections) in batch.hashedWrites {
            for (collection, writes) in collections {
                let btl = try self.blockToLive(namespace, collection)
                guard btl != 0 else { continue }
                let expiring = BlockToLive.expiringBlock(committingBlock: self.blockNumber, blockToLive: btl)
                for (keyHash, write) in writes where !write.isDelete {
                    result.append(
                        ScheduledExpiry(
                            expiringBlock: expiring,
                            namespace: namespace,
                            collection: collection,
                            keyHash: keyHash,
                            version: write.version
                        )
                    )
                }
            }
        }
        return result
    }

    /// The block-to-live of a collection per the policy, read against committed state and cached per block.
    mutating func blockToLive(_ namespace: String, _ collection: String) throws(LedgerError) -> UInt64 {
        let cacheKey = namespace + "\u{0}" + collection
        if let cached = self.btlCache[cacheKey] { return cached }
        let btl = try LedgerError.wrapping("cannot read the block-to-live of \(namespace)/\(collection)") {
            try self.btlPolicy.blockToLive(
                namespace: namespace,
                collection: collection,
                state: DatabaseStateReader(db: self.db)
            )
        }
        self.btlCache[cacheKey] = btl
        return btl
    }
}
