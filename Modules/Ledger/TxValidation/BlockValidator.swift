public import ChannelConfig
internal import Dispatch
public import Foundation
import Synchronization
import SwiftProtobuf
import MSP
public import Logging
public import Wire

/// Validates the transactions of a block exactly as a Fabric v3 peer's v2.0 validator does, producing one
/// `TxValidationCode` per transaction (before MVCC, which the commit applies afterwards).
///
/// Per transaction: envelope and header checks, creator signature, tx id, duplicate tx id in the ledger, then
/// for endorser transactions the chaincode checks and the built-in validation plugin per written namespace
/// (chaincode definitions from committed `_lifecycle` state, key-level endorsement metadata, collection
/// policies); CONFIG transactions are validated and applied through `applyConfig`. Finally later duplicates of a
/// tx id within the block are marked DUPLICATE_TXID.
///
/// The expensive part (signature verification, deserialisation, policy evaluation) runs in parallel across
/// transactions; a short sequential pass then applies the intra-block key-level endorsement dependencies and
/// config transactions in block order, so results never depend on scheduling.
public struct BlockValidator: Sendable {
    /// How many transactions are validated concurrently at most (Fabric's peer.validatorPoolSize).
    public var parallelism: Int
    private let logger: Logger

    /// Creates a validator using up to `parallelism` concurrent workers (default: the number of cores).
    public init(parallelism: Int = ProcessInfo.processInfo.activeProcessorCount, logger: Logger? = nil) {
        self.parallelism = max(1, parallelism)
        self.logger = logger ?? Logger(label: "ledger.validator")
    }

    /// Validates `block` of `bundle.channelID` against the committed state `state` (the ledger's view as of the
    /// previous block): ``prepare(_:bundle:)`` then ``finish(_:state:applyConfig:)``.
    ///
    /// - Parameter applyConfig: validates and installs a CONFIG transaction's envelope (the channel's
    ///   `BundleSource` update); an error halts the block.
    /// - Returns: one code per transaction, in block order; never NOT_VALIDATED.
    /// - Throws: `LedgerError.validationHalted` or `.stateReadFailed` when the block cannot be validated; such a
    ///   block must not be committed (a Fabric peer stops processing the chain).
    public func validate(
        _ block: Common_Block,
        bundle: ChannelBundle,
        state: any ValidationContext,
        applyConfig: (Common_ConfigEnvelope) throws -> Void
    ) async throws(LedgerError) -> [Protos_TxValidationCode] {
        let prepared = await self.prepare(block, bundle: bundle)
        return try self.finish(prepared, state: state, applyConfig: applyConfig)
    }

    /// The half of validation that depends only on the block and the channel config, in parallel across
    /// transactions: decoding, the message-level checks with the creator signature, the tx id, the chaincode
    /// action and read-write set, and the endorsement signatures (deserialised, de-duplicated, verified).
    ///
    /// It reads no ledger state, so it may run for block N+1 while block N commits; the result is only valid
    /// for `bundle`: if a CONFIG transaction changes the channel config before the block is finished, prepare
    /// it again (``PreparedBlock/bundle``).
    public func prepare(_ block: Common_Block, bundle: ChannelBundle) async -> PreparedBlock {
        let transactions = block.data.data
        var prepared = [PreparedTransaction](
            repeating: .final(.code(TxFailure(.notValidated, ""))),
            count: transactions.count
        )
        let chunk = max(1, (transactions.count + self.parallelism * 4 - 1) / (self.parallelism * 4))
        await withTaskGroup(of: [(Int, PreparedTransaction)].self) { group in
            var start = 0
            while start < transactions.count {
                let range = start..<min(start + chunk, transactions.count)
                group.addTask {
                    // The chunk is decoded first and its signatures verified afterwards, back to back: a verify
                    // right after other work is slower, since OpenSSL's P-256 tables have left the core's cache
                    // (Docs/performance.md, sixth session).
                    let identities = TaskIdentities(bundle.mspManager)
                    let decoded = range.map {
                        PreparedTransaction.decode(transactions[$0], bundle: bundle, identities: identities)
                    }
                    return zip(range, decoded).map { index, transaction in
                        (index, transaction.verified(msps: identities))
                    }
                }
                start = range.upperBound
            }
            for await results in group {
                for (index, transaction) in results { prepared[index] = transaction }
            }
        }
        return PreparedBlock(block: block, bundle: bundle, transactions: prepared)
    }

