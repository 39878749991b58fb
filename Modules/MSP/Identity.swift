public import Foundation
public import Wire

/// An identity as the MSP sees it: a certificate of a member of some MSP, with the operations policies need.
///
/// Identities are immutable values; validation results and deserialisations are cached by the MSP, so an
/// identity may be asked to validate many times cheaply.
public protocol Identity: Sendable {
    /// The MSP that issued the identity (`SerializedIdentity.mspid`).
    var mspID: String { get }
    /// Hex SHA-256 of the sanitised (low-S) certificate DER: equal for two encodings of the same certificate.
    var id: String { get }
    /// The marshalled `msp.SerializedIdentity` this identity was deserialised from (or would serialise to).
    var serialized: Data { get }
    /// When the certificate expires (NotAfter), if it has an expiry.
    var expiresAt: Date? { get }
    /// The organisational units of the certificate subject, each with the certifiers identifier of its chain.
    var organizationalUnits: [OrganizationalUnit] { get }
    /// Whether the identity is anonymous (idemix); X.509 identities never are.
    var isAnonymous: Bool { get }

    /// Checks the identity against its MSP (chain, CRLs, OU and NodeOU rules). Expiry is **not** checked here,
    /// as in Fabric.
    func validate() throws(MSPError)

    /// Verifies `signature` over `message` with the identity's public key (ECDSA over SHA-256 with low-S, or
    /// Ed25519 where the MSP version allows it).
    func verify(signature: Data, over message: Data) throws(MSPError)

    /// Verifies `signature` over the concatenation of `parts`, as ``verify(signature:over:)`` does over the
    /// concatenated bytes; an identity that hashes the message may hash the parts without concatenating them.
    func verify(signature: Data, overParts parts: [Data]) throws(MSPError)

    /// Checks that the identity satisfies `principal` (ROLE, IDENTITY, ORGANIZATION_UNIT, ANONYMITY, COMBINED).
    func satisfiesPrincipal(_ principal: Common_MSPPrincipal) throws(MSPError)
}

extension Identity {
    /// Concatenates `parts` and verifies over the result.
    public func verify(signature: Data, overParts parts: [Data]) throws(MSPError) {
        try self.verify(signature: signature, over: Data(joining: parts))
    }
}

extension Data {
    /// The concatenation of `parts`, in one allocation.
    init(joining parts: [Data]) {
        self.init(capacity: parts.reduce(0) { $0 + $1.count })
        for part in parts { self.append(part) }
    }
}

/// An identity that holds its private key and can sign.
public protocol SigningIdentity: Identity {
    /// Signs `message`: ECDSA signatures are DER `SEQUENCE { r, s }` over SHA-256(message), always low-S.
    func sign(_ message: Data) throws(MSPError) -> Data
}

/// An organisational unit of an identity, as used by OU identifiers, NodeOUs and ORGANIZATION_UNIT principals.
public struct OrganizationalUnit: Hashable, Sendable {
    /// The OU name from the certificate subject.
    public var name: String
    /// The hash of the certification chain (issuer up to root) that vouches for the OU.
    public var certifiersIdentifier: Data
    /// The MSP the OU belongs to.
    public var mspID: String

    /// Creates an OU value.
    public init(name: String, certifiersIdentifier: Data, mspID: String) {
        self.name = name
        self.certifiersIdentifier = certifiersIdentifier
        self.mspID = mspID
    }
}

/// The identifier policies de-duplicate identities by: (MSP id, identity id).
public struct IdentityIdentifier: Hashable, Sendable {
    /// The MSP id.
    public var mspID: String
    /// The identity id (hex SHA-256 of the sanitised certificate).
    public var id: String

    /// Creates an identifier.
    public init(mspID: String, id: String) {
        self.mspID = mspID
        self.id = id
    }
}

extension Identity {
    /// The (MSP id, identity id) pair.
    public var identifier: IdentityIdentifier { IdentityIdentifier(mspID: self.mspID, id: self.id) }
}
