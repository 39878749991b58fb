public import Foundation
public import Wire

/// An X.509 identity together with its private key: the local peer's (or a test client's) signer.
///
/// Signatures are ECDSA over the MSP's signature hash (SHA-256 for the SHA2 family) as DER with low S, or Ed25519
/// over the raw message on MSP v3.0.
public final class X509SigningIdentity: SigningIdentity, CustomStringConvertible {
    /// The public identity.
    public let identity: X509Identity
    /// The private key.
    package let privateKey: PrivateKey

    init(identity: X509Identity, privateKey: PrivateKey) {
        self.identity = identity
        self.privateKey = privateKey
    }

    public var mspID: String { self.identity.mspID }
    public var id: String { self.identity.id }
    public var serialized: Data { self.identity.serialized }
    public var expiresAt: Date? { self.identity.expiresAt }
    public var organizationalUnits: [OrganizationalUnit] { self.identity.organizationalUnits }
    public var isAnonymous: Bool { false }
    public var description: String { "signing \(self.identity)" }

    public func validate() throws(MSPError) { try self.identity.validate() }

    public func verify(signature: Data, over message: Data) throws(MSPError) {
        try self.identity.verify(signature: signature, over: message)
    }

    public func verify(signature: Data, overParts parts: [Data]) throws(MSPError) {
        try self.identity.verify(signature: signature, overParts: parts)
    }

    public func satisfiesPrincipal(_ principal: Common_MSPPrincipal) throws(MSPError) {
        try self.identity.satisfiesPrincipal(principal)
    }

    public func sign(_ message: Data) throws(MSPError) -> Data {
        let core = self.identity.core
        switch self.privateKey.algorithm {
        case .ecdsa(let curve):
            let der = try self.privateKey.signDigest(core.signatureHash.digest(message))
            do {
                return try ECDSASignature(der: der).normalized(curve).signature.derEncoded
            } catch {
                throw core.error(.signingFailed, self.identity.certificate, "unparsable ECDSA signature: \(error)")
            }
        case .ed25519 where core.version >= .v3_0:
            return try self.privateKey.signEd25519(message)
        default:
            throw core.error(
                .unsupportedAlgorithm,
                self.identity.certificate,
                "cannot sign with a \(self.privateKey.algorithm) key on MSP version \(core.version)"
            )
        }
    }
}
