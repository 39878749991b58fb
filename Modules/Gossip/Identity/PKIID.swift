public import Foundation
internal import SwiftProtobuf
internal import Wire

/// A peer's PKI-ID: SHA-256(mspid ‖ id_bytes) of its serialised identity (§11), 32 bytes.
///
/// Ordered lexicographically by bytes, as Fabric's election compares them (lower wins).
public struct PKIID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw bytes.
    public let bytes: Data

    /// Wraps raw PKI-ID bytes (as carried on the wire).
    public init(_ bytes: Data) { self.bytes = Data(bytes) }

    /// The PKI-ID of an identity with `mspID` and `idBytes` (the PEM text as serialised).
    public static func of(mspID: String, idBytes: Data) -> PKIID {
        PKIID(Digest.sha256(concatenating: [Data(mspID.utf8), idBytes]))
    }

    /// The PKI-ID of a marshalled `msp.SerializedIdentity`.
    public static func of(serializedIdentity: Data) throws(GossipError) -> PKIID {
        let identity: Msp_SerializedIdentity
        do {
            identity = try Msp_SerializedIdentity(serializedBytes: serializedIdentity)
        } catch {
            throw GossipError(.invalidIdentity, "identity is not a SerializedIdentity", cause: error)
        }
        return .of(mspID: identity.mspid, idBytes: identity.idBytes)
    }

    /// Whether the PKI-ID has no bytes (never valid on the wire).
    public var isEmpty: Bool { self.bytes.isEmpty }

    /// Lower-case hex of the bytes.
    public var hex: String { self.bytes.hexString }

    public var description: String { String(self.hex.prefix(16)) }

    public static func < (lhs: PKIID, rhs: PKIID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// A channel's name, as used in gossip (the `channel` field holds its UTF-8 bytes).
public typealias ChannelID = String

/// The channel MAC of StateInfo messages and StateInfo pull requests: SHA-256(pki_id ‖ channel id) (§11).
public enum ChannelMAC {
    /// The MAC of `pkiID` for `channel`.
    public static func of(_ pkiID: PKIID, channel: ChannelID) -> Data {
        Digest.sha256(concatenating: [pkiID.bytes, Data(channel.utf8)])
    }
}
