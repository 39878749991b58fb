import ChannelConfig
import Foundation
import SwiftProtobuf
import Wire

/// A chaincode definition as `_lifecycle` stores it in public state.
struct ChaincodeDefinition: Sendable {
    var sequence: Int64
    var endorsementInfo: Lifecycle_ChaincodeEndorsementInfo
    var validationInfo: Lifecycle_ChaincodeValidationInfo
    var collections: Protos_CollectionConfigPackage
}

/// The validation plugin and parameter for a namespace, or why the namespace cannot be validated.
enum ValidationInfo: Sendable {
    /// The plugin name and its parameter (a marshalled `ApplicationPolicy` for `vscc`).
    case info(plugin: String, parameter: Data)
    /// The namespace has no usable definition: the transaction is INVALID_CHAINCODE.
    case invalid(String)
}

/// The endorsement policy for writes to one collection.
enum CollectionPolicy: Sendable {
    /// Use the chaincode's endorsement policy (legacy chaincode, or no collection-specific policy).
    case chaincodePolicy
    /// A collection-specific policy (marshalled `ApplicationPolicy`).
    case policy(Data)
    /// The collection is not defined for the chaincode: an endorsement policy failure.
    case invalid(String)
}

/// Reads chaincode definitions from committed state the way Fabric's validator does: `_lifecycle` first, then
/// the legacy `lscc` namespace. Unexpected data (unparseable metadata or fields) is a halting error, because
/// Fabric's peer stops processing the chain rather than guess.
///
/// One instance serves one block on one snapshot of state, where definitions cannot change: every answer
/// (a definition, validation info, a collection policy, or the error) is kept and replayed, so a block of
/// transactions on one chaincode reads and decodes its definition once. Not thread-safe: the state-dependent
/// half of validation runs on one thread.
final class ChaincodeDefinitions {
    static let lifecycleNamespace = "_lifecycle"
    static let implicitCollectionPrefix = "_implicit_org_"
    static let lifecycleEndorsementReference = "/Channel/Application/LifecycleEndorsement"

    let state: any ValidationSnapshot
    let bundle: ChannelBundle
    private var definitions: [String: Result<ChaincodeDefinition?, LedgerError>] = [:]
    private var validationInfos: [String: Result<ValidationInfo, LedgerError>] = [:]
    private var collectionPolicies: [String: Result<CollectionPolicy, LedgerError>] = [:]

    init(state: any ValidationSnapshot, bundle: ChannelBundle) {
        self.state = state
        self.bundle = bundle
    }

    private static func cached<Value>(
        _ cache: inout [String: Result<Value, LedgerError>],
        _ key: String,
        _ compute: () throws(LedgerError) -> Value
    ) throws(LedgerError) -> Value {
        if let hit = cache[key] { return try hit.get() }
        let result: Result<Value, LedgerError>
        do {
            result = .success(try compute())
        } catch {
            result = .failure(error)
        }
        cache[key] = result
        return try result.get()
    }

    private func read(_ namespace: String, _ key: String) throws(LedgerError) -> Data? {
        do {
            return try self.state.state(namespace: namespace, key: key)?.value
        } catch {
            throw LedgerError(.stateReadFailed, "could not read \(namespace)/\(key)", cause: error)
        }
    }

    private func halt(_ message: String, _ cause: (any Error)? = nil) -> LedgerError {
        LedgerError(.validationHalted, message, cause: cause)
    }

    /// The definition of `name`, or nil if `_lifecycle` does not define it.
    func definition(_ name: String) throws(LedgerError) -> ChaincodeDefinition? {
        try Self.cached(&self.definitions, name) { () throws(LedgerError) in try self.readDefinition(name) }
    }