    /// The half of validation that reads committed state, on one snapshot of it: duplicate tx ids in the ledger,
    /// chaincode definitions from `_lifecycle` (read once per block), key-level validation parameters and the
    /// endorsement policies over the endorsers `prepare` verified; then the sequential pass in block order
    /// (intra-block key-level dependencies, CONFIG transactions, duplicate tx ids within the block).
    ///
    /// The caller must pass a block prepared under the channel config current now (see ``PreparedBlock``).
    public func finish(
        _ prepared: PreparedBlock,
        state: any ValidationContext,
        applyConfig: (Common_ConfigEnvelope) throws -> Void
    ) throws(LedgerError) -> [Protos_TxValidationCode] {
        let outcomes: [TxOutcome]
        do {
            outcomes = try self.outcomes(of: prepared, state: state)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(
                .stateReadFailed,
                "block \(prepared.number): cannot read a snapshot of committed state",
                cause: error
            )
        }
        return try self.settle(prepared.block, outcomes, applyConfig: applyConfig)
    }

    /// The state-dependent outcome of every transaction. Each transaction's outcome depends only on committed
    /// state and the transaction itself, so a large block is split into up to `parallelism` slices, each on
    /// its own snapshot and thread; the block's committed state does not change while it is validated (the
    /// ledger commits it only afterwards), so every snapshot sees the same state.
    private func outcomes(of prepared: PreparedBlock, state: any ValidationContext) throws -> [TxOutcome] {
        let transactions = prepared.transactions
        let slices = min(self.parallelism, transactions.count / Self.minimumSlice)
        guard slices > 1 else { return try Self.outcomes(of: transactions[...], prepared.bundle, state) }
        let size = (transactions.count + slices - 1) / slices
        let results = Mutex<[Int: Result<[TxOutcome], any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let range = (slice * size)..<min(transactions.count, (slice + 1) * size)
            let result = Result { try Self.outcomes(of: transactions[range], prepared.bundle, state) }
            results.withLock { $0[slice] = result }
        }
        let collected = results.withLock { $0 }
        var outcomes: [TxOutcome] = []
        outcomes.reserveCapacity(transactions.count)
        for slice in 0..<slices {
            guard let result = collected[slice] else {
                throw LedgerError(.validationHalted, "block \(prepared.number): slice \(slice) of validation did not run")
            }
            outcomes.append(contentsOf: try result.get())
        }
        return outcomes
    }

    /// Transactions per slice below which the state-dependent half is not split.
    private static let minimumSlice = 64

    /// The outcomes of `transactions` on one snapshot of committed state.
    private static func outcomes(
        of transactions: ArraySlice<PreparedTransaction>,
        _ bundle: ChannelBundle,
        _ state: any ValidationContext
    ) throws -> [TxOutcome] {
        try state.withSnapshot { snapshot in
            let run = BlockValidationRun(
                bundle: bundle,
                state: snapshot,
                definitions: ChaincodeDefinitions(state: snapshot, bundle: bundle),
                policies: EndorsementPolicies(bundle: bundle)
            )
            return transactions.map { run.outcome(of: $0) }
        }
    }

