public import Foundation
import Synchronization
public import Wire

/// An identity of an X.509 MSP: a certificate, its parsed public key, and the MSP state it belongs to.
///
/// Immutable and thread-safe. The identity id is hex(hash(sanitised DER)) where the certificate's ECDSA signature
/// has been rewritten to low-S, so two encodings of one certificate have the same id. The chain to the MSP's roots
/// is built once, when the identity is created; ``validate()`` is memoised on the object.
public final class X509Identity: Identity, CustomStringConvertible {
    let core: X509MSPCore
    /// The certificate as received.
    package let certificate: Certificate
    /// The DER of the sanitised (low-S) certificate: what admin and IDENTITY-principal comparisons use.
    package let sanitizedDER: Data
    public let id: String
    public let serialized: Data
    public let organizationalUnits: [OrganizationalUnit]
    let chain: Result<[Certificate], MSPError>
    private let validation = Mutex<Result<Void, MSPError>?>(nil)

    init(
        core: X509MSPCore,
        certificate: Certificate,
        sanitizedDER: Data,
        id: String,
        serialized: Data,
        chain: Result<[Certificate], MSPError>,
        organizationalUnits: [OrganizationalUnit]
    ) {
        self.core = core
        self.certificate = certificate
        self.sanitizedDER = sanitizedDER
        self.id = id
        self.serialized = serialized
        self.chain = chain
        self.organizationalUnits = organizationalUnits
    }

    public var mspID: String { self.core.name }
    public var expiresAt: Date? { self.certificate.notAfter }
    public var isAnonymous: Bool { false }

    /// The subject common name of the certificate.
    public var commonName: String { self.certificate.commonName }

    /// The certificate (as received) in PEM.
    public var certificatePEM: Data { self.certificate.pem }

    public var description: String {
        "\(self.core.name) identity CN=\(self.certificate.commonName) (\(self.id.prefix(16))…)"
    }

    public func validate() throws(MSPError) {
        try self.core.validate(self)
    }

    public func verify(signature: Data, over message: Data) throws(MSPError) {
        try self.verify(signature: signature) { hash in hash.digest(message) } message: { message }
    }

    public func verify(signature: Data, overParts parts: [Data]) throws(MSPError) {
        try self.verify(signature: signature) { hash in hash.digest(concatenating: parts) } message: {
            Data(joining: parts)
        }
    }

    /// The verification: `digest` hashes the signed bytes (ECDSA), `message` gives them whole (Ed25519, which
    /// signs the message itself).
    private func verify(
        signature: Data,
        digest: (HashFunction) -> Data,
        message: () -> Data
    ) throws(MSPError) {
        let key = self.certificate.publicKey
        switch key.algorithm {
        case .ecdsa(let curve):
            let parsed: ECDSASignature
            do {
                parsed = try ECDSASignature(der: signature)
            } catch {
                throw self.core.error(.badSignature, self.certificate, "failed unmarshalling signature: \(error)")
            }
            guard parsed.isLowS(curve) else {
                throw self.core.error(
                    .highS,
                    self.certificate,
                    "invalid S. Must be smaller than half the order of \(curve.rawValue)"
                )
            }
            let digest = digest(self.core.signatureHash)
            // An exactly parsed signature is canonical DER already; otherwise verify (r, s) as Go does.
            let der = parsed.parsedExactly ? signature : parsed.derEncoded
            guard key.verifyECDSA(signatureDER: der, digest: digest) else {
                throw self.core.error(.badSignature, self.certificate, "the signature is invalid")
            }
        case .ed25519:
            guard self.core.version >= .v3_0 else {
                throw self.core.error(
                    .unsupportedAlgorithm,
                    self.certificate,
                    "Ed25519 signatures need MSP version v3.0"
                )
            }
            guard key.verifyEd25519(signature: signature, message: message()) else {
                throw self.core.error(.badSignature, self.certificate, "the Ed25519 signature is invalid")
            }
        default:
            throw self.core.error(.unsupportedAlgorithm, self.certificate, "cannot verify with a \(key.algorithm) key")
        }
    }

    public func satisfiesPrincipal(_ principal: Common_MSPPrincipal) throws(MSPError) {
        try self.core.satisfiesPrincipal(self, principal)
    }

    /// The memoised validation outcome, if validation ran.
    var memoizedOutcome: Result<Void, MSPError>? { self.validation.withLock { $0 } }

    /// Runs `body` once per identity object and replays its outcome afterwards.
    func memoizedValidation(_ body: () throws(MSPError) -> Void) throws(MSPError) {
        if let outcome = self.validation.withLock({ $0 }) {
            try outcome.get()
            return
        }
        let outcome: Result<Void, MSPError>
        do {
            try body()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        self.validation.withLock { $0 = outcome }
        try outcome.get()
    }
}
