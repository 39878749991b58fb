public import Foundation

/// The cryptography gossip needs, over serialised identities (marshalled `msp.SerializedIdentity`).
///
/// Spec §9.1 (Fabric's `internal/peer/gossip/mcs.go`). The production implementation sits on the MSP layer
/// (local MSP plus the channel MSP managers and the channel policies); tests use small real fakes. Every method is
/// synchronous and free of I/O, so the gossip state machines call it directly.
public protocol MessageCryptoService: Sendable {
    /// The PKI-ID of `identity`: SHA-256(mspid ‖ id_bytes). Throws when the bytes are not a SerializedIdentity.
    func pkiID(of identity: Data) throws(GossipError) -> PKIID

    /// Validates `identity`: if the local MSP knows its MSP id, it must be well formed and validate there;
    /// otherwise some channel's MSP manager must deserialise and validate it.
    func validateIdentity(_ identity: Data) throws(GossipError)

    /// Signs `message` with the local signing identity.
    func sign(_ message: Data) throws(GossipError) -> Data

    /// Verifies `signature` over `message` by `identity` (local-MSP identities by plain signature check, channel
    /// identities through ``verifyByChannel(_:identity:signature:message:)``).
    func verify(identity: Data, signature: Data, message: Data) throws(GossipError)

    /// Verifies `signature` over `message` by `identity` against `/Channel/Application/Readers` of `channel`.
    func verifyByChannel(_ channel: ChannelID, identity: Data, signature: Data, message: Data) throws(GossipError)

    /// Verifies a block gossiped for `channel` at `sequence`: header present, `sequence` equals the header number,
    /// the channel of the first envelope is `channel`, metadata present, data hash, orderer signatures against
    /// BlockValidation. `block` is the marshalled `common.Block` exactly as received.
    func verifyBlock(channel: ChannelID, sequence: UInt64, block: Data) throws(GossipError)

    /// When `identity` expires (certificate NotAfter), or nil when it never does.
    func expiration(of identity: Data) throws(GossipError) -> Date?
}

/// Tells the organisation of a peer from its identity (Fabric's `SecurityAdvisor`).
public protocol SecurityAdvisor: Sendable {
    /// The organisation (MSP id) of the serialised `identity`, or nil when it cannot be told.
    func organization(of identity: Data) -> String?
}