    /// The sequential pass: halts (lowest index first), key-level dependencies, config, duplicate tx ids.
    private func settle(
        _ block: Common_Block,
        _ outcomes: [TxOutcome],
        applyConfig: (Common_ConfigEnvelope) throws -> Void
    ) throws(LedgerError) -> [Protos_TxValidationCode] {
        let number = block.header.number
        var codes = [Protos_TxValidationCode](repeating: .notValidated, count: outcomes.count)
        var txIDs = [String?](repeating: nil, count: outcomes.count)
        // (namespace, collection, key) → earliest tx whose metadata write there came with a successful run.
        var updatedParameters: [WrittenKey: Int] = [:]

        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .halt(let error):
                throw LedgerError(
                    error.code,
                    "block \(number) tx \(index): \(error.message)",
                    cause: error.cause
                )
            case .code(let failure):
                codes[index] = failure.code
                if failure.code != .valid {
                    self.logger.debug("block \(number) tx \(index) invalid: \(failure.code) (\(failure.reason))")
                }
            case .config(let envelope):
                do {
                    try applyConfig(envelope)
                } catch {
                    throw LedgerError(
                        .validationHalted,
                        "block \(number) tx \(index): config transaction could not be applied",
                        cause: error
                    )
                }
                codes[index] = .valid
            case .endorser(let txID, let runs, let metadataWrites):
                var failure: TxFailure?
                var succeeded: [String] = []
                for run in runs {
                    let dependency = run.keys.firstIndex { key in updatedParameters[key].map { $0 < index } ?? false }
                    let stop = min(run.halt?.atKey ?? Int.max, run.failure?.atKey ?? Int.max)
                    if let dependency, dependency <= stop {
                        let writer = updatedParameters[run.keys[dependency]]!
                        failure = TxFailure(
                            .endorsementPolicyFailure,
                            "validation parameter of a key of \(run.namespace) was updated by tx \(writer) of the block"
                        )
                        break
                    }
                    if let halt = run.halt {
                        throw LedgerError(
                            halt.error.code,
                            "block \(number) tx \(index) (\(txID)): \(halt.error.message)",
                            cause: halt.error.cause
                        )
                    }
                    if let runFailure = run.failure {
                        failure = runFailure.failure
                        break
                    }
                    succeeded.append(run.namespace)
                }
                for key in metadataWrites where succeeded.contains(key.namespace) && updatedParameters[key] == nil {
                    updatedParameters[key] = index
                }
                if let failure {
                    codes[index] = failure.code
                    self.logger.debug("block \(number) tx \(index) (\(txID)) invalid: \(failure.code) (\(failure.reason))")
                } else {
                    codes[index] = .valid
                    txIDs[index] = txID
                }
            }
        }

        var seen = Set<String>()
        for (index, txID) in txIDs.enumerated() {
            guard let txID, codes[index] == .valid else { continue }
            if !seen.insert(txID).inserted {
                codes[index] = .duplicateTxid
                self.logger.debug("block \(number) tx \(index) (\(txID)) invalid: duplicate tx id in the block")
            }
        }
        if let index = codes.firstIndex(of: .notValidated) {
            throw LedgerError(.validationHalted, "transaction \(index) in block \(number) has skipped validation")
        }
        return codes
    }
}

/// What the parallel phase found for one transaction.
enum TxOutcome: Sendable {
    /// A final code (VALID is never final for endorser txs here).
    case code(TxFailure)
    /// The block cannot be validated.
    case halt(LedgerError)
    /// A CONFIG transaction to apply in block order.
    case config(Common_ConfigEnvelope)
    /// An endorser transaction whose plugin runs are settled in block order.
    case endorser(txID: String, runs: [NamespaceRun], metadataWrites: Set<WrittenKey>)
}

/// A transaction after the state-independent half of validation.
enum PreparedTransaction: Sendable {
    /// The outcome is settled without state: a message-level failure (creator signature included), a halt, or
    /// a CONFIG transaction to apply in block order.
    case final(TxOutcome)
    /// An endorser transaction with a well-formed header: the duplicate check comes next, then `content`'s
    /// failure (a malformed action or read-write set) or the state-dependent checks.
    case endorser(txID: String, content: Result<EndorserContent, TxFailure>)

