package import Foundation

/// A certificate authority that issues X.509 certificates and CRLs: the PKI behind `netgen` and behind the tests
/// of every module.
///
/// Certificates are built as DER here (TBSCertificate, extensions in Go's order) and signed with the CA's key
/// (ECDSA with SHA-256, or Ed25519), so they look like cryptogen's: same names, extensions, SKI = SHA-256 of the
/// public key, AKI on issued certificates, 128-bit random serials, 10-year validity.
package final class CertificateAuthority: Sendable {
    /// The CA certificate.
    package let certificate: Certificate
    /// The CA's private key.
    package let privateKey: PrivateKey

    /// Wraps an existing CA certificate and its key (for instance read from cryptogen's `ca/` folder).
    package init(certificate: Certificate, privateKey: PrivateKey) throws(MSPError) {
        guard certificate.publicKey.matches(privateKey.publicKey) else {
            throw MSPError(.badConfiguration, "the private key does not match CA certificate \(certificate)")
        }
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// A self-signed root CA (by default cryptogen's CA profile and a fresh P-256 key).
    package static func root(
        subject: DistinguishedName,
        key: PrivateKey? = nil,
        profile: CertificateProfile = .certificateAuthority()
    ) throws(MSPError) -> CertificateAuthority {
        let key = try Self.keyOrNew(key)
        let certificate = try Self.build(
            subject: subject,
            subjectKey: key.publicKey,
            issuerName: Data(subject.der),
            issuerKey: key,
            authorityKeyIdentifier: nil,
            subjectKeyIdentifier: key.cryptogenSubjectKeyIdentifier,
            profile: profile
        )
        return try CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Issues a certificate for `publicKey`.
    ///
    /// With `profile.subjectKeyIdentifier`, the SKI is `subjectKeyIdentifier` when given (cryptogen derives it from
    /// the private key), else SHA-256 of the public key.
    package func issue(
        subject: DistinguishedName,
        publicKey: PublicKey,
        profile: CertificateProfile,
        subjectKeyIdentifier: Data? = nil
    ) throws(MSPError) -> Certificate {
        try Self.build(
            subject: subject,
            subjectKey: publicKey,
            issuerName: self.certificate.subjectDER,
            issuerKey: self.privateKey,
            authorityKeyIdentifier: self.certificate.subjectKeyIdentifier,
            subjectKeyIdentifier: subjectKeyIdentifier ?? publicKey.subjectKeyIdentifier,
            profile: profile
        )
    }

    /// Issues an intermediate CA with a fresh key (or `key`).
    package func issueIntermediate(
        subject: DistinguishedName,
        key: PrivateKey? = nil,
        profile: CertificateProfile = .certificateAuthority()
    ) throws(MSPError) -> CertificateAuthority {
        let key = try Self.keyOrNew(key)
        let certificate = try self.issue(
            subject: subject,
            publicKey: key.publicKey,
            profile: profile,
            subjectKeyIdentifier: key.cryptogenSubjectKeyIdentifier
        )
        return try CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Issues an end-entity certificate with a fresh key of `kind`; returns both.
    package func issueIdentity(
        subject: DistinguishedName,
        keyKind: PrivateKey.Kind = .ecdsa(.p256),
        profile: CertificateProfile = .signing()
    ) throws(MSPError) -> (certificate: Certificate, privateKey: PrivateKey) {
        let key = try PrivateKey.generate(keyKind)
        return (try self.issue(subject: subject, publicKey: key.publicKey, profile: profile), key)
    }

    /// A CRL signed by this CA revoking `serialNumbers` (as in ``Certificate/serialNumber``), with an AKI equal
    /// to this CA's SKI.
    package func revocationList(
        revoking serialNumbers: [Data],
        thisUpdate: Date = Date(),
        nextUpdate: Date? = nil,
        crlNumber: Int = 1
    ) throws(MSPError) -> CertificateRevocationList {
        let algorithm = try Self.signatureAlgorithm(for: self.privateKey)
        var fields: [[UInt8]] = [
            DER.integer(1),
            algorithm,
            [UInt8](self.certificate.subjectDER),
            DER.time(thisUpdate),
            DER.time(nextUpdate ?? thisUpdate.addingTimeInterval(7 * 24 * 3600)),
        ]
        if !serialNumbers.isEmpty {
            fields.append(
                DER.sequence(
                    serialNumbers.map {
                        DER.sequence([DER.encode(tag: DER.Tag.integer, [UInt8]($0)), DER.time(thisUpdate)])
                    }
                )
            )
        }
        var extensions: [[UInt8]] = []
        if let ski = self.certificate.subjectKeyIdentifier {
            extensions.append(Self.authorityKeyIdentifierExtension(ski))
        }
        extensions.append(Self.extensionDER("2.5.29.20", critical: false, DER.integer(crlNumber)))
        fields.append(DER.contextSpecific(0, constructed: true, DER.sequence(extensions)))
        let tbs = DER.sequence(fields)
        let signature = try Self.sign(tbs, with: self.privateKey, encoding: .lowS)
        let der = DER.sequence([tbs, algorithm, DER.bitString([UInt8](signature))])
        return try CertificateRevocationList(pemOrDER: Data(der))
    }

    // MARK: - Building

    private static func build(
        subject: DistinguishedName,
        subjectKey: PublicKey,
        issuerName: Data,
        issuerKey: PrivateKey,
        authorityKeyIdentifier: Data?,
        subjectKeyIdentifier: Data,
        profile: CertificateProfile
    ) throws(MSPError) -> Certificate {
        let algorithm = try self.signatureAlgorithm(for: issuerKey)
        let serial = profile.serialNumber.map { [UInt8]($0) } ?? Self.randomSerial()
        var extensions: [[UInt8]] = []
        extensions.append(self.extensionDER("2.5.29.15", critical: true, self.keyUsageBits(profile.keyUsage)))
        if !profile.extendedKeyUsage.isEmpty {
            extensions.append(
                self.extensionDER(
                    "2.5.29.37",
                    critical: false,
                    DER.sequence(profile.extendedKeyUsage.map { DER.objectIdentifier($0.oid) })
                )
            )
        }
        extensions.append(
            self.extensionDER("2.5.29.19", critical: true, DER.sequence(profile.isCA ? [DER.boolean(true)] : []))
        )
        if profile.subjectKeyIdentifier {
            extensions.append(
                self.extensionDER("2.5.29.14", critical: false, DER.octetString([UInt8](subjectKeyIdentifier)))
            )
        }
        if let authorityKeyIdentifier {
            extensions.append(self.authorityKeyIdentifierExtension(authorityKeyIdentifier))
        }
        if !profile.dnsNames.isEmpty || !profile.ipAddresses.isEmpty {
            var names = profile.dnsNames.map { DER.contextSpecific(2, constructed: false, Array($0.utf8)) }
            for address in profile.ipAddresses {
                guard let bytes = Self.ipAddressBytes(address) else {
                    throw MSPError(.badConfiguration, "\(address) is not an IP address")
                }
                names.append(DER.contextSpecific(7, constructed: false, bytes))
            }
            extensions.append(self.extensionDER("2.5.29.17", critical: false, DER.sequence(names)))
        }
        if !profile.permittedDNSDomains.isEmpty {
            let subtrees = profile.permittedDNSDomains.map {
                DER.sequence([DER.contextSpecific(2, constructed: false, Array($0.utf8))])
            }
            extensions.append(
                self.extensionDER(
                    "2.5.29.30",
                    critical: true,
                    DER.sequence([DER.contextSpecific(0, constructed: true, subtrees.flatMap { $0 })])
                )
            )
        }
        let tbs = DER.sequence([
            DER.contextSpecific(0, constructed: true, DER.integer(2)),
            DER.integer(unsigned: serial),
            algorithm,
            [UInt8](issuerName),
            DER.sequence([DER.time(profile.notBefore), DER.time(profile.notAfter)]),
            subject.der,
            [UInt8](subjectKey.subjectPublicKeyInfo),
            DER.contextSpecific(3, constructed: true, DER.sequence(extensions)),
        ])
        let signature = try self.sign(tbs, with: issuerKey, encoding: profile.signatureEncoding)
        return try Certificate(derEncoded: Data(DER.sequence([tbs, algorithm, DER.bitString([UInt8](signature))])))
    }

    private static func keyOrNew(_ key: PrivateKey?) throws(MSPError) -> PrivateKey {
        if let key { return key }
        return try PrivateKey.generate()
    }

    private static func signatureAlgorithm(for key: PrivateKey) throws(MSPError) -> [UInt8] {
        switch key.algorithm {
        case .ecdsa: return DER.sequence([DER.objectIdentifier("1.2.840.10045.4.3.2")])
        case .ed25519: return DER.sequence([DER.objectIdentifier("1.3.101.112")])
        default: throw MSPError(.unsupportedAlgorithm, "cannot issue certificates with a \(key.algorithm) key")
        }
    }

    private static func sign(
        _ tbs: [UInt8],
        with key: PrivateKey,
        encoding: CertificateProfile.SignatureEncoding
    ) throws(MSPError) -> Data {
        guard case .ecdsa(let curve) = key.algorithm else { return try key.signEd25519(Data(tbs)) }
        let raw = try key.signDigest(HashFunction.sha256.digest(Data(tbs)))
        let signature: ECDSASignature
        do {
            signature = try ECDSASignature(der: raw)
        } catch {
            throw MSPError(.signingFailed, "OpenSSL produced an unparsable signature: \(error)")
        }
        switch encoding {
        case .lowS: return signature.normalized(curve).signature.derEncoded
        case .highS: return signature.highS(curve).derEncoded
        case .trailingByte: return signature.normalized(curve).signature.derEncoded + Data([0x00])
        }
    }

    static func extensionDER(_ oid: String, critical: Bool, _ value: [UInt8]) -> [UInt8] {
        var fields = [DER.objectIdentifier(oid)]
        if critical { fields.append(DER.boolean(true)) }
        fields.append(DER.octetString(value))
        return DER.sequence(fields)
    }

    static func authorityKeyIdentifierExtension(_ keyIdentifier: Data) -> [UInt8] {
        self.extensionDER(
            "2.5.29.35",
            critical: false,
            DER.sequence([DER.contextSpecific(0, constructed: false, [UInt8](keyIdentifier))])
        )
    }

    /// KeyUsage as Go encodes it: a named BIT STRING trimmed to its last set bit.
    private static func keyUsageBits(_ usage: CertificateProfile.KeyUsage) -> [UInt8] {
        var bytes: [UInt8] = [0, 0]
        for bit in 0..<9 where usage.rawValue & (1 << bit) != 0 { bytes[bit / 8] |= 0x80 >> UInt8(bit % 8) }
        if bytes[1] == 0 { bytes.removeLast() }
        guard let last = bytes.last, last != 0 else { return DER.encode(tag: DER.Tag.bitString, [0]) }
        return DER.encode(tag: DER.Tag.bitString, [UInt8(last.trailingZeroBitCount)] + bytes)
    }

    private static func randomSerial() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[0] &= 0x7F
        if bytes[0] == 0 { bytes[0] = 1 }
        return bytes
    }

    private static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
