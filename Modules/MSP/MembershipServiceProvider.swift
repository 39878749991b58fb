public import Foundation
public import Wire

/// The MSP versions, derived from the channel capabilities; behaviour differs between them (NodeOU rules, admin
/// checks, Ed25519). Ordered: a later version has every feature of an earlier one unless a rule says otherwise.
public enum MSPVersion: Int, Comparable, Sendable, CaseIterable {
    case v1_0 = 0
    case v1_1
    case v1_3
    case v1_4_3
    case v3_0

    public static func < (lhs: MSPVersion, rhs: MSPVersion) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Something that turns a marshalled `msp.SerializedIdentity` into an ``Identity``.
public protocol IdentityDeserializer: Sendable {
    /// Deserialises `serialized` (a marshalled `msp.SerializedIdentity`).
    func deserializeIdentity(_ serialized: Data) throws(MSPError) -> any Identity

    /// Checks that `identity` is well formed: exactly one PEM block of type CERTIFICATE (or empty type), no
    /// trailing bytes, and a canonically DER-encoded signature if the certificate is ECDSA-signed.
    func isWellFormed(_ identity: Msp_SerializedIdentity) throws(MSPError)
}

/// One membership service provider: the identities of one organisation.
public protocol MembershipServiceProvider: IdentityDeserializer {
    /// The MSP id (`FabricMSPConfig.name`).
    var name: String { get }
    /// The MSP version the provider was set up with.
    var version: MSPVersion { get }
    /// DER of the TLS root CA certificates.
    var tlsRootCertificates: [Data] { get }
    /// DER of the TLS intermediate CA certificates.
    var tlsIntermediateCertificates: [Data] { get }

    /// Validates an identity of this MSP (see ``Identity/validate()``).
    func validate(_ identity: any Identity) throws(MSPError)

    /// Checks that `identity` satisfies `principal`.
    func satisfiesPrincipal(_ identity: any Identity, _ principal: Common_MSPPrincipal) throws(MSPError)
}