    /// Runs the state-independent checks on the envelope `bytes` under `bundle`, except the verification of its
    /// signatures: ``UnverifiedTransaction/verified(msps:)`` finishes them. `identities` deserialises for
    /// `bundle`'s MSPs (its MSP manager, or a task's ``TaskIdentities`` in front of it).
    static func decode(
        _ bytes: Data,
        bundle: ChannelBundle,
        identities: any IdentityDeserializer
    ) -> UnverifiedTransaction {
        guard let envelope = try? Common_Envelope(decoding: bytes, field: "Block.data") else {
            return UnverifiedTransaction(
                creatorSignature: nil,
                prepared: .final(.code(TxFailure(.invalidOtherReason, "envelope does not decode")))
            )
        }
        let outcome = TransactionChecks.checkDeferringSignature(
            envelope,
            channelID: bundle.channelID,
            msps: identities
        )
        return UnverifiedTransaction(
            creatorSignature: outcome.creatorSignature,
            prepared: Self.prepare(outcome.result)
        )
    }

    /// What a transaction whose checks gave `result` prepares to, its endorsements not yet verified.
    private static func prepare(_ result: Result<CheckedTransaction, TxFailure>) -> Self {
        let checked: CheckedTransaction
        switch result {
        case .failure(let failure): return .final(.code(failure))
        case .success(let value): checked = value
        }
        switch checked.headerType {
        case .endorserTransaction:
            return .endorser(txID: checked.channelHeader.txID, content: EndorserContent.extract(checked))
        case .config:
            guard let configEnvelope = try? Common_ConfigEnvelope(serializedBytes: checked.payload.data) else {
                return .final(
                    .halt(
                        LedgerError(
                            .validationHalted,
                            "error unmarshalling config which passed initial validity checks"
                        )
                    )
                )
            }
            return .final(.config(configEnvelope))
        default:
            return .final(.code(TxFailure(.unknownTxType, "unknown transaction type \(checked.channelHeader.type)")))
        }
    }
}

/// A transaction through the state-independent checks except the verification of its signatures, so that a
/// chunk of transactions can be decoded first and its signatures verified back to back.
struct UnverifiedTransaction: Sendable {
    /// The creator's signature, when the checks got that far; if it does not verify, the transaction is
    /// BAD_CREATOR_SIGNATURE whatever `prepared` says (Fabric checks it before the checks that follow).
    var creatorSignature: PendingSignature?
    /// What the transaction prepares to if its creator's signature verifies; an endorser transaction's
    /// endorsements are still unverified in its content.
    var prepared: PreparedTransaction

    /// The prepared transaction, with the creator's signature and then the endorsements verified.
    func verified(msps: any IdentityDeserializer) -> PreparedTransaction {
        do {
            try self.creatorSignature?.verify()
        } catch {
            return .final(.code(TxFailure(.badCreatorSignature, "creator check failed: \(error.message)")))
        }
        guard case .endorser(let txID, .success(var content)) = self.prepared else { return self.prepared }
        content.verifyEndorsements(msps: msps)
        return .endorser(txID: txID, content: .success(content))
    }
}

/// What an endorser transaction's validation needs from its envelope, extracted once.
struct EndorserContent: Sendable {
    /// The decoded read-write set.
    var readWriteSet: ReadWriteSet
    /// The chaincode invoked, then every other namespace the transaction writes, in order.
    var namespaces: [String]
    /// The keys whose metadata the transaction writes.
    var metadataWrites: Set<WrittenKey>
    /// The endorsers whose signatures verified (deserialised and de-duplicated as Fabric does); empty until
    /// ``verifyEndorsements(msps:)``, so an unverified content can only fail the endorsement policy.
    var endorsers: [any Identity] = []
    /// The proposal response payload the endorsers signed (each signature covers it followed by the endorser's
    /// serialised identity), until ``verifyEndorsements(msps:)``.
    private(set) var responsePayload: Data
    /// The endorsements as `extract` found them, until ``verifyEndorsements(msps:)``.
    private(set) var unverifiedEndorsements: [Protos_Endorsement]

