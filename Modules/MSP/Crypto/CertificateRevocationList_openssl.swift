internal import COpenSSL
package import Foundation

/// An X.509 CRL, owning an OpenSSL `X509_CRL`.
package final class CertificateRevocationList: @unchecked Sendable {  // X509_CRL only read after init
    let pointer: OpaquePointer
    /// The DER encoding.
    package let der: Data
    /// The keyIdentifier of the CRL's Authority Key Identifier extension, if present.
    package let authorityKeyIdentifier: Data?
    private let tbsRaw: Data
    private let signatureAlgorithm: SignatureAlgorithm
    private let signatureValue: Data

    /// Parses a CRL given as PEM (`X509 CRL`) or DER, like Go's x509.ParseCRL.
    package init(pemOrDER bytes: Data) throws(MSPError) {
        var der = bytes
        if bytes.starts(with: Array("-----BEGIN X509 CRL".utf8)) {
            guard let (block, _) = PEM.decode(bytes), block.type == "X509 CRL" else {
                throw MSPError(.badConfiguration, "could not parse RevocationList: bad PEM")
            }
            der = block.bytes
        }
        guard let (pointer, _) = OpenSSL.decode(der, { d2i_X509_CRL(nil, $0, $1) }) else {
            throw MSPError(.badConfiguration, "could not parse RevocationList: \(OpenSSL.drainErrors())")
        }
        self.pointer = pointer
        self.der = der
        if let raw = X509_CRL_get_ext_d2i(pointer, NID_authority_key_identifier, nil, nil) {
            let keyID = raw.assumingMemoryBound(to: AUTHORITY_KEYID.self)
            self.authorityKeyIdentifier = OpenSSL.bytes(of: keyID.pointee.keyid)
            AUTHORITY_KEYID_free(keyID)
        } else {
            self.authorityKeyIdentifier = nil
        }
        do {
            var reader = DER.Reader([UInt8](der))
            let list = try reader.read(expecting: DER.Tag.sequence)
            var fields = DER.Reader(list.content)
            let tbs = try fields.read(expecting: DER.Tag.sequence)
            let algorithm = try fields.read(expecting: DER.Tag.sequence)
            var algorithmFields = DER.Reader(algorithm.content)
            let oid = try algorithmFields.read(expecting: DER.Tag.objectIdentifier)
            let value = try fields.read(expecting: DER.Tag.bitString)
            self.tbsRaw = Data(tbs.raw)
            self.signatureAlgorithm = SignatureAlgorithm(oid: Array(oid.content))
            self.signatureValue = Data(value.content.dropFirst())
        } catch {
            X509_CRL_free(pointer)
            throw MSPError(.badConfiguration, "could not parse RevocationList: \(error)")
        }
    }

    deinit { X509_CRL_free(self.pointer) }

    /// The CRL as an `X509 CRL` PEM block.
    package var pem: Data { PEM.encode(type: "X509 CRL", self.der) }

    /// Whether the serial number of `certificate` is listed.
    func lists(_ certificate: Certificate) -> Bool {
        var entry: OpaquePointer? = nil
        return X509_CRL_get0_by_serial(self.pointer, &entry, X509_get0_serialNumber(certificate.pointer)) != 0
    }

    /// Whether `issuer`'s key signed this CRL. ECDSA signatures are first re-encoded canonically, as Fabric does
    /// when it loads CRLs (so a non-canonical but valid signature still counts).
    func isSigned(by issuer: Certificate) -> Bool {
        switch self.signatureAlgorithm {
        case .ecdsa(let hash):
            guard let signature = try? ECDSASignature(der: self.signatureValue) else { return false }
            return issuer.publicKey.verifyECDSA(signatureDER: signature.derEncoded, digest: hash.digest(self.tbsRaw))
        default:
            let result = X509_CRL_verify(self.pointer, issuer.publicKey.pointer)
            if result != 1 { _ = OpenSSL.drainErrors() }
            return result == 1
        }
    }
}
