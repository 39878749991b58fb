import Foundation
import SwiftProtobuf
import Testing
import Wire

@testable import MSP

/// Writing and reading MSP folders in cryptogen's layout (Fabric's configbuilder), and the issuing API's output.
@Suite("MSP folders and issuing")
struct MSPFolderTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("msp-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func aWrittenLocalMSPLoadsBack() throws {
        let directory = try self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Fixtures.org1.writeMSPFolder(to: directory, signer: Fixtures.peer)
        let files = Set(try FileManager.default.subpathsOfDirectory(atPath: directory.path))
        #expect(
            files.isSuperset(of: [
                "cacerts/ca.org1.example.com-cert.pem", "tlscacerts/tlsca.org1.example.com-cert.pem",
                "signcerts/peer0.org1.example.com-cert.pem", "keystore/priv_sk", "config.yaml",
            ])
        )
        let yaml = try String(contentsOf: directory.appendingPathComponent("config.yaml"), encoding: .utf8)
        #expect(yaml.contains("Certificate: cacerts/ca.org1.example.com-cert.pem"))
        #expect(yaml.contains("OrganizationalUnitIdentifier: orderer"))

        let config = try MSPFolder.load(from: directory, mspID: "Org1MSP", includeSigningIdentity: true)
        #expect(config.name == "Org1MSP")
        #expect(config.cryptoConfig.signatureHashFamily == "SHA2")
        #expect(config.cryptoConfig.identityIdentifierHashFunction == "SHA256")
        #expect(
            config.signingIdentity.privateSigner.keyIdentifier
                == Fixtures.peer.certificate.publicKey.subjectKeyIdentifier.hexString
        )
        let msp = try X509MSP(config: config, version: .v3_0)
        let signer = try #require(msp.signingIdentity)
        let signature = try signer.sign(Data("hello".utf8))
        try Fixtures.org1MSP.deserializeIdentity(signer.serialized).verify(
            signature: signature,
            over: Data("hello".utf8)
        )
        #expect(
            try PrivateKey(pemEncoded: Data(contentsOf: directory.appendingPathComponent("keystore/priv_sk"))).publicKey
                .matches(Fixtures.peer.privateKey.publicKey)
        )
    }

    @Test func aVerifyingMSPFolderHasNoSigner() throws {
        let directory = try self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Fixtures.org2.writeMSPFolder(to: directory)
        let msp = try X509MSP(config: MSPFolder.load(from: directory, mspID: "Org2MSP"), version: .v3_0)
        #expect(msp.signingIdentity == nil)
        #expect(
            mspError { _ = try MSPFolder.load(from: directory, mspID: "Org2MSP", includeSigningIdentity: true) }?.code
                == .io
        )
    }

    @Test func everyFolderIsRead() throws {
        let directory = try self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let intermediate = ValidationTests.intermediate
        var contents = MSPFolder.Contents(caCertificates: [ValidationTests.root.certificate], nodeOUs: false)
        contents.intermediateCertificates = [intermediate.certificate]
        contents.adminCertificates = [ValidationTests.leafOfIntermediate.certificate]
        contents.tlsCACertificates = [Fixtures.org1.tlsCA.certificate]
        contents.revocationLists = [try intermediate.revocationList(revoking: [Data([0x01])])]
        try MSPFolder.write(contents, to: directory)
        // OU identifiers through config.yaml, pointing at the intermediate.
        let yaml = """
            OrganizationalUnitIdentifiers:
              - Certificate: intermediatecerts/ica.chain.example.com-cert.pem
                OrganizationalUnitIdentifier: peer
            """
        try Data(yaml.utf8).write(to: directory.appendingPathComponent("config.yaml"))
        let config = try MSPFolder.load(from: directory, mspID: "ChainMSP")
        #expect(config.intermediateCerts.count == 1)
        #expect(config.admins.count == 1)
        #expect(config.revocationList.count == 1)
        #expect(config.organizationalUnitIdentifiers.map(\.organizationalUnitIdentifier) == ["peer"])
        #expect(!config.hasFabricNodeOus)
        let msp = try X509MSP(config: config, version: .v1_4_3)
        try msp.deserializeIdentity(
            Fixtures.serialized(ValidationTests.leafOfIntermediate.certificate, mspID: "ChainMSP")
        ).validate()
    }

    @Test func badFoldersAreReported() throws {
        let directory = try self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(mspError { _ = try MSPFolder.load(from: directory, mspID: "X") }?.code == .io)
        try Fixtures.org1.writeMSPFolder(to: directory)
        try Data("not pem".utf8).write(to: directory.appendingPathComponent("cacerts/zz.pem"))
        #expect(mspError { _ = try MSPFolder.load(from: directory, mspID: "X") }?.code == .io)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("cacerts/zz.pem"))
        try Data("NodeOUs: [unclosed".utf8).write(to: directory.appendingPathComponent("config.yaml"))
        #expect(mspError { _ = try MSPFolder.load(from: directory, mspID: "X") }?.code == .badConfiguration)
    }

    @Test func aCryptogenTreeIsWrittenAndReadBack() throws {
        let directory = try self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Fixtures.org2.writeOrganization(to: directory)
        let node = directory.appendingPathComponent("peers/peer1.org2.example.com")
        let (signing, tls) = try Fixtures.org2.writeNode("peer1", ou: "peer", to: node)
        #expect(tls.certificate.hasSubjectAlternativeName)
        for path in ["ca/priv_sk", "tlsca/tlsca.org2.example.com-cert.pem", "msp/config.yaml"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(path).path), "\(path)")
        }
        for path in ["msp/keystore/priv_sk", "tls/ca.crt", "tls/server.crt", "tls/server.key"] {
            #expect(FileManager.default.fileExists(atPath: node.appendingPathComponent(path).path), "\(path)")
        }
        let reloaded = try OrganizationPKI.load(from: directory, domain: "org2.example.com", mspID: "Org2MSP")
        #expect(reloaded.ca.certificate == Fixtures.org2.ca.certificate)
        let more = try reloaded.enroll("peer9", ou: "peer")
        let local = try X509MSP(
            config: MSPFolder.load(
                from: node.appendingPathComponent("msp"),
                mspID: "Org2MSP",
                includeSigningIdentity: true
            ),
            version: .v3_0
        )
        #expect(local.signingIdentity?.identity.certificate == signing.certificate)
        try Fixtures.org2MSP.deserializeIdentity(Fixtures.serialized(more, mspID: "Org2MSP")).validate()
    }

    @Test func issuedCertificatesCarryWhatWasAskedFor() throws {
        let (tls, _) = try Fixtures.org1.tlsCA.issueIdentity(
            subject: .cryptogen(commonName: "peer0.org1.example.com"),
            profile: .tls(dnsNames: ["peer0.org1.example.com", "peer0", "localhost"])
        )
        #expect(tls.hasSubjectAlternativeName)
        #expect(!tls.isCA)
        #expect(tls.authorityKeyIdentifier == Fixtures.org1.tlsCA.certificate.subjectKeyIdentifier)
        var profile = CertificateProfile.signing(
            notBefore: Date(timeIntervalSince1970: 1_800_000_000),
            notAfter: Date(timeIntervalSince1970: 1_900_000_000)
        )
        profile.serialNumber = Data([0x01, 0x02, 0x03])
        let (leaf, _) = try Fixtures.org1.ca.issueIdentity(
            subject: DistinguishedName(commonName: "x", organization: ["O1"], organizationalUnit: ["a", "b"]),
            profile: profile
        )
        #expect(leaf.serialNumber == Data([0x01, 0x02, 0x03]))
        #expect(leaf.organizationalUnits == ["a", "b"])
        #expect(leaf.organizations == ["O1"])
        #expect(leaf.notBefore == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(leaf.notAfter == Date(timeIntervalSince1970: 1_900_000_000))
        // Years from 2050 are GeneralizedTime.
        let late = try Fixtures.org1.ca.issueIdentity(
            subject: .cryptogen(commonName: "late"),
            profile: .signing(notBefore: Date(), notAfter: Date(timeIntervalSince1970: 2_600_000_000))
        ).certificate
        #expect(late.notAfter == Date(timeIntervalSince1970: 2_600_000_000))
        #expect(try Certificate(pemEncoded: leaf.pem) == leaf)
    }

    @Test func keysRoundTripThroughPKCS8() throws {
        for kind in [PrivateKey.Kind.ecdsa(.p256), .ecdsa(.p384), .ed25519] {
            let key = try PrivateKey.generate(kind)
            let pem = key.pkcs8PEM
            #expect(String(decoding: pem, as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
            let again = try PrivateKey(pemEncoded: pem)
            #expect(again.publicKey.matches(key.publicKey))
            #expect(again.algorithm == key.algorithm)
        }
        #expect(mspError { _ = try PrivateKey(pemEncoded: Fixtures.peer.certificate.pem) }?.code == .malformedIdentity)
    }

    @Test func crlsListTheirSerials() throws {
        let (a, _) = try Fixtures.org1.ca.issueIdentity(subject: .cryptogen(commonName: "a"))
        let (b, _) = try Fixtures.org1.ca.issueIdentity(subject: .cryptogen(commonName: "b"))
        let crl = try Fixtures.org1.ca.revocationList(revoking: [a.serialNumber])
        #expect(crl.lists(a))
        #expect(!crl.lists(b))
        #expect(crl.isSigned(by: Fixtures.org1.ca.certificate))
        #expect(!crl.isSigned(by: Fixtures.org2.ca.certificate))
        #expect(crl.authorityKeyIdentifier == Fixtures.org1.ca.certificate.subjectKeyIdentifier)
        #expect(try CertificateRevocationList(pemOrDER: crl.pem).der == crl.der)
    }
}