    /// Verifies the endorsements into ``endorsers`` (Fabric's `validIdentities`: an endorser's first valid
    /// signature counts, a repeated identity is not verified again). The signed bytes are hashed from their two
    /// parts, never concatenated.
    mutating func verifyEndorsements(msps: any IdentityDeserializer) {
        let payload = self.responsePayload
        self.endorsers = validIdentities(self.unverifiedEndorsements, deserializer: msps, signer: \.endorser) {
            identity, endorsement throws(MSPError) in
            try identity.verify(signature: endorsement.signature, overParts: [payload, endorsement.endorser])
        }
        self.responsePayload = Data()
        self.unverifiedEndorsements = []
    }

    /// The chaincode checks of Fabric's validator that need no state, in its order; the failure it would give.
    static func extract(_ checked: CheckedTransaction) -> Result<EndorserContent, TxFailure> {
        guard let headerExtension = try? checked.channelHeader.unpackChaincodeHeaderExtension() else {
            return .failure(TxFailure(.badHeaderExtension, "chaincode header extension does not decode"))
        }
        let actionPayload: Protos_ChaincodeActionPayload
        let chaincodeAction: Protos_ChaincodeAction
        do {
            if let decoded = checked.endorserAction {
                actionPayload = decoded.actionPayload
                chaincodeAction = try decoded.responsePayload.unpackChaincodeAction()
            } else {
                let transaction = try checked.payload.unpackTransaction()
                actionPayload = try transaction.actions[0].unpackChaincodeActionPayload()
                chaincodeAction = try actionPayload.unpackProposalResponsePayload().unpackChaincodeAction()
            }
        } catch {
            return .failure(TxFailure(.badResponsePayload, "could not extract the chaincode action: \(error.message)"))
        }
        let readWriteSet: ReadWriteSet
        do {
            readWriteSet = try ReadWriteSet(try chaincodeAction.unpackReadWriteSet())
        } catch {
            return .failure(TxFailure(.badRwset, "read-write set does not decode: \(error.message)"))
        }
        guard headerExtension.hasChaincodeID else {
            return .failure(TxFailure(.invalidOtherReason, "nil ChaincodeId in header extension"))
        }
        guard chaincodeAction.hasChaincodeID else {
            return .failure(TxFailure(.invalidOtherReason, "nil ChaincodeId in ChaincodeAction"))
        }
        let chaincode = headerExtension.chaincodeID.name
        guard !chaincode.isEmpty else { return .failure(TxFailure(.invalidChaincode, "invalid chaincode ID")) }
        guard chaincode == chaincodeAction.chaincodeID.name else {
            return .failure(
                TxFailure(
                    .invalidChaincode,
                    "inconsistent ccid info (\(chaincode)/\(chaincodeAction.chaincodeID.name))"
                )
            )
        }
        guard !chaincodeAction.chaincodeID.version.isEmpty else {
            return .failure(TxFailure(.invalidChaincode, "invalid chaincode version"))
        }
        if !chaincodeAction.events.isEmpty {
            guard let event = try? Protos_ChaincodeEvent(serializedBytes: chaincodeAction.events) else {
                return .failure(TxFailure(.invalidOtherReason, "invalid chaincode event"))
            }
            guard event.chaincodeID == chaincode else {
                return .failure(
                    TxFailure(
                        .invalidOtherReason,
                        "chaincode event chaincode id does not match chaincode action chaincode id"
                    )
                )
            }
        }
        var namespaces = [chaincode]
        var seen = Set<String>()
        var metadataWrites = Set<WrittenKey>()
        for ns in readWriteSet.namespaces {
            guard seen.insert(ns.name).inserted else {
                return .failure(TxFailure(.illegalWriteset, "duplicate namespace '\(ns.name)' in txRWSet"))
            }
            let writes =
                !ns.kvRWSet.writes.isEmpty || !ns.kvRWSet.metadataWrites.isEmpty
                || ns.collections.contains {
                    !$0.hashedRWSet.hashedWrites.isEmpty || !$0.hashedRWSet.metadataWrites.isEmpty
                }
            if writes, !namespaces.contains(ns.name) { namespaces.append(ns.name) }
            for write in ns.kvRWSet.metadataWrites {
                metadataWrites.insert(WrittenKey(namespace: ns.name, collection: "", key: Data(write.key.utf8)))
            }
            for collection in ns.collections {
                for write in collection.hashedRWSet.metadataWrites {
                    metadataWrites.insert(
                        WrittenKey(namespace: ns.name, collection: collection.name, key: write.keyHash)
                    )
                }
            }
        }
        // The endorsement signatures are verified in ``verifyEndorsements(msps:)`` (the expensive part), so that
        // only policy evaluation over the verified identities is left for the state-dependent half.
        return .success(
            EndorserContent(
                readWriteSet: readWriteSet,
                namespaces: namespaces,
                metadataWrites: metadataWrites,
                responsePayload: actionPayload.action.proposalResponsePayload,
                unverifiedEndorsements: actionPayload.action.endorsements
            )
        )
    }
}

