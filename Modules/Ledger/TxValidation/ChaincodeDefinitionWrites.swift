import Foundation
import SwiftProtobuf
public import Wire

/// The `_lifecycle` state writes of a committed chaincode definition (what `CommitChaincodeDefinition` writes),
/// the inverse of what the validator reads: for tools and tests that need a defined chaincode on a channel
/// without running the lifecycle chaincode.
public struct ChaincodeDefinitionWrites: Sendable {
    /// The chaincode name.
    public var name: String
    /// The definition sequence.
    public var sequence: Int64 = 1
    /// The chaincode version.
    public var version: String = "1.0"
    /// The endorsement policy: a reference to a channel config policy.
    public var endorsementPolicyReference: String = "/Channel/Application/Endorsement"
    /// The private data collections.
    public var collections: [Protos_StaticCollectionConfig] = []

    /// A definition of `name` with the defaults above.
    public init(name: String) { self.name = name }

    /// Adds the definition's writes (metadata and the four fields) to `builder` under namespace `_lifecycle`.
    public func write(into builder: inout ReadWriteSetBuilder) throws {
        let namespace = ChaincodeDefinitions.lifecycleNamespace
        var metadata = Lifecycle_StateMetadata()
        metadata.datatype = "ChaincodeDefinition"
        metadata.fields = ["EndorsementInfo", "ValidationInfo", "Collections", "Sequence"]
        builder.write(namespace, "namespaces/metadata/\(self.name)", value: try metadata.serializedBytes())
        func field(_ field: String, _ data: Lifecycle_StateData) throws {
            builder.write(namespace, "namespaces/fields/\(self.name)/\(field)", value: try data.serializedBytes())
        }
        try field("Sequence", .with { $0.int64 = self.sequence })
        var endorsement = Lifecycle_ChaincodeEndorsementInfo()
        endorsement.version = self.version
        endorsement.endorsementPlugin = "escc"
        let endorsementBytes: Data = try endorsement.serializedBytes()
        try field("EndorsementInfo", .with { $0.bytes = endorsementBytes })
        var policy = Protos_ApplicationPolicy()
        policy.channelConfigPolicyReference = self.endorsementPolicyReference
        var validation = Lifecycle_ChaincodeValidationInfo()
        validation.validationPlugin = "vscc"
        validation.validationParameter = try policy.serializedBytes()
        let validationBytes: Data = try validation.serializedBytes()
        try field("ValidationInfo", .with { $0.bytes = validationBytes })
        var package = Protos_CollectionConfigPackage()
        package.config = self.collections.map { collection in .with { $0.staticCollectionConfig = collection } }
        let packageBytes: Data = try package.serializedBytes()
        try field("Collections", .with { $0.bytes = packageBytes })
    }

    /// The `_lifecycle` endorser transaction that commits the definition, created by `creator` (an org admin)
    /// and endorsed by `endorsers` (peers satisfying /Channel/Application/LifecycleEndorsement).
    public func transaction(
        channelID: String,
        creator: TransactionSigner,
        endorsers: [TransactionSigner]
    ) throws -> Common_Envelope {
        var builder = ReadWriteSetBuilder()
        try self.write(into: &builder)
        return try TransactionBuilder.endorserTransaction(
            channelID: channelID,
            chaincode: ChaincodeDefinitions.lifecycleNamespace,
            rwset: builder.readWriteSet(),
            creator: creator,
            endorsers: endorsers,
            arguments: [Data("CommitChaincodeDefinition".utf8)]
        )
    }
}
