import Foundation
import SwiftProtobuf
import Testing
import Wire

@testable import MSP

/// Fabric's msp_test.go TestMSPSetupBad, mspimplsetup_test.go (TestCAValidation, TestMalformedCertsChainSetup,
/// TestTLSCAValidation), nodeous_test.go setup cases and TestIdentityExpired (signing identity).
@Suite("MSP setup")
struct MSPSetupTests {
    static let root = try! CertificateAuthority.root(
        subject: .cryptogen(commonName: "ca.setup.example.com", organization: "setup")
    )
    static let otherRoot = try! CertificateAuthority.root(subject: .cryptogen(commonName: "ca.other.example.com"))

    @Test func aValidConfigurationSetsUp() throws {
        let msp = try X509MSP(config: Fixtures.org1.mspConfig(signer: Fixtures.peer), version: .v3_0)
        #expect(msp.name == "Org1MSP")
        #expect(msp.nodeOUsEnforced)
        #expect(msp.tlsRootCertificates == [Fixtures.org1.tlsCA.certificate.der])
        #expect(msp.signingIdentity?.identity.commonName == "peer0.org1.example.com")
    }

    @Test func noRootCertificatesIsRejected() {
        let error = mspError { _ = try X509MSP(config: Fixtures.config(roots: []), version: .v3_0) }
        #expect(error?.code == .badConfiguration)
        #expect(error?.message.contains("expected at least one CA certificate") == true)
    }

    @Test func garbageRootIsRejected() {
        var config = Fixtures.config(roots: [])
        config.rootCerts = [Data("not a certificate".utf8)]
        let error = mspError { _ = try X509MSP(config: config, version: .v1_0) }
        #expect(error?.code == .badConfiguration)
    }

    @Test func aRootThatIsNotACAIsRejected() throws {
        let leaf = Fixtures.peer.certificate
        let error = mspError { _ = try X509MSP(config: Fixtures.config(roots: [leaf]), version: .v1_0) }
        #expect(error?.code == .badConfiguration)
        #expect(error?.message.contains("did not have the CA attribute") == true)
    }

    @Test func aCAWithoutSubjectKeyIdentifierIsRejected() throws {
        var profile = CertificateProfile.certificateAuthority()
        profile.subjectKeyIdentifier = false
        let noSKI = try CertificateAuthority.root(subject: .cryptogen(commonName: "ca.noski"), profile: profile)
        let error = mspError { _ = try X509MSP(config: Fixtures.config(roots: [noSKI.certificate]), version: .v1_0) }
        #expect(error?.code == .badConfiguration)
        #expect(error?.message.contains("Subject Key Identifier") == true)
    }

    @Test func anIntermediateThatDoesNotChainIsRejected() throws {
        let intermediate = try Self.otherRoot.issueIntermediate(subject: .cryptogen(commonName: "ica.other"))
        let config = Fixtures.config(roots: [Self.root.certificate], intermediates: [intermediate.certificate])
        let error = mspError { _ = try X509MSP(config: config, version: .v1_0) }
        #expect(error?.code == .badConfiguration)
        #expect(error?.message.contains("could not obtain certification chain") == true)
    }

    @Test func anIntermediateThatIsNotACAIsRejected() throws {
        let (leaf, _) = try Self.root.issueIdentity(subject: .cryptogen(commonName: "leaf.setup"))
        let config = Fixtures.config(roots: [Self.root.certificate], intermediates: [leaf])
        let error = mspError { _ = try X509MSP(config: config, version: .v1_0) }
        #expect(error?.code == .badConfiguration)
    }

    @Test func anExpiredRootIsRejectedOnlyIfItWasNeverValid() throws {
        // Verification time is NotBefore+1s: an old, expired root still validates.
        let profile = CertificateProfile.certificateAuthority(
            notBefore: Date(timeIntervalSince1970: 1_000_000_000),
            notAfter: Date(timeIntervalSince1970: 1_100_000_000)
        )
        let old = try CertificateAuthority.root(subject: .cryptogen(commonName: "ca.old"), profile: profile)
        _ = try X509MSP(config: Fixtures.config(roots: [old.certificate]), version: .v1_0)
    }

