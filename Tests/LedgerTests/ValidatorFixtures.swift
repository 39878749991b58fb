import ChannelConfig
import Foundation
import Ledger
import MSP
import SwiftProtobuf
import Synchronization
import TestSupport
import Wire

/// Committed state for validator tests: a dictionary of public values and metadata, plus committed tx ids.
final class MemoryValidationState: ValidationContext {
    private struct Store {
        var values: [String: Data] = [:]
        var metadata: [String: Data] = [:]
        var txIDs: Set<String> = []
    }

    private let store = Mutex(Store())

    private static func key(_ namespace: String, _ key: String) -> String { namespace + "\u{0}" + key }
    private static func hashedKey(_ namespace: String, _ collection: String, _ keyHash: Data) -> String {
        namespace + "$$h" + collection + "\u{0}" + keyHash.hexString
    }

    private static func encode(_ entries: [String: Data]) -> Data {
        var write = Kvrwset_KVMetadataWrite()
        write.entries = entries.keys.sorted().map { name in
            Kvrwset_KVMetadataEntry.with {
                $0.name = name
                $0.value = entries[name]!
            }
        }
        return try! write.serializedBytes()
    }

    var height: UInt64 { 5 }

    func put(_ namespace: String, _ key: String, _ value: Data?) {
        self.store.withLock { $0.values[Self.key(namespace, key)] = value }
    }

    func putMetadata(_ namespace: String, _ key: String, _ entries: [String: Data]) {
        self.store.withLock {
            $0.metadata[Self.key(namespace, key)] = Self.encode(entries)
            if $0.values[Self.key(namespace, key)] == nil { $0.values[Self.key(namespace, key)] = Data([1]) }
        }
    }

    func putHashedMetadata(_ namespace: String, _ collection: String, keyHash: Data, _ entries: [String: Data]) {
        self.store.withLock { $0.metadata[Self.hashedKey(namespace, collection, keyHash)] = Self.encode(entries) }
    }

    func addTxID(_ txID: String) { _ = self.store.withLock { $0.txIDs.insert(txID) } }

    func state(namespace: String, key: String) throws -> VersionedValue? {
        self.store.withLock { store in
            store.values[Self.key(namespace, key)].map {
                VersionedValue(value: $0, metadata: store.metadata[Self.key(namespace, key)], version: Height(blockNumber: 1, txNumber: 0))
            }
        }
    }

    func hashedState(namespace: String, collection: String, keyHash: Data) throws -> VersionedValue? {
        self.store.withLock { store in
            store.metadata[Self.hashedKey(namespace, collection, keyHash)].map {
                VersionedValue(value: Data(repeating: 1, count: 32), metadata: $0, version: Height(blockNumber: 1, txNumber: 0))
            }
        }
    }

    func txIDExists(_ txID: String) throws -> Bool { self.store.withLock { $0.txIDs.contains(txID) } }

    /// As the ledger answers it: true exactly when some stored key of the namespace (collection) has metadata, so
    /// the validator's shortcut for namespaces without any is exercised too.
    func mayHaveKeyMetadata(namespace: String, collection: String) throws -> Bool {
        let prefix = collection.isEmpty ? namespace + "\u{0}" : namespace + "$$h" + collection + "\u{0}"
        return self.store.withLock { $0.metadata.keys.contains { $0.hasPrefix(prefix) } }
    }

    /// Writes a `_lifecycle` chaincode definition the way the lifecycle commit does.
    func define(
        _ chaincode: String,
        policy: Protos_ApplicationPolicy,
        collections: Protos_CollectionConfigPackage = Protos_CollectionConfigPackage(),
        plugin: String = "vscc"
    ) throws {
        var metadata = Lifecycle_StateMetadata()
        metadata.datatype = "ChaincodeDefinition"
        metadata.fields = ["Sequence", "EndorsementInfo", "ValidationInfo", "Collections"]
        self.put("_lifecycle", "namespaces/metadata/\(chaincode)", try metadata.serializedBytes())
        func field(_ name: String, _ data: Lifecycle_StateData) throws {
            self.put("_lifecycle", "namespaces/fields/\(chaincode)/\(name)", try data.serializedBytes())
        }
        try field("Sequence", .with { $0.int64 = 1 })
        var endorsement = Lifecycle_ChaincodeEndorsementInfo()
        endorsement.version = "1.0"
        endorsement.endorsementPlugin = "escc"
        try field("EndorsementInfo", .with { $0.bytes = try! endorsement.serializedBytes() })
        var validation = Lifecycle_ChaincodeValidationInfo()
        validation.validationPlugin = plugin
        validation.validationParameter = try policy.serializedBytes()
        try field("ValidationInfo", .with { $0.bytes = try! validation.serializedBytes() })
        try field("Collections", .with { $0.bytes = try! collections.serializedBytes() })
    }
}