    private func readDefinition(_ name: String) throws(LedgerError) -> ChaincodeDefinition? {
        if name == Self.lifecycleNamespace {
            return ChaincodeDefinition(
                sequence: 0,
                endorsementInfo: Lifecycle_ChaincodeEndorsementInfo(),
                validationInfo: Lifecycle_ChaincodeValidationInfo(),
                collections: Protos_CollectionConfigPackage()
            )
        }
        guard let metadataBytes = try read(Self.lifecycleNamespace, "namespaces/metadata/\(name)") else { return nil }
        let metadata: Lifecycle_StateMetadata
        do {
            metadata = try Lifecycle_StateMetadata(serializedBytes: metadataBytes)
        } catch {
            throw halt("could not unmarshal metadata for namespace namespaces/\(name)", error)
        }
        guard metadata.datatype == "ChaincodeDefinition" else {
            throw halt("not a chaincode type: \(metadata.datatype) (namespaces/\(name))")
        }
        func field(_ field: String) throws(LedgerError) -> Lifecycle_StateData {
            let key = "namespaces/fields/\(name)/\(field)"
            let bytes = try read(Self.lifecycleNamespace, key) ?? Data()
            do {
                return try Lifecycle_StateData(serializedBytes: bytes)
            } catch {
                throw halt("could not unmarshal state for key \(key)", error)
            }
        }
        func bytesField(_ name: String) throws(LedgerError) -> Data {
            let data = try field(name)
            switch data.type {
            case nil: return Data()
            case .bytes(let bytes): return bytes
            default: throw halt("expected key namespaces/fields/\(name) to encode a value of type []byte")
            }
        }
        func proto<M: SwiftProtobuf.Message>(_ fieldName: String, _ type: M.Type) throws(LedgerError) -> M {
            let bytes = try bytesField(fieldName)
            do {
                return try M(serializedBytes: bytes)
            } catch {
                throw halt("could not unmarshal key namespaces/fields/\(name)/\(fieldName) to \(M.protoMessageName)", error)
            }
        }
        let sequenceData = try field("Sequence")
        let sequence: Int64
        switch sequenceData.type {
        case nil: sequence = 0
        case .int64(let value): sequence = value
        default: throw halt("expected key namespaces/fields/\(name)/Sequence to encode a value of type Int64")
        }
        return ChaincodeDefinition(
            sequence: sequence,
            endorsementInfo: try proto("EndorsementInfo", Lifecycle_ChaincodeEndorsementInfo.self),
            validationInfo: try proto("ValidationInfo", Lifecycle_ChaincodeValidationInfo.self),
            collections: try proto("Collections", Protos_CollectionConfigPackage.self)
        )
    }

    /// The validation info of namespace `name` (ValidationInfoRetrieveShim: `_lifecycle`, then `lscc`).
    func validationInfo(_ name: String) throws(LedgerError) -> ValidationInfo {
        try Self.cached(&self.validationInfos, name) { () throws(LedgerError) in try self.readValidationInfo(name) }
    }

    private func readValidationInfo(_ name: String) throws(LedgerError) -> ValidationInfo {
        if name == Self.lifecycleNamespace {
            return .info(plugin: "vscc", parameter: try self.lifecycleEndorsementPolicy())
        }
        if let definition = try self.definition(name) {
            let info = definition.validationInfo
            if !info.validationPlugin.isEmpty || !info.validationParameter.isEmpty {
                return try Self.checked(name, plugin: info.validationPlugin, parameter: info.validationParameter)
            }
        }
        // Legacy lifecycle (lscc).
        guard let legacyBytes = try read("lscc", name) else { return .invalid("chaincode \(name) not found") }
        let legacy: Protos_ChaincodeData
        do {
            legacy = try Protos_ChaincodeData(serializedBytes: legacyBytes)
        } catch {
            throw halt("chaincode \(name) has bad definition", error)
        }
        var parameter = legacy.hasPolicy ? ((try? legacy.policy.serializedBytes()) ?? Data()) : Data()
        if legacy.vscc == "vscc", !parameter.isEmpty {
            var policy = Protos_ApplicationPolicy()
            policy.signaturePolicy = legacy.policy
            parameter = (try? policy.serializedBytes()) ?? parameter
        }
        return try Self.checked(name, plugin: legacy.vscc, parameter: parameter)
    }

