public import ChannelConfig
public import Foundation
import SwiftProtobuf
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
    /// previous block).
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
        let transactions = block.data.data
        let run = BlockValidationRun(
            bundle: bundle,
            state: state,
            definitions: ChaincodeDefinitions(state: state, bundle: bundle),
            policies: EndorsementPolicies(bundle: bundle)
        )
        var outcomes = [TxOutcome](repeating: .code(TxFailure(.notValidated, "")), count: transactions.count)
        let chunk = max(1, (transactions.count + self.parallelism * 4 - 1) / (self.parallelism * 4))
        await withTaskGroup(of: [(Int, TxOutcome)].self) { group in
            var start = 0
            while start < transactions.count {
                let range = start..<min(start + chunk, transactions.count)
                group.addTask {
                    range.map { index in (index, run.outcome(of: transactions[index], index: index)) }
                }
                start = range.upperBound
            }
            for await results in group {
                for (index, outcome) in results { outcomes[index] = outcome }
            }
        }
        return try self.finish(block, outcomes, applyConfig: applyConfig)
    }

    /// The sequential pass: halts (lowest index first), key-level dependencies, config, duplicate tx ids.
    private func finish(
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

/// Everything the parallel phase shares for one block.
struct BlockValidationRun: Sendable {
    let bundle: ChannelBundle
    let state: any ValidationContext
    let definitions: ChaincodeDefinitions
    let policies: EndorsementPolicies

    func outcome(of bytes: Data, index: Int) -> TxOutcome {
        guard let envelope = try? Common_Envelope(serializedBytes: bytes) else {
            return .code(TxFailure(.invalidOtherReason, "envelope does not decode"))
        }
        let checked: CheckedTransaction
        switch TransactionChecks.check(envelope, channelID: self.bundle.channelID, msps: self.bundle.mspManager) {
        case .failure(let failure): return .code(failure)
        case .success(let value): checked = value
        }
        switch checked.headerType {
        case .endorserTransaction:
            return self.endorserOutcome(checked)
        case .config:
            guard let configEnvelope = try? Common_ConfigEnvelope(serializedBytes: checked.payload.data) else {
                return .halt(
                    LedgerError(.validationHalted, "error unmarshalling config which passed initial validity checks")
                )
            }
            return .config(configEnvelope)
        default:
            return .code(TxFailure(.unknownTxType, "unknown transaction type \(checked.channelHeader.type)"))
        }
    }

    private func endorserOutcome(_ checked: CheckedTransaction) -> TxOutcome {
        let txID = checked.channelHeader.txID
        do {
            if try self.state.txIDExists(txID) {
                return .code(TxFailure(.duplicateTxid, "tx id \(txID) is already in the ledger"))
            }
        } catch {
            return .halt(LedgerError(.stateReadFailed, "could not check tx id \(txID) in the ledger", cause: error))
        }
        guard let headerExtension = try? checked.channelHeader.unpackChaincodeHeaderExtension() else {
            return .code(TxFailure(.badHeaderExtension, "chaincode header extension does not decode"))
        }
        let actionPayload: Protos_ChaincodeActionPayload
        let chaincodeAction: Protos_ChaincodeAction
        do {
            let transaction = try checked.payload.unpackTransaction()
            actionPayload = try transaction.actions[0].unpackChaincodeActionPayload()
            chaincodeAction = try actionPayload.unpackProposalResponsePayload().unpackChaincodeAction()
        } catch {
            return .code(TxFailure(.badResponsePayload, "could not extract the chaincode action: \(error.message)"))
        }
        let readWriteSet: ReadWriteSet
        do {
            readWriteSet = try ReadWriteSet(try chaincodeAction.unpackReadWriteSet())
        } catch {
            return .code(TxFailure(.badRwset, "read-write set does not decode: \(error.message)"))
        }
        guard headerExtension.hasChaincodeID else {
            return .code(TxFailure(.invalidOtherReason, "nil ChaincodeId in header extension"))
        }
        guard chaincodeAction.hasChaincodeID else {
            return .code(TxFailure(.invalidOtherReason, "nil ChaincodeId in ChaincodeAction"))
        }
        let chaincode = headerExtension.chaincodeID.name
        guard !chaincode.isEmpty else { return .code(TxFailure(.invalidChaincode, "invalid chaincode ID")) }
        guard chaincode == chaincodeAction.chaincodeID.name else {
            return .code(
                TxFailure(
                    .invalidChaincode,
                    "inconsistent ccid info (\(chaincode)/\(chaincodeAction.chaincodeID.name))"
                )
            )
        }
        guard !chaincodeAction.chaincodeID.version.isEmpty else {
            return .code(TxFailure(.invalidChaincode, "invalid chaincode version"))
        }
        if !chaincodeAction.events.isEmpty {
            guard let event = try? Protos_ChaincodeEvent(serializedBytes: chaincodeAction.events) else {
                return .code(TxFailure(.invalidOtherReason, "invalid chaincode event"))
            }
            guard event.chaincodeID == chaincode else {
                return .code(
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
                return .code(TxFailure(.illegalWriteset, "duplicate namespace '\(ns.name)' in txRWSet"))
            }
            let writes =
                !ns.kvRWSet.writes.isEmpty || !ns.kvRWSet.metadataWrites.isEmpty
                || ns.collections.contains { !$0.hashedRWSet.hashedWrites.isEmpty || !$0.hashedRWSet.metadataWrites.isEmpty }
            if writes, !namespaces.contains(ns.name) { namespaces.append(ns.name) }
            for write in ns.kvRWSet.metadataWrites {
                metadataWrites.insert(WrittenKey(namespace: ns.name, collection: "", key: Data(write.key.utf8)))
            }
            for collection in ns.collections {
                for write in collection.hashedRWSet.metadataWrites {
                    metadataWrites.insert(WrittenKey(namespace: ns.name, collection: collection.name, key: write.keyHash))
                }
            }
        }

        // Validation info of every written namespace first: one undefined namespace makes the tx
        // INVALID_CHAINCODE whatever its endorsements.
        var infos: [(namespace: String, plugin: String, parameter: Data)] = []
        for namespace in namespaces {
            do {
                switch try self.definitions.validationInfo(namespace) {
                case .invalid(let reason): return .code(TxFailure(.invalidChaincode, reason))
                case .info(let plugin, let parameter): infos.append((namespace, plugin, parameter))
                }
            } catch {
                return .halt(error)
            }
        }

        let responseBytes = actionPayload.action.proposalResponsePayload
        let signedData = actionPayload.action.endorsements.map { endorsement in
            SignedData(data: responseBytes + endorsement.endorser, identity: endorsement.endorser, signature: endorsement.signature)
        }
        let endorsers = validIdentities(signedData, deserializer: self.bundle.mspManager)
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
                readWriteSet: readWriteSet,
                endorsers: endorsers,
                chaincodePolicy: info.parameter
            )
            runs.append(run)
            if run.failure != nil || run.halt != nil { break }
        }
        return .endorser(txID: txID, runs: runs, metadataWrites: metadataWrites)
    }
}