    @Test func tlsRootThatIsNotACAIsRejected() throws {
        var config = Fixtures.config(roots: [Self.root.certificate])
        config.tlsRootCerts = [Fixtures.peer.certificate.pem]
        let error = mspError { _ = try X509MSP(config: config, version: .v1_4_3) }
        #expect(error?.code == .badConfiguration)
        #expect(error?.message.contains("TLS CA Certificate did not have the CA attribute") == true)
    }

    @Test func tlsIntermediateMustChainToATLSRoot() throws {
        let intermediate = try Self.otherRoot.issueIntermediate(subject: .cryptogen(commonName: "tlsica.other"))
        var config = Fixtures.config(roots: [Self.root.certificate], admins: [])
        config.tlsRootCerts = [Self.root.certificate.pem]
        config.tlsIntermediateCerts = [intermediate.certificate.pem]
        let error = mspError { _ = try X509MSP(config: config, version: .v1_0) }
        #expect(error?.code == .badConfiguration)
        config.tlsRootCerts = [Self.otherRoot.certificate.pem]
        let msp = try X509MSP(config: config, version: .v1_0)
        #expect(msp.tlsIntermediateCertificates == [intermediate.certificate.der])
    }

    @Test func anExpiredSigningIdentityIsRejected() throws {
        let profile = CertificateProfile.signing(
            notBefore: Date(timeIntervalSince1970: 1_000_000_000),
            notAfter: Date(timeIntervalSince1970: 1_100_000_000)
        )
        let oldCA = try CertificateAuthority.root(
            subject: .cryptogen(commonName: "ca.old"),
            profile: .certificateAuthority(
                notBefore: Date(timeIntervalSince1970: 900_000_000),
                notAfter: Date(timeIntervalSince1970: 2_000_000_000)
            )
        )
        let old = OrganizationPKI(domain: "old.example.com", mspID: "OldMSP", ca: oldCA, tlsCA: oldCA)
        let expired = try old.enroll("expired", ou: "peer", profile: profile)
        let error = mspError { _ = try X509MSP(config: old.mspConfig(signer: expired), version: .v3_0) }
        #expect(error?.code == .expired)
        #expect(error?.message.contains("signing identity expired") == true)
    }

    @Test func aSigningKeyThatDoesNotMatchIsRejected() throws {
        var config = Fixtures.org1.mspConfig(signer: Fixtures.peer)
        config.signingIdentity.privateSigner.keyMaterial = Fixtures.client.privateKey.pkcs8PEM
        let error = mspError { _ = try X509MSP(config: config, version: .v3_0) }
        #expect(error?.code == .badConfiguration)
        config.signingIdentity.privateSigner.keyMaterial = Data()
        #expect(mspError { _ = try X509MSP(config: config, version: .v3_0) }?.code == .badConfiguration)
    }

    @Test func unknownHashFunctionsAreRejected() throws {
        var config = Fixtures.org1.mspConfig()
        config.cryptoConfig.signatureHashFamily = "MD5"
        #expect(mspError { _ = try X509MSP(config: config, version: .v3_0) }?.code == .badConfiguration)
        config.cryptoConfig.signatureHashFamily = ""
        config.cryptoConfig.identityIdentifierHashFunction = ""
        let msp = try X509MSP(config: config, version: .v3_0)
        let identity = try msp.deserializeX509Identity(Fixtures.serialized(Fixtures.peer))
        #expect(identity.id == Fixtures.peer.certificate.der.sha256Hex)
    }

    // MARK: - Admins and NodeOUs (nodeous_test.go)

