public import ChannelConfig
public import Foundation

/// This peer as the access filters judge it: its MSP ID and Fabric's `selfSignedData` (32 zero bytes signed with
/// the peer's key, with its serialised identity).
public struct LocalPeerIdentity: Sendable, Hashable {
    /// The peer's MSP ID.
    public var mspID: String
    /// The peer's marshalled `msp.SerializedIdentity`.
    public var identity: Data
    /// The self-signed data.
    public var signedData: SignedData

    /// Creates the identity from an MSP ID, a serialised identity and a signing function.
    public init(mspID: String, identity: Data, sign: (Data) throws -> Data) throws(PrivdataError) {
        let message = Data(repeating: 0, count: 32)
        let signature: Data
        do {
            signature = try sign(message)
        } catch {
            throw PrivdataError(.badConfiguration, "cannot sign the self-signed data of \(mspID)", cause: error)
        }
        self.mspID = mspID
        self.identity = identity
        self.signedData = SignedData(data: message, identity: identity, signature: signature)
    }
}

extension CollectionAccess {
    /// Whether this peer is eligible for the collection's private data: its organisation is a member, or the
    /// access filter accepts its self-signed data (Fabric's `isEligible` of the coordinator).
    public func admits(_ local: LocalPeerIdentity) -> Bool {
        self.isMember(organization: local.mspID) || self.accepts(local.signedData)
    }
}
