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

    /// Reads an organisation from a cryptogen tree (`<directory>/ca/ca.<domain>-cert.pem` + `ca/priv_sk`, the same
    /// under `tlsca/`), so new identities can be issued under an existing network's CAs.
    package static func load(from directory: URL, domain: String, mspID: String) throws(MSPError) -> OrganizationPKI {
        func authority(_ folder: String, _ name: String) throws(MSPError) -> CertificateAuthority {
            let base = directory.appendingPathComponent(folder)
            let certificate: Data
            let key: Data
            do {
                certificate = try Data(contentsOf: base.appendingPathComponent("\(name).\(domain)-cert.pem"))
                key = try Data(contentsOf: base.appendingPathComponent("priv_sk"))
            } catch {
                throw MSPError(.io, "could not read the \(folder) of \(domain) under \(directory.path)", cause: error)
            }
            return try CertificateAuthority(
                certificate: Certificate(pemEncoded: certificate),
                privateKey: PrivateKey(pemEncoded: key)
            )
        }
        return OrganizationPKI(
            domain: domain,
            mspID: mspID,
            ca: try authority("ca", "ca"),
            tlsCA: try authority("tlsca", "tlsca")
        )
    }

    /// Writes the organisation-level part of a cryptogen tree: `ca/` and `tlsca/` (certificate and `priv_sk`) and
    /// the verifying `msp/` folder.
    package func writeOrganization(to directory: URL) throws(MSPError) {
        try Self.write(self.ca.certificate.pem, to: directory.appendingPathComponent("ca/ca.\(self.domain)-cert.pem"))
        try Self.write(self.ca.privateKey.pkcs8PEM, to: directory.appendingPathComponent("ca/priv_sk"))
        try Self.write(
            self.tlsCA.certificate.pem,
            to: directory.appendingPathComponent("tlsca/tlsca.\(self.domain)-cert.pem")
        )
        try Self.write(self.tlsCA.privateKey.pkcs8PEM, to: directory.appendingPathComponent("tlsca/priv_sk"))
        try self.writeMSPFolder(to: directory.appendingPathComponent("msp"))
    }

    /// Enrolls a node or user and writes its cryptogen folder: `msp/` (local MSP with signer) and `tls/` with
    /// `ca.crt` and `server.crt`/`server.key` (or `client.crt`/`client.key` for users, when `server` is false).
    /// The TLS certificate carries SANs `dnsNames` and 127.0.0.1.
    @discardableResult
    package func writeNode(
        _ name: String,
        ou: String,
        to directory: URL,
        server: Bool = true,
        dnsNames: [String]? = nil
    ) throws(MSPError) -> (signing: Enrollment, tls: Enrollment) {
        let signing = try self.enroll(name, ou: ou)
        let commonName = signing.certificate.commonName
        let (tlsCertificate, tlsKey) = try self.tlsCA.issueIdentity(
            subject: .cryptogen(commonName: commonName),
            profile: .tls(dnsNames: dnsNames ?? [commonName, name, "localhost"])
        )
        try self.writeMSPFolder(to: directory.appendingPathComponent("msp"), signer: signing)
        let prefix = server ? "server" : "client"
        try Self.write(self.tlsCA.certificate.pem, to: directory.appendingPathComponent("tls/ca.crt"))
        try Self.write(tlsCertificate.pem, to: directory.appendingPathComponent("tls/\(prefix).crt"))
        try Self.write(tlsKey.pkcs8PEM, to: directory.appendingPathComponent("tls/\(prefix).key"))
        return (signing, Enrollment(certificate: tlsCertificate, privateKey: tlsKey))
    }

    private static func write(_ data: Data, to url: URL) throws(MSPError) {
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try data.write(to: url)
        } catch {
            throw MSPError(.io, "could not write \(url.path)", cause: error)
        }
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