    @Test func v142WithoutAdminsOrAdminOUIsRejected() throws {
        var config = Fixtures.org1.mspConfig()
        config.fabricNodeOus.clearAdminOuIdentifier()
        let error = mspError { _ = try X509MSP(config: config, version: .v1_4_3) }
        #expect(error?.code == .badConfiguration)
        #expect(
            error?.message.contains("administrators must be declared when no admin ou classification is set") == true
        )
        // The same configuration is fine before v1.4.2.
        _ = try X509MSP(config: config, version: .v1_3)
        // And with NodeOUs off and no admins at all.
        let bare = Fixtures.config(roots: [Fixtures.org1.ca.certificate])
        #expect(mspError { _ = try X509MSP(config: bare, version: .v3_0) }?.code == .badConfiguration)
    }

    @Test func v142AdminMustCarryClientOrAdminOU() throws {
        var config = Fixtures.org1.mspConfig(admins: [Fixtures.peer.certificate])
        let error = mspError { _ = try X509MSP(config: config, version: .v1_4_3) }
        #expect(error?.code == .badConfiguration)
        #expect(error?.message.contains("admin 0") == true)
        config.admins = [Fixtures.client.certificate.pem, Fixtures.admin.certificate.pem]
        _ = try X509MSP(config: config, version: .v1_4_3)
    }

    @Test func v11AdminMustBeAClient() throws {
        // TestInvalidAdminNodeOU: with v1.1 NodeOUs an admin carrying the peer OU is rejected.
        var config = Fixtures.org1.mspConfig(admins: [Fixtures.peer.certificate])
        #expect(mspError { _ = try X509MSP(config: config, version: .v1_1) }?.code == .badConfiguration)
        config.admins = [Fixtures.client.certificate.pem]
        _ = try X509MSP(config: config, version: .v1_1)
    }

    @Test func v11NodeOUsNeedClientAndPeer() throws {
        var config = Fixtures.org1.mspConfig(admins: [Fixtures.client.certificate])
        config.fabricNodeOus.clearPeerOuIdentifier()
        let error = mspError { _ = try X509MSP(config: config, version: .v1_1) }
        #expect(error?.message.contains("PeerOU must be different from nil") == true)
        // v1.4.2 rules accept any subset.
        _ = try X509MSP(config: config, version: .v1_4_3)
    }

    @Test func v10AdminsMustValidate() throws {
        let config = Fixtures.config(roots: [Fixtures.org1.ca.certificate], admins: [Fixtures.org2Peer.certificate])
        #expect(mspError { _ = try X509MSP(config: config, version: .v1_0) }?.code == .badConfiguration)
    }

    @Test func nodeOUsWithoutAnyOUTurnEnforcementOff() throws {
        var config = Fixtures.org1.mspConfig(admins: [Fixtures.admin.certificate])
        config.fabricNodeOus = Msp_FabricNodeOUs()
        config.fabricNodeOus.enable = true
        let msp = try X509MSP(config: config, version: .v1_4_3)
        #expect(!msp.nodeOUsEnforced)
    }

    @Test func aNodeOUCertificateOutsideTheMSPIsRejected() throws {
        var config = Fixtures.org1.mspConfig()
        config.fabricNodeOus.peerOuIdentifier = Fixtures.ouIdentifier("peer", Fixtures.org2.ca.certificate)
        let error = mspError { _ = try X509MSP(config: config, version: .v3_0) }
        #expect(error?.code == .badConfiguration)
        #expect(error?.message.contains("not in root or intermediate certs") == true)
    }

    @Test func mspConfigOfAnotherTypeIsRejected() throws {
        var wrapped = Msp_MSPConfig()
        wrapped.type = 1
        #expect(mspError { _ = try X509MSP(mspConfig: wrapped, version: .v3_0) }?.code == .badConfiguration)
        wrapped.type = 0
        wrapped.config = try Fixtures.org1.mspConfig().serializedBytes()
        #expect(try X509MSP(mspConfig: wrapped, version: .v3_0).name == "Org1MSP")
    }
}

extension Data {
    var sha256Hex: String { Digest.sha256(self).hexString }
}
