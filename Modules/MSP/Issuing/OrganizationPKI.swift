package import Foundation
package import Wire

/// One organisation's PKI as cryptogen lays it out: a signing CA `ca.<domain>` and a TLS CA `tlsca.<domain>`,
/// identities whose subject carries one NodeOU (client, peer, admin, orderer), and the MSP configuration or
/// folder for the organisation. Used by `netgen` and by tests of every module.
package final class OrganizationPKI: Sendable {
    /// The organisation's domain (`org1.example.com`).
    package let domain: String
    /// The MSP id (`Org1MSP`).
    package let mspID: String
    /// The signing CA.
    package let ca: CertificateAuthority
    /// The TLS CA.
    package let tlsCA: CertificateAuthority

    /// One enrolled identity: certificate and key.
    package struct Enrollment: Sendable {
        /// The signing certificate.
        package var certificate: Certificate
        /// Its private key.
        package var privateKey: PrivateKey

        /// Pairs a certificate with its key.
        package init(certificate: Certificate, privateKey: PrivateKey) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    /// Creates the organisation with fresh CA keys (P-256, or `keyKind`).
    package init(domain: String, mspID: String, keyKind: PrivateKey.Kind = .ecdsa(.p256)) throws(MSPError) {
        self.domain = domain
        self.mspID = mspID
        self.ca = try CertificateAuthority.root(
            subject: .cryptogen(commonName: "ca.\(domain)", organization: domain),
            key: PrivateKey.generate(keyKind)
        )
        self.tlsCA = try CertificateAuthority.root(
            subject: .cryptogen(commonName: "tlsca.\(domain)", organization: domain),
            key: PrivateKey.generate(keyKind)
        )
    }

    /// Wraps existing CAs (for instance read from a cryptogen tree).
    package init(domain: String, mspID: String, ca: CertificateAuthority, tlsCA: CertificateAuthority) {
        self.domain = domain
        self.mspID = mspID
        self.ca = ca
        self.tlsCA = tlsCA
    }

    /// Enrolls `name` (a node name such as `peer0`, giving CN `peer0.<domain>`, or a full CN such as
    /// `Admin@<domain>` when it contains `@`) with NodeOU `ou` ("peer", "client", "admin", "orderer").
    package func enroll(
        _ name: String,
        ou: String,
        keyKind: PrivateKey.Kind = .ecdsa(.p256),
        profile: CertificateProfile = .signing()
    ) throws(MSPError) -> Enrollment {
        let commonName = name.contains("@") ? name : "\(name).\(self.domain)"
        let (certificate, key) = try self.ca.issueIdentity(
            subject: .cryptogen(commonName: commonName, organizationalUnits: ou.isEmpty ? [] : [ou]),
            keyKind: keyKind,
            profile: profile
        )
        return Enrollment(certificate: certificate, privateKey: key)
    }

    /// The organisation's `msp.FabricMSPConfig` as cryptogen's folder would load: the CA as root, the TLS CA,
    /// NodeOUs pinned to the CA (unless `nodeOUs` is false), SHA2/SHA256, and optionally a signing identity.
    package func mspConfig(
        signer: Enrollment? = nil,
        nodeOUs: Bool = true,
        admins: [Certificate] = []
    ) -> Msp_FabricMSPConfig {
        var config = Msp_FabricMSPConfig()
        config.name = self.mspID
        config.rootCerts = [self.ca.certificate.pem]
        config.tlsRootCerts = [self.tlsCA.certificate.pem]
        config.admins = admins.map(\.pem)
        var crypto = Msp_FabricCryptoConfig()
        crypto.signatureHashFamily = "SHA2"
        crypto.identityIdentifierHashFunction = "SHA256"
        config.cryptoConfig = crypto
        if nodeOUs {
            var ous = Msp_FabricNodeOUs()
            ous.enable = true
            func identifier(_ name: String) -> Msp_FabricOUIdentifier {
                var identifier = Msp_FabricOUIdentifier()
                identifier.certificate = self.ca.certificate.pem
                identifier.organizationalUnitIdentifier = name
                return identifier
            }
            ous.clientOuIdentifier = identifier("client")
            ous.peerOuIdentifier = identifier("peer")
            ous.adminOuIdentifier = identifier("admin")
            ous.ordererOuIdentifier = identifier("orderer")
            config.fabricNodeOus = ous
        }
        if let signer {
            var info = Msp_SigningIdentityInfo()
            info.publicSigner = signer.certificate.pem
            var key = Msp_KeyInfo()
            key.keyIdentifier = signer.certificate.publicKey.subjectKeyIdentifier.hexString
            key.keyMaterial = signer.privateKey.pkcs8PEM
            info.privateSigner = key
            config.signingIdentity = info
        }
        return config
    }

    /// Writes the organisation's MSP folder (with `signer` as a local MSP) in cryptogen's layout.
    package func writeMSPFolder(to directory: URL, signer: Enrollment? = nil) throws(MSPError) {
        try MSPFolder.write(
            MSPFolder.Contents(
                caCertificates: [self.ca.certificate],
                tlsCACertificates: [self.tlsCA.certificate],
                signingCertificate: signer?.certificate,
                privateKey: signer?.privateKey
            ),
            to: directory
        )
    }

    /// The marshalled `msp.SerializedIdentity` of `certificate` in this MSP.
    package func serializedIdentity(_ certificate: Certificate) -> Data {
        Self.serializedIdentity(mspID: self.mspID, pem: certificate.pem)
    }

    /// A marshalled `msp.SerializedIdentity`.
    package static func serializedIdentity(mspID: String, pem: Data) -> Data {
        var identity = Msp_SerializedIdentity()
        identity.mspid = mspID
        identity.idBytes = pem
        return (try? identity.encoded()) ?? Data()
    }
}