/// A two-org channel on fake MSPs, with signers for clients and peers.
struct ValidatorFixture {
    static let channel = "mychannel"
    let org1 = FakeMSP(name: "Org1MSP")
    let org2 = FakeMSP(name: "Org2MSP")
    let org3 = FakeMSP(name: "Org3MSP")
    let bundle: ChannelBundle
    let state = MemoryValidationState()
    let validator = BlockValidator(parallelism: 2)

    init(orgs: [String] = ["Org1MSP", "Org2MSP", "Org3MSP"]) throws {
        let profile = ChannelProfile(
            channelID: Self.channel,
            applicationOrgs: orgs.map { .peerOrg(name: $0, msp: FakeMSP.config($0)) },
            ordererOrgs: [.ordererOrg(name: "OrdererOrg", msp: FakeMSP.config("OrdererMSP"), endpoints: ["o:7050"])]
        )
        self.bundle = try ChannelBundle(channelID: Self.channel, config: profile.makeConfig(), mspBuilder: FakeMSP.builder)
    }

    var client: FakeIdentity { org1.identity("client1", roles: [.client]) }
    var peer1: FakeIdentity { org1.identity("peer1", roles: [.peer]) }
    var peer2: FakeIdentity { org2.identity("peer2", roles: [.peer]) }
    var peer3: FakeIdentity { org3.identity("peer3", roles: [.peer]) }

    static func signer(_ identity: FakeIdentity) -> TransactionSigner {
        TransactionSigner(identity: identity.serialized) { try identity.sign($0) }
    }

    /// A reference to the channel's default endorsement policy (MAJORITY Endorsement).
    static var channelEndorsement: Protos_ApplicationPolicy {
        .with { $0.channelConfigPolicyReference = "/Channel/Application/Endorsement" }
    }

    static func signaturePolicy(_ text: String) throws -> Protos_ApplicationPolicy {
        let envelope = try PolicyDSL.parse(text)
        return .with { $0.signaturePolicy = envelope }
    }

    func transaction(
        chaincode: String = "basic",
        creator: FakeIdentity? = nil,
        endorsers: [FakeIdentity]? = nil,
        nonce: Data? = nil,
        channel: String = Self.channel,
        build: (inout ReadWriteSetBuilder) -> Void = { $0.write("basic", "k", value: Data("v".utf8)) }
    ) throws -> Common_Envelope {
        var builder = ReadWriteSetBuilder()
        build(&builder)
        return try TransactionBuilder.endorserTransaction(
            channelID: channel,
            chaincode: chaincode,
            rwset: builder.readWriteSet(),
            creator: Self.signer(creator ?? client),
            endorsers: (endorsers ?? [peer1, peer2]).map(Self.signer),
            nonce: nonce
        )
    }

    func block(_ envelopes: [Common_Envelope], number: UInt64 = 5) throws -> Common_Block {
        var block = Common_Block()
        block.header.number = number
        block.data.data = try envelopes.map { try $0.serializedBytes() }
        block.header.dataHash = block.data.hash
        return block
    }

    func validate(_ envelopes: [Common_Envelope]) async throws -> [Protos_TxValidationCode] {
        try await self.validator.validate(try block(envelopes), bundle: bundle, state: state) { _ in
            throw ChannelConfigError(.badStructure, "no config expected")
        }
    }
}

extension Common_Envelope {
    /// Re-signs a modified payload with `signer` (to isolate a check from the creator signature check).
    mutating func resign(_ signer: FakeIdentity) throws {
        self.signature = try signer.sign(self.payload)
    }

    /// Changes the payload's channel header; the envelope's signature is left as it was.
    mutating func editChannelHeader(_ edit: (inout Common_ChannelHeader) -> Void) throws {
        var payload = try Common_Payload(serializedBytes: self.payload)
        var header = try Common_ChannelHeader(serializedBytes: payload.header.channelHeader)
        edit(&header)
        payload.header.channelHeader = try header.serializedBytes()
        self.payload = try payload.serializedBytes()
    }

    /// Changes the first action's `ChaincodeActionPayload`; the envelope's signature is left as it was.
    mutating func editActionPayload(_ edit: (inout Protos_ChaincodeActionPayload) throws -> Void) throws {
        var payload = try Common_Payload(serializedBytes: self.payload)
        var transaction = try Protos_Transaction(serializedBytes: payload.data)
        var actionPayload = try Protos_ChaincodeActionPayload(serializedBytes: transaction.actions[0].payload)
        try edit(&actionPayload)
        transaction.actions[0].payload = try actionPayload.serializedBytes()
        payload.data = try transaction.serializedBytes()
        self.payload = try payload.serializedBytes()
    }
}
