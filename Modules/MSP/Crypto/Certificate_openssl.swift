internal import COpenSSL
package import Foundation

/// An X.509 certificate, parsed by OpenSSL (owning an `X509`), with the fields the MSP needs read once at init.
///
/// Immutable after init. Equality and hashing are by DER bytes.
package final class Certificate: @unchecked Sendable, Hashable, CustomStringConvertible {  // X509 only read after init
    let pointer: OpaquePointer
    /// The DER encoding as given.
    package let der: Data
    /// The subject common name ("" when absent).
    package let commonName: String
    /// The subject organisational units, in certificate order.
    package let organizationalUnits: [String]
    /// The subject organisations, in certificate order.
    package let organizations: [String]
    /// The serial number, two's complement big-endian as encoded.
    package let serialNumber: Data
    /// NotBefore.
    package let notBefore: Date
    /// NotAfter.
    package let notAfter: Date
    /// Whether BasicConstraints is present with cA = TRUE.
    package let isCA: Bool
    /// The Subject Key Identifier extension, if present.
    package let subjectKeyIdentifier: Data?
    /// The keyIdentifier of the Authority Key Identifier extension, if present.
    package let authorityKeyIdentifier: Data?
    /// Whether a Subject Alternative Name extension is present.
    package let hasSubjectAlternativeName: Bool
    /// Whether a Name Constraints extension is present.
    package let hasNameConstraints: Bool
    /// The subject public key.
    package let publicKey: PublicKey
    /// The DER of the subject Name.
    package let subjectDER: Data
    /// The raw TBSCertificate, signature AlgorithmIdentifier and signature value (BIT STRING contents).
    let tbsRaw: [UInt8]
    let signatureAlgorithmRaw: [UInt8]
    let signatureAlgorithm: SignatureAlgorithm
    let signatureValue: Data

    /// Parses a DER certificate; trailing bytes are an error (as in Go's x509.ParseCertificate).
    package init(derEncoded der: Data) throws(MSPError) {
        guard let (pointer, consumed) = OpenSSL.decode(der, { d2i_X509(nil, $0, $1) }) else {
            throw MSPError(.malformedIdentity, "not an X.509 certificate: \(OpenSSL.drainErrors())")
        }
        guard consumed == der.count else {
            X509_free(pointer)
            throw MSPError(.malformedIdentity, "X.509 certificate has \(der.count - consumed) trailing bytes")
        }
        self.pointer = pointer
        self.der = der
        let outer: (tbs: [UInt8], algorithm: [UInt8], oid: [UInt8], signature: Data)
        do {
            var reader = DER.Reader([UInt8](der))
            let certificate = try reader.read(expecting: DER.Tag.sequence)
            var fields = DER.Reader(certificate.content)
            let tbs = try fields.read(expecting: DER.Tag.sequence)
            let algorithm = try fields.read(expecting: DER.Tag.sequence)
            var algorithmFields = DER.Reader(algorithm.content)
            let oid = try algorithmFields.read(expecting: DER.Tag.objectIdentifier)
            let value = try fields.read(expecting: DER.Tag.bitString)
            guard value.content.first == 0 else { throw DER.ParseError(description: "signature has unused bits") }
            outer = (Array(tbs.raw), Array(algorithm.raw), Array(oid.content), Data(value.content.dropFirst()))
        } catch {
            X509_free(pointer)
            throw MSPError(.malformedIdentity, "malformed certificate structure: \(error)")
        }
        self.tbsRaw = outer.tbs
        self.signatureAlgorithmRaw = outer.algorithm
        self.signatureAlgorithm = SignatureAlgorithm(oid: outer.oid)
        self.signatureValue = outer.signature

        let flags = X509_get_extension_flags(pointer)
        self.isCA = flags & UInt32(EXFLAG_BCONS) != 0 && flags & UInt32(EXFLAG_CA) != 0
        let invalid = flags & UInt32(EXFLAG_INVALID) != 0
        self.subjectKeyIdentifier = OpenSSL.bytes(of: X509_get0_subject_key_id(pointer))
        self.authorityKeyIdentifier = OpenSSL.bytes(of: X509_get0_authority_key_id(pointer))
        self.hasSubjectAlternativeName = X509_get_ext_by_NID(pointer, NID_subject_alt_name, -1) >= 0
        self.hasNameConstraints = X509_get_ext_by_NID(pointer, NID_name_constraints, -1) >= 0
        self.serialNumber = Self.serial(pointer)
        self.notBefore = OpenSSL.date(of: X509_get0_notBefore(pointer)) ?? .distantPast
        self.notAfter = OpenSSL.date(of: X509_get0_notAfter(pointer)) ?? .distantFuture

        let subject = X509_get_subject_name(pointer)
        var commonName = ""
        var units: [String] = []
        var organizations: [String] = []
        for index in 0..<X509_NAME_entry_count(subject) {
            guard let entry = X509_NAME_get_entry(subject, index) else { continue }
            let nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry))
            guard let text = OpenSSL.text(of: X509_NAME_ENTRY_get_data(entry)) else { continue }
            switch nid {
            case NID_commonName: commonName = text
            case NID_organizationalUnitName: units.append(text)
            case NID_organizationName: organizations.append(text)
            default: break
            }
        }
        self.commonName = commonName
        self.organizationalUnits = units
        self.organizations = organizations
        self.subjectDER = OpenSSL.encode { i2d_X509_NAME(subject, $0) } ?? Data()

        guard !invalid, let key = X509_get_pubkey(pointer) else {
            let detail = OpenSSL.drainErrors()
            X509_free(pointer)
            throw MSPError(
                .malformedIdentity,
                "certificate \(commonName) has invalid extensions or an unreadable public key \(detail)"
            )
        }
        self.publicKey = PublicKey(taking: key)
    }

    /// Parses the first PEM block of `pem` (any block type, as Fabric's getCertFromPem).
    package convenience init(pemEncoded pem: Data) throws(MSPError) {
        guard let (block, _) = PEM.decode(pem) else {
            throw MSPError(.malformedIdentity, "could not decode the PEM structure")
        }
        try self.init(derEncoded: block.bytes)
    }

    deinit { X509_free(self.pointer) }

    /// The certificate as a `CERTIFICATE` PEM block.
    package var pem: Data { PEM.encode(type: "CERTIFICATE", self.der) }

    /// Lowercase hex of the serial number.
    package var serialHex: String { self.serialNumber.map { String(format: "%02x", $0) }.joined() }

    /// Whether the certificate is signed with ECDSA.
    var isECDSASigned: Bool { self.signatureAlgorithm.isECDSA }

    /// Whether issuer and subject names are equal.
    var isSelfIssued: Bool { X509_check_issued(self.pointer, self.pointer) == X509_V_OK }

    package var description: String { "certificate CN=\(self.commonName) SN=\(self.serialHex)" }

    package static func == (lhs: Certificate, rhs: Certificate) -> Bool { lhs.der == rhs.der }
    package func hash(into hasher: inout Hasher) { hasher.combine(self.der) }

    private static func serial(_ pointer: OpaquePointer) -> Data {
        guard let serial = X509_get0_serialNumber(pointer) else { return Data() }
        var bytes = [UInt8](OpenSSL.bytes(of: serial) ?? Data())
        if ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER {
            // Two's complement of the magnitude, for display and comparison only.
            bytes = bytes.map { ~$0 }
        } else if let first = bytes.first, first & 0x80 != 0 {
            bytes.insert(0, at: 0)
        }
        return Data(bytes)
    }

    /// The certificate with its ECDSA signature replaced by `signature` (canonical DER), re-encoded.
    func replacingSignature(with signature: Data) throws(MSPError) -> Certificate {
        let bytes = DER.sequence([self.tbsRaw, self.signatureAlgorithmRaw, DER.bitString([UInt8](signature))])
        return try Certificate(derEncoded: Data(bytes))
    }
}

/// The signature algorithm of a certificate or CRL.
enum SignatureAlgorithm: Hashable, Sendable {
    case ecdsa(HashFunction)
    case ed25519
    case other([UInt8])

    private static let ecdsaSHA256: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
    private static let ecdsaSHA384: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03]
    private static let ecdsaSHA512: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x04]
    private static let ed25519OID: [UInt8] = [0x2B, 0x65, 0x70]

    init(oid: [UInt8]) {
        switch oid {
        case Self.ecdsaSHA256: self = .ecdsa(.sha256)
        case Self.ecdsaSHA384: self = .ecdsa(.sha384)
        case Self.ecdsaSHA512: self = .ecdsa(.sha512)
        case Self.ed25519OID: self = .ed25519
        default: self = .other(oid)
        }
    }

    var isECDSA: Bool {
        if case .ecdsa = self { return true }
        return false
    }
}