/// Everything the state-dependent half shares for one block: one snapshot of committed state, the chaincode
/// definitions read from it (cached for the block) and the compiled endorsement policies.
struct BlockValidationRun {
    let bundle: ChannelBundle
    let state: any ValidationSnapshot
    let definitions: ChaincodeDefinitions
    let policies: EndorsementPolicies

    func outcome(of prepared: PreparedTransaction) -> TxOutcome {
        switch prepared {
        case .final(let outcome):
            return outcome
        case .endorser(let txID, let content):
            do {
                if try self.state.txIDExists(txID) {
                    return .code(TxFailure(.duplicateTxid, "tx id \(txID) is already in the ledger"))
                }
            } catch {
                return .halt(LedgerError(.stateReadFailed, "could not check tx id \(txID) in the ledger", cause: error))
            }
            switch content {
            case .failure(let failure): return .code(failure)
            case .success(let content): return self.endorserOutcome(txID: txID, content)
            }
        }
    }

    private func endorserOutcome(txID: String, _ content: EndorserContent) -> TxOutcome {
        // Validation info of every written namespace first: one undefined namespace makes the tx
        // INVALID_CHAINCODE whatever its endorsements.
        var infos: [(namespace: String, plugin: String, parameter: Data)] = []
        for namespace in content.namespaces {
            do {
                switch try self.definitions.validationInfo(namespace) {
                case .invalid(let reason): return .code(TxFailure(.invalidChaincode, reason))
                case .info(let plugin, let parameter): infos.append((namespace, plugin, parameter))
                }
            } catch {
                return .halt(error)
            }
        }
        let validator = NamespaceValidator(state: self.state, definitions: self.definitions, policies: self.policies)
        var runs: [NamespaceRun] = []
        for info in infos {
            guard info.plugin == "vscc" else {
                return .halt(
                    LedgerError(
                        .validationHalted,
                        "validation plugin '\(info.plugin)' of namespace \(info.namespace) is not available"
                    )
                )
            }
            let run = validator.run(
                namespace: info.namespace,
                readWriteSet: content.readWriteSet,
                endorsers: content.endorsers,
                chaincodePolicy: info.parameter
            )
            runs.append(run)
            if run.failure != nil || run.halt != nil { break }
        }
        return .endorser(txID: txID, runs: runs, metadataWrites: content.metadataWrites)
    }
}