    private static func checked(_ name: String, plugin: String, parameter: Data) throws(LedgerError) -> ValidationInfo {
        guard !plugin.isEmpty else {
            return .invalid("chaincode definition for [\(name)] is invalid, plugin field must be set")
        }
        guard !parameter.isEmpty else {
            return .invalid("chaincode definition for [\(name)] is invalid, policy field must be set")
        }
        return .info(plugin: plugin, parameter: parameter)
    }

    /// `_lifecycle`'s own policy: the channel's LifecycleEndorsement policy if it exists, else a majority of the
    /// application orgs' members.
    func lifecycleEndorsementPolicy() throws(LedgerError) -> Data {
        var policy = Protos_ApplicationPolicy()
        if self.bundle.policyManager.policy(Self.lifecycleEndorsementReference).found {
            policy.channelConfigPolicyReference = Self.lifecycleEndorsementReference
        } else {
            guard let application = self.bundle.application else {
                throw halt("could not get application config for channel '\(self.bundle.channelID)'")
            }
            let ids = application.organizations.values.map(\.mspID).sorted()
            policy.signaturePolicy = Self.nOutOf(ids.count / 2 + 1, role: .member, ids)
        }
        return (try? policy.serializedBytes()) ?? Data()
    }

    /// Fabric's `SignedByNOutOfGivenRole`: one ROLE principal per MSP id (sorted), n of them required.
    static func nOutOf(_ n: Int, role: Common_MSPRole.MSPRoleType, _ mspIDs: [String]) -> Common_SignaturePolicyEnvelope {
        var envelope = Common_SignaturePolicyEnvelope()
        var rules: [Common_SignaturePolicy] = []
        for (index, id) in mspIDs.sorted().enumerated() {
            var mspRole = Common_MSPRole()
            mspRole.role = role
            mspRole.mspIdentifier = id
            var principal = Common_MSPPrincipal()
            principal.principalClassification = .role
            principal.principal = (try? mspRole.serializedBytes()) ?? Data()
            envelope.identities.append(principal)
            var rule = Common_SignaturePolicy()
            rule.signedBy = Int32(index)
            rules.append(rule)
        }
        var nOutOf = Common_SignaturePolicy.NOutOf()
        nOutOf.n = Int32(n)
        nOutOf.rules = rules
        envelope.rule.nOutOf = nOutOf
        return envelope
    }

    /// The endorsement policy for writes to `collection` of chaincode `chaincode`.
    func collectionPolicy(chaincode: String, collection: String) throws(LedgerError) -> CollectionPolicy {
        try Self.cached(&self.collectionPolicies, chaincode + "\u{0}" + collection) { () throws(LedgerError) in
            try self.readCollectionPolicy(chaincode: chaincode, collection: collection)
        }
    }

    private func readCollectionPolicy(chaincode: String, collection: String) throws(LedgerError) -> CollectionPolicy {
        guard let definition = try self.definition(chaincode) else { return .chaincodePolicy }
        if collection.hasPrefix(Self.implicitCollectionPrefix) {
            let mspID = String(collection.dropFirst(Self.implicitCollectionPrefix.count))
            guard let application = self.bundle.application else {
                throw halt("could not get application config for channel '\(self.bundle.channelID)'")
            }
            guard let org = application.organization(mspID: mspID) else {
                return .invalid("no org found in channel with MSPID '\(mspID)'")
            }
            var policy = Protos_ApplicationPolicy()
            let reference = "/Channel/Application/\(org.name)/Endorsement"
            if self.bundle.policyManager.policy(reference).found {
                policy.channelConfigPolicyReference = reference
            } else {
                policy.signaturePolicy = Self.nOutOf(1, role: .member, [mspID])
            }
            return .policy((try? policy.serializedBytes()) ?? Data())
        }
        for config in definition.collections.config {
            guard case .staticCollectionConfig(let collectionConfig) = config.payload,
                collectionConfig.name == collection
            else { continue }
            if collectionConfig.hasEndorsementPolicy {
                return .policy((try? collectionConfig.endorsementPolicy.serializedBytes()) ?? Data())
            }
            return .policy(definition.validationInfo.validationParameter)
        }
        return .invalid("no such collection '\(collection)'")
    }
}
