package import Foundation
package import Wire
import Yams

/// A Fabric MSP folder on disk in cryptogen's layout: `cacerts`, `intermediatecerts`, `admincerts`, `signcerts`,
/// `keystore`, `tlscacerts`, `tlsintermediatecerts`, `crls` and `config.yaml`.
package enum MSPFolder {
    /// What to write into an MSP folder.
    package struct Contents: Sendable {
        /// Root CA certificates (`cacerts`).
        package var caCertificates: [Certificate]
        /// Intermediate CA certificates (`intermediatecerts`).
        package var intermediateCertificates: [Certificate] = []
        /// Explicit admin certificates (`admincerts`; cryptogen leaves it empty with NodeOUs).
        package var adminCertificates: [Certificate] = []
        /// TLS root CA certificates (`tlscacerts`).
        package var tlsCACertificates: [Certificate] = []
        /// TLS intermediate CA certificates (`tlsintermediatecerts`).
        package var tlsIntermediateCertificates: [Certificate] = []
        /// CRLs (`crls`).
        package var revocationLists: [CertificateRevocationList] = []
        /// The signing certificate (`signcerts`) of a local MSP.
        package var signingCertificate: Certificate?
        /// The signing key (`keystore/priv_sk`, PKCS#8 PEM).
        package var privateKey: PrivateKey?
        /// Whether to write cryptogen's NodeOUs `config.yaml` (OUs client/peer/admin/orderer pinned to the first CA).
        package var nodeOUs: Bool = true

        /// Creates folder contents.
        package init(
            caCertificates: [Certificate],
            tlsCACertificates: [Certificate] = [],
            signingCertificate: Certificate? = nil,
            privateKey: PrivateKey? = nil,
            nodeOUs: Bool = true
        ) {
            self.caCertificates = caCertificates
            self.tlsCACertificates = tlsCACertificates
            self.signingCertificate = signingCertificate
            self.privateKey = privateKey
            self.nodeOUs = nodeOUs
        }
    }

    /// Reads an MSP folder into an `msp.FabricMSPConfig` named `mspID`, as Fabric's configbuilder does, with the
    /// crypto config set to SHA2/SHA256.
    ///
    /// With `includeSigningIdentity`, `signcerts` must hold the signing certificate and `keystore` a PEM private
    /// key whose public key matches it (any file name, as cryptogen's `priv_sk`); the key's PKCS#8 PEM goes into
    /// `signing_identity.private_signer.key_material` and its SKI (hex) into `key_identifier`.
    package static func load(
        from directory: URL,
        mspID: String,
        includeSigningIdentity: Bool = false
    ) throws(MSPError) -> Msp_FabricMSPConfig {
        var config = Msp_FabricMSPConfig()
        config.name = mspID
        config.rootCerts = try self.pemFiles(directory, "cacerts")
        guard !config.rootCerts.isEmpty else {
            throw MSPError(
                .io,
                "could not load a valid ca certificate from directory \(directory.appendingPathComponent("cacerts").path)"
            )
        }
        config.intermediateCerts = try self.pemFiles(directory, "intermediatecerts")
        config.admins = try self.pemFiles(directory, "admincerts")
        config.tlsRootCerts = try self.pemFiles(directory, "tlscacerts")
        config.tlsIntermediateCerts = try self.pemFiles(directory, "tlsintermediatecerts")
        config.revocationList = try self.pemFiles(directory, "crls")
        var crypto = Msp_FabricCryptoConfig()
        crypto.signatureHashFamily = "SHA2"
        crypto.identityIdentifierHashFunction = "SHA256"
        config.cryptoConfig = crypto

        let configURL = directory.appendingPathComponent("config.yaml")
        if FileManager.default.fileExists(atPath: configURL.path) {
            try self.apply(configFile: configURL, in: directory, to: &config)
        }
        if includeSigningIdentity {
            config.signingIdentity = try self.signingIdentity(directory)
        }
        return config
    }

    /// Writes `contents` into `directory` (created if needed) in cryptogen's layout and file names
    /// (`<CN>-cert.pem`, `keystore/priv_sk`, `config.yaml`).
    package static func write(_ contents: Contents, to directory: URL) throws(MSPError) {
        func write(_ data: Data, _ path: String) throws(MSPError) {
            let url = directory.appendingPathComponent(path)
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
        func fileName(_ certificate: Certificate) -> String { "\(certificate.commonName)-cert.pem" }
        for certificate in contents.caCertificates { try write(certificate.pem, "cacerts/\(fileName(certificate))") }
        for certificate in contents.intermediateCertificates {
            try write(certificate.pem, "intermediatecerts/\(fileName(certificate))")
        }
        for certificate in contents.adminCertificates {
            try write(certificate.pem, "admincerts/\(fileName(certificate))")
        }
        for certificate in contents.tlsCACertificates {
            try write(certificate.pem, "tlscacerts/\(fileName(certificate))")
        }
        for certificate in contents.tlsIntermediateCertificates {
            try write(certificate.pem, "tlsintermediatecerts/\(fileName(certificate))")
        }
        for (index, crl) in contents.revocationLists.enumerated() { try write(crl.pem, "crls/crl\(index).pem") }
        if let certificate = contents.signingCertificate {
            try write(certificate.pem, "signcerts/\(fileName(certificate))")
        }
        if let key = contents.privateKey { try write(key.pkcs8PEM, "keystore/priv_sk") }
        if contents.nodeOUs, let ca = contents.caCertificates.first {
            try write(
                Data(MSPFolderConfiguration.cryptogenYAML(caCertificatePath: "cacerts/\(fileName(ca))").utf8),
                "config.yaml"
            )
        }
    }

    // MARK: - Reading

    /// The PEM files of `directory/name`, sorted by file name; a missing folder is empty; a file without a PEM
    /// block is an error (Fabric's getPemMaterialFromDir).
    private static func pemFiles(_ directory: URL, _ name: String) throws(MSPError) -> [Data] {
        let folder = directory.appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            return []
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        } catch {
            throw MSPError(.io, "could not read directory \(folder.path)", cause: error)
        }
        var files: [Data] = []
        for fileName in names {
            let url = folder.appendingPathComponent(fileName)
            var isSubdirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isSubdirectory),
                !isSubdirectory.boolValue
            else { continue }
            let data = try self.read(url)
            guard PEM.decode(data) != nil else { throw MSPError(.io, "no pem content for file \(url.path)") }
            files.append(data)
        }
        return files
    }

    private static func read(_ url: URL) throws(MSPError) -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw MSPError(.io, "could not read \(url.path)", cause: error)
        }
    }

    private static func apply(configFile: URL, in directory: URL, to config: inout Msp_FabricMSPConfig) throws(MSPError)
    {
        let text = String(decoding: try self.read(configFile), as: UTF8.self)
        let parsed: MSPFolderConfiguration
        do {
            parsed = try YAMLDecoder().decode(MSPFolderConfiguration.self, from: text)
        } catch {
            throw MSPError(
                .badConfiguration,
                "failed unmarshalling configuration file \(configFile.path)",
                cause: error
            )
        }
        func identifier(_ ou: MSPFolderConfiguration.OUIdentifier) throws(MSPError) -> Msp_FabricOUIdentifier {
            var result = Msp_FabricOUIdentifier()
            result.organizationalUnitIdentifier = ou.organizationalUnitIdentifier ?? ""
            if let path = ou.certificate, !path.isEmpty {
                result.certificate = try self.read(directory.appendingPathComponent(path))
            }
            return result
        }
        for ou in parsed.organizationalUnitIdentifiers ?? [] {
            config.organizationalUnitIdentifiers.append(try identifier(ou))
        }
        if let nodeOUs = parsed.nodeOUs {
            var result = Msp_FabricNodeOUs()
            result.enable = nodeOUs.enable ?? false
            if let ou = nodeOUs.clientOUIdentifier { result.clientOuIdentifier = try identifier(ou) }
            if let ou = nodeOUs.peerOUIdentifier { result.peerOuIdentifier = try identifier(ou) }
            if let ou = nodeOUs.adminOUIdentifier { result.adminOuIdentifier = try identifier(ou) }
            if let ou = nodeOUs.ordererOUIdentifier { result.ordererOuIdentifier = try identifier(ou) }
            config.fabricNodeOus = result
        }
    }

    private static func signingIdentity(_ directory: URL) throws(MSPError) -> Msp_SigningIdentityInfo {
        guard let signingPEM = try self.pemFiles(directory, "signcerts").first else {
            throw MSPError(
                .io,
                "could not load a valid signer certificate from directory \(directory.appendingPathComponent("signcerts").path)"
            )
        }
        let certificate = try Certificate(pemEncoded: signingPEM)
        let keystore = directory.appendingPathComponent("keystore")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: keystore.path).sorted()) ?? []
        for name in names {
            guard let data = try? Data(contentsOf: keystore.appendingPathComponent(name)),
                let key = try? PrivateKey(pemEncoded: data),
                key.publicKey.matches(certificate.publicKey)
            else { continue }
            var info = Msp_SigningIdentityInfo()
            info.publicSigner = signingPEM
            var keyInfo = Msp_KeyInfo()
            keyInfo.keyIdentifier = certificate.publicKey.subjectKeyIdentifier.hexString
            keyInfo.keyMaterial = key.pkcs8PEM
            info.privateSigner = keyInfo
            return info
        }
        throw MSPError(.io, "no private key in \(keystore.path) matches the signing certificate \(certificate)")
    }
}
