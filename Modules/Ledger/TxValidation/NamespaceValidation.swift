import ChannelConfig
import Foundation
import SwiftProtobuf
import MSP
import Wire

/// A key a namespace run checked, in the order Fabric walks them: public writes, public metadata writes, then
/// per collection its hashed writes, then per collection its hashed metadata writes.
struct WrittenKey: Hashable, Sendable {
    var namespace: String
    var collection: String
    /// The key (public) or the raw SHA-256 key hash (collections).
    var key: Data
}

/// The outcome of running the built-in validation plugin (`vscc`) for one namespace of one transaction,
/// before intra-block key-level dependencies are applied.
struct NamespaceRun: Sendable {
    var namespace: String
    /// The keys the run checked, in walk order.
    var keys: [WrittenKey]
    /// nil if the run succeeded; else the failure and the index in `keys` at which it happened (keys.count when
    /// it happened after the walk).
    var failure: (failure: TxFailure, atKey: Int)?
    /// A halting error (unreadable state, bad validation parameter) and the key index it happened at.
    var halt: (error: LedgerError, atKey: Int)?
}

/// Fabric's built-in v2.0 validation plugin with state-based (key-level) endorsement, for one namespace.
struct NamespaceValidator {
    let state: any ValidationSnapshot
    let definitions: ChaincodeDefinitions
    let policies: EndorsementPolicies

    /// Runs the plugin for `namespace` of a transaction whose verified endorsers are `endorsers`, with the
    /// chaincode endorsement policy `chaincodePolicy`.
    func run(
        namespace: String,
        readWriteSet: ReadWriteSet,
        endorsers: [any Identity],
        chaincodePolicy: Data
    ) -> NamespaceRun {
        var run = NamespaceRun(namespace: namespace, keys: [], failure: nil, halt: nil)
        var checked = Set<String>()  // collection names whose EP was evaluated; "" = the chaincode EP
        var someChecked = false

        func checkChaincodeOrCollection(_ collection: String) -> Result<Void, LedgerError>? {
            if !collection.isEmpty {
                if checked.contains(collection) { return nil }
                let collectionPolicy: CollectionPolicy
                do {
                    collectionPolicy = try self.definitions.collectionPolicy(chaincode: namespace, collection: collection)
                } catch {
                    return .failure(error)
                }
                switch collectionPolicy {
                case .invalid(let reason):
                    run.failure = (TxFailure(.endorsementPolicyFailure, reason), run.keys.count - 1)
                    return .success(())
                case .policy(let bytes) where !bytes.isEmpty:
                    if let failure = self.policies.evaluate(bytes, endorsers) {
                        run.failure = (
                            TxFailure(
                                failure.code,
                                "endorsement policy of collection \(collection) of \(namespace): \(failure.reason)"
                            ), run.keys.count - 1
                        )
                        return .success(())
                    }
                    checked.insert(collection)
                    someChecked = true
                    return nil
                default:
                    break
                }
            }
            if checked.contains("") { return nil }
            if let failure = self.policies.evaluate(chaincodePolicy, endorsers) {
                run.failure = (
                    TxFailure(failure.code, "endorsement policy of \(namespace): \(failure.reason)"),
                    run.keys.count - 1
                )
                return .success(())
            }
            checked.insert("")
            someChecked = true
            return nil
        }

        func checkKey(_ key: WrittenKey) -> Bool {
            run.keys.append(key)
            let stored: VersionedValue?
            do {
                if try !self.state.mayHaveKeyMetadata(namespace: key.namespace, collection: key.collection) {
                    stored = nil  // no committed key there has metadata: the read would find none
                } else if key.collection.isEmpty {
                    stored = try self.state.state(namespace: key.namespace, key: String(decoding: key.key, as: UTF8.self))
                } else {
                    stored = try self.state.hashedState(
                        namespace: key.namespace,
                        collection: key.collection,
                        keyHash: key.key
                    )
                }
            } catch {
                run.halt = (
                    LedgerError(.stateReadFailed, "could not retrieve metadata of \(key.namespace) key", cause: error),
                    run.keys.count - 1
                )
                return false
            }
            var metadata: [String: Data] = [:]
            if let bytes = stored?.metadata, !bytes.isEmpty {
                guard let write = try? Kvrwset_KVMetadataWrite(serializedBytes: bytes) else {
                    run.halt = (
                        LedgerError(.validationHalted, "could not decode the stored metadata of a key of \(key.namespace)"),
                        run.keys.count - 1
                    )
                    return false
                }
                for entry in write.entries { metadata[entry.name] = entry.value }
            }
            if let parameter = metadata["VALIDATION_PARAMETER"], !parameter.isEmpty {
                guard let envelope = try? Common_SignaturePolicyEnvelope(serializedBytes: parameter) else {
                    run.halt = (
                        LedgerError(
                            .validationHalted,
                            "could not translate the validation parameter of a key of \(key.namespace)"
                        ), run.keys.count - 1
                    )
                    return false
                }
                var policy = Protos_ApplicationPolicy()
                policy.signaturePolicy = envelope
                let bytes = (try? policy.serializedBytes()) ?? Data()
                if let failure = self.policies.evaluate(bytes, endorsers) {
                    run.failure = (
                        TxFailure(failure.code, "key-level endorsement policy in \(key.namespace): \(failure.reason)"),
                        run.keys.count - 1
                    )
                    return false
                }
                someChecked = true
                return true
            }
            switch checkChaincodeOrCollection(key.collection) {
            case .failure(let error)?:
                run.halt = (error, run.keys.count - 1)
                return false
            case .success?:
                return false
            case nil:
                return true
            }
        }

        for ns in readWriteSet.namespaces where ns.name == namespace {
            for write in ns.kvRWSet.writes {
                guard checkKey(WrittenKey(namespace: namespace, collection: "", key: Data(write.key.utf8))) else {
                    return run
                }
            }
            for write in ns.kvRWSet.metadataWrites {
                guard checkKey(WrittenKey(namespace: namespace, collection: "", key: Data(write.key.utf8))) else {
                    return run
                }
            }
            for collection in ns.collections {
                for write in collection.hashedRWSet.hashedWrites {
                    guard checkKey(WrittenKey(namespace: namespace, collection: collection.name, key: write.keyHash))
                    else { return run }
                }
            }
            for collection in ns.collections {
                for write in collection.hashedRWSet.metadataWrites {
                    guard checkKey(WrittenKey(namespace: namespace, collection: collection.name, key: write.keyHash))
                    else { return run }
                }
            }
        }
        if !someChecked, let failure = self.policies.evaluate(chaincodePolicy, endorsers) {
            run.failure = (
                TxFailure(failure.code, "endorsement policy of \(namespace): \(failure.reason)"),
                run.keys.count
            )
        }
        return run
    }
}
