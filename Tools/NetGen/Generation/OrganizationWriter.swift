import Foundation
import MSP

/// Writes one organisation's cryptogen tree: `ca/`, `tlsca/` (and `ica/` with an intermediate CA), the verifying
/// `msp/`, and a folder per node or user with its local `msp/` and `tls/`.
///
/// Names and files are cryptogen's (`ca.<domain>-cert.pem`, `priv_sk`, `<CN>-cert.pem`, `config.yaml`,
/// `tls/ca.crt`, `server.crt`/`server.key` or `client.crt`/`client.key`); certificates come from the MSP module's
/// issuing API, which reproduces cryptogen's names, extensions and validity.
struct OrganizationWriter {
    /// The organisation's folder (`…/peerOrganizations/<domain>`).
    let directory: URL
    let domain: String
    let mspID: String
    let nodeOUs: Bool
    /// The root CA `ca.<domain>`.
    let rootCA: CertificateAuthority
    /// The intermediate CA `ica.<domain>`, when the profile asks for one.
    let intermediateCA: CertificateAuthority?
    /// The TLS CA `tlsca.<domain>`.
    let tlsCA: CertificateAuthority

    /// The CA that issues enrollment certificates: the intermediate when there is one.
    var signingCA: CertificateAuthority { self.intermediateCA ?? self.rootCA }

    /// One written identity: its certificates and keys and where they are.
    struct Member {
        var commonName: String
        var signingCertificate: Certificate
        var tlsCertificate: Certificate
        /// The identity's folder (`peers/peer0.<domain>`, `users/Admin@<domain>`).
        var directory: URL
        var tlsPrefix: String
    }

    init(directory: URL, domain: String, mspID: String, nodeOUs: Bool, intermediate: Bool) throws(NetGenError) {
        self.directory = directory
        self.domain = domain
        self.mspID = mspID
        self.nodeOUs = nodeOUs
        do {
            self.rootCA = try CertificateAuthority.root(
                subject: .cryptogen(commonName: "ca.\(domain)", organization: domain)
            )
            self.intermediateCA =
                intermediate
                ? try self.rootCA.issueIntermediate(
                    subject: .cryptogen(commonName: "ica.\(domain)", organization: domain)
                )
                : nil
            self.tlsCA = try CertificateAuthority.root(
                subject: .cryptogen(commonName: "tlsca.\(domain)", organization: domain)
            )
        } catch {
            throw NetGenError(.crypto, "could not create the CAs of \(domain)", cause: error)
        }
    }

    /// `ca/`, `tlsca/`, `ica/` and the organisation's verifying `msp/` (with `admincerts` when NodeOUs are off, as
    /// cryptogen does).
    func writeOrganization(admin: Certificate) throws(NetGenError) {
        try FileWriter.write(
            self.rootCA.certificate.pem,
            to: self.directory.appendingPathComponent("ca/ca.\(self.domain)-cert.pem")
        )
        try FileWriter.write(
            self.rootCA.privateKey.pkcs8PEM,
            to: self.directory.appendingPathComponent("ca/priv_sk"),
            secret: true
        )
        if let intermediate = self.intermediateCA {
            try FileWriter.write(
                intermediate.certificate.pem,
                to: self.directory.appendingPathComponent("ica/ica.\(self.domain)-cert.pem")
            )
            try FileWriter.write(
                intermediate.privateKey.pkcs8PEM,
                to: self.directory.appendingPathComponent("ica/priv_sk"),
                secret: true
            )
        }
        try FileWriter.write(
            self.tlsCA.certificate.pem,
            to: self.directory.appendingPathComponent("tlsca/tlsca.\(self.domain)-cert.pem")
        )
        try FileWriter.write(
            self.tlsCA.privateKey.pkcs8PEM,
            to: self.directory.appendingPathComponent("tlsca/priv_sk"),
            secret: true
        )
        try self.writeMSPFolder(self.directory.appendingPathComponent("msp"), signer: nil, admin: admin)
    }

