public import ChannelConfig
import Foundation
public import MSP
internal import SwiftProtobuf
public import Wire

/// One private data collection as Fabric's `SimpleCollection` sees it: its static configuration, the member
/// organisations read from the member-orgs signature policy, and that policy compiled against the channel's
/// identity deserializer (the access filter).
public struct CollectionAccess: Sendable {
    /// The chaincode namespace.
    public let namespace: String
    /// The collection name.
    public let name: String
    /// The static configuration as committed (or generated, for an implicit collection).
    public let config: Protos_StaticCollectionConfig
    /// The MSP IDs named by the member-orgs policy's principals (ROLE and ORGANIZATION_UNIT by their MSP
    /// identifier, IDENTITY by the MSP of the deserialised identity; other principals are ignored).
    public let memberOrgs: Set<String>
    /// The member-orgs policy, compiled.
    public let policy: SignaturePolicy

    /// Compiles `config` of `namespace` against `deserializer`.
    ///
    /// - Throws: ``PrivdataError/Code-swift.struct/badCollectionConfig`` when the member-orgs policy is absent or
    ///   does not compile.
    public init(
        namespace: String,
        config: Protos_StaticCollectionConfig,
        deserializer: any IdentityDeserializer
    ) throws(PrivdataError) {
        self.namespace = namespace
        self.name = config.name
        self.config = config
        guard config.hasMemberOrgsPolicy, case .signaturePolicy(let envelope)? = config.memberOrgsPolicy.payload else {
            throw PrivdataError(
                .badCollectionConfig,
                "collection \(config.name) of namespace \(namespace) has no member-orgs signature policy"
            )
        }
        do {
            self.policy = try SignaturePolicy(envelope: envelope, deserializer: deserializer)
        } catch {
            throw PrivdataError(
                .badCollectionConfig,
                "the member-orgs policy of collection \(config.name) of namespace \(namespace) does not compile",
                cause: error
            )
        }
        self.memberOrgs = Self.memberOrgs(of: envelope, deserializer: deserializer)
    }

    /// The MSP IDs a signature policy's principals name.
    public static func memberOrgs(
        of envelope: Common_SignaturePolicyEnvelope,
        deserializer: any IdentityDeserializer
    ) -> Set<String> {
        var orgs = Set<String>()
        for principal in envelope.identities {
            switch principal.principalClassification {
            case .role:
                if let role = try? Common_MSPRole(serializedBytes: principal.principal) {
                    orgs.insert(role.mspIdentifier)
                }
            case .organizationUnit:
                if let unit = try? Common_OrganizationUnit(serializedBytes: principal.principal) {
                    orgs.insert(unit.mspIdentifier)
                }
            case .identity:
                if let identity = try? deserializer.deserializeIdentity(principal.principal) {
                    orgs.insert(identity.mspID)
                }
            default:
                continue
            }
        }
        return orgs
    }

    /// Peers that must acknowledge a push of the collection's data.
    public var requiredPeerCount: Int { Int(self.config.requiredPeerCount) }
    /// Peers a push goes to at most.
    public var maximumPeerCount: Int { Int(self.config.maximumPeerCount) }
    /// Blocks the data lives (0: for ever).
    public var blockToLive: UInt64 { self.config.blockToLive }
    /// Whether only members may read at endorsement.
    public var memberOnlyRead: Bool { self.config.memberOnlyRead }
    /// Whether only members may write at endorsement.
    public var memberOnlyWrite: Bool { self.config.memberOnlyWrite }

    /// The access filter: whether one signature (a peer's StateInfo, a requester's handshake, this peer's
    /// self-signed data) satisfies the member-orgs policy on its own.
    public func accepts(_ signedData: SignedData) -> Bool {
        (try? self.policy.evaluate(signedData: [signedData])) != nil
    }

    /// Whether organisation `mspID` is a member.
    public func isMember(organization mspID: String) -> Bool { self.memberOrgs.contains(mspID) }

    /// Whether the creator of a signed proposal may read the collection at endorsement (MemberOnlyRead): anyone
    /// when the flag is off, else members only.
    public func canRead(_ signedProposal: SignedData) -> Bool {
        !self.memberOnlyRead || self.accepts(signedProposal)
    }

    /// Whether the creator of a signed proposal may write the collection at endorsement (MemberOnlyWrite).
    public func canWrite(_ signedProposal: SignedData) -> Bool {
        !self.memberOnlyWrite || self.accepts(signedProposal)
    }
}