    /// Enrolls `commonName` with NodeOU `ou` and writes its folder `<group>/<commonName>/{msp,tls}`.
    ///
    /// - Parameters:
    ///   - hostNames: extra DNS names or IP addresses for the TLS certificate; nil for a user, whose TLS
    ///     certificate carries no SAN (as cryptogen's).
    ///   - shortName: the node's host name in the domain (`peer0`), put in the SANs after the CN.
    func enroll(
        _ commonName: String,
        ou: String,
        group: String,
        shortName: String?,
        hostNames: [String]?,
        admin: Certificate?
    ) throws(NetGenError) -> (member: Member, signingKey: PrivateKey) {
        let folder = self.directory.appendingPathComponent(group).appendingPathComponent(commonName)
        let signing: (certificate: Certificate, privateKey: PrivateKey)
        let tls: (certificate: Certificate, privateKey: PrivateKey)
        do {
            signing = try self.signingCA.issueIdentity(
                subject: .cryptogen(commonName: commonName, organizationalUnits: self.nodeOUs ? [ou] : [])
            )
            var dnsNames: [String] = []
            var ipAddresses: [String] = []
            if let hostNames {
                dnsNames = [commonName] + (shortName.map { [$0] } ?? []) + ["localhost"]
                ipAddresses = ["127.0.0.1"]
                for host in hostNames {
                    if ProfileSyntax.isIPAddress(host) {
                        if !ipAddresses.contains(host) { ipAddresses.append(host) }
                    } else if !dnsNames.contains(host) {
                        dnsNames.append(host)
                    }
                }
            }
            tls = try self.tlsCA.issueIdentity(
                subject: .cryptogen(commonName: commonName),
                profile: .tls(dnsNames: dnsNames, ipAddresses: ipAddresses)
            )
        } catch {
            throw NetGenError(.crypto, "could not issue the certificates of \(commonName)", cause: error)
        }
        try self.writeMSPFolder(
            folder.appendingPathComponent("msp"),
            signer: (signing.certificate, signing.privateKey),
            admin: admin ?? signing.certificate
        )
        let prefix = hostNames == nil ? "client" : "server"
        try FileWriter.write(self.tlsCA.certificate.pem, to: folder.appendingPathComponent("tls/ca.crt"))
        try FileWriter.write(tls.certificate.pem, to: folder.appendingPathComponent("tls/\(prefix).crt"))
        try FileWriter.write(
            tls.privateKey.pkcs8PEM,
            to: folder.appendingPathComponent("tls/\(prefix).key"),
            secret: true
        )
        let member = Member(
            commonName: commonName,
            signingCertificate: signing.certificate,
            tlsCertificate: tls.certificate,
            directory: folder,
            tlsPrefix: prefix
        )
        return (member, signing.privateKey)
    }

    /// An MSP folder in cryptogen's layout (what `MSPFolder.load` reads): `cacerts`, `intermediatecerts`,
    /// `tlscacerts`, `config.yaml` (NodeOUs pinned to the CA that issues identities), `admincerts` without NodeOUs,
    /// and `signcerts` + `keystore/priv_sk` for a local MSP. Certificates are named `<CN>-cert.pem`.
    private func writeMSPFolder(
        _ folder: URL,
        signer: (certificate: Certificate, key: PrivateKey)?,
        admin: Certificate
    ) throws(NetGenError) {
        func write(_ certificate: Certificate, _ subfolder: String) throws(NetGenError) {
            try FileWriter.write(
                certificate.pem,
                to: folder.appendingPathComponent("\(subfolder)/\(certificate.commonName)-cert.pem")
            )
        }
        try write(self.rootCA.certificate, "cacerts")
        if let intermediate = self.intermediateCA { try write(intermediate.certificate, "intermediatecerts") }
        if !self.nodeOUs { try write(admin, "admincerts") }
        try write(self.tlsCA.certificate, "tlscacerts")
        if let signer {
            try write(signer.certificate, "signcerts")
            try FileWriter.write(
                signer.key.pkcs8PEM,
                to: folder.appendingPathComponent("keystore/priv_sk"),
                secret: true
            )
        }
        if self.nodeOUs {
            let certifier =
                self.intermediateCA.map { "intermediatecerts/\($0.certificate.commonName)-cert.pem" }
                ?? "cacerts/\(self.rootCA.certificate.commonName)-cert.pem"
            try FileWriter.write(
                Data(Self.nodeOUConfiguration(certificate: certifier).utf8),
                to: folder.appendingPathComponent("config.yaml")
            )
        }
    }

    /// The `config.yaml` cryptogen writes with NodeOUs: the four OUs, each pinned to `certificate` (a path
    /// relative to the MSP folder).
    static func nodeOUConfiguration(certificate: String) -> String {
        var text = "NodeOUs:\n    Enable: true\n"
        for (key, ou) in [
            ("ClientOUIdentifier", "client"), ("PeerOUIdentifier", "peer"), ("AdminOUIdentifier", "admin"),
            ("OrdererOUIdentifier", "orderer"),
        ] {
            text += "    \(key):\n        Certificate: \(certificate)\n        OrganizationalUnitIdentifier: \(ou)\n"
        }
        return text
    }
}
