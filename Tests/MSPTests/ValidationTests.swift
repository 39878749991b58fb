import Foundation
import SwiftProtobuf
import Testing
import Wire

@testable import MSP

/// msp_test.go TestValidateCAIdentity, TestValidateCANameConstraintsMitigation, TestCertificationIdentifierComputation,
/// TestIdentityExpired; cert_test.go TestCertExpiration; mspwithintermediatecas_test.go; revocation_test.go;
/// nodeous_test.go TestValidMSPWithNodeOU; identities_test.go TestIdentityValidation.
@Suite("Identity validation")
struct ValidationTests {
    // A three-level PKI: root → intermediate → leaves, and a leaf issued by the root directly.
    static let root = try! CertificateAuthority.root(
        subject: .cryptogen(commonName: "ca.chain.example.com", organization: "chain")
    )
    static let intermediate = try! root.issueIntermediate(
        subject: .cryptogen(commonName: "ica.chain.example.com", organization: "chain")
    )
    static let leafOfIntermediate = try! OrganizationPKI.Enrollment(
        intermediate.issueIdentity(
            subject: .cryptogen(commonName: "leaf.chain.example.com", organizationalUnits: ["peer"])
        )
    )
    static let leafOfRoot = try! OrganizationPKI.Enrollment(
        root.issueIdentity(subject: .cryptogen(commonName: "direct.chain.example.com", organizationalUnits: ["peer"]))
    )
    static let chainMSP = try! X509MSP(
        config: Fixtures.config(name: "ChainMSP", roots: [root.certificate], intermediates: [intermediate.certificate]),
        version: .v1_0
    )

    private func identity(_ msp: X509MSP, _ certificate: Certificate) throws -> X509Identity {
        try msp.deserializeX509Identity(Fixtures.serialized(certificate, mspID: msp.name))
    }

    @Test func aCACertificateIsNotAValidIdentity() throws {
        for ca in [Fixtures.org1.ca.certificate] {
            let identity = try self.identity(Fixtures.org1MSP, ca)
            let error = mspError { try identity.validate() }
            #expect(error?.code == .invalidIdentity)
            #expect(error?.message.contains("Certificate Authority equals true") == true)
            #expect(identity.organizationalUnits.isEmpty)
        }
    }

    @Test func validationIgnoresExpiry() throws {
        let oldCA = try CertificateAuthority.root(
            subject: .cryptogen(commonName: "ca.expired.example.com"),
            profile: .certificateAuthority(
                notBefore: Date(timeIntervalSince1970: 900_000_000),
                notAfter: Date(timeIntervalSince1970: 1_300_000_000)
            )
        )
        let (leaf, _) = try oldCA.issueIdentity(
            subject: .cryptogen(commonName: "old.expired.example.com"),
            profile: .signing(
                notBefore: Date(timeIntervalSince1970: 1_000_000_000),
                notAfter: Date(timeIntervalSince1970: 1_100_000_000)
            )
        )
        let msp = try X509MSP(config: Fixtures.config(name: "OldMSP", roots: [oldCA.certificate]), version: .v1_0)
        let identity = try self.identity(msp, leaf)
        #expect(identity.expiresAt! < Date())
        try identity.validate()
    }

    @Test func aLeafNotYetValidForItsCAIsInvalid() throws {
        // The leaf's NotBefore+1s lies before the CA's NotBefore, so the chain does not verify at that time.
        let (leaf, _) = try Fixtures.org1.ca.issueIdentity(
            subject: .cryptogen(commonName: "early.org1.example.com", organizationalUnits: ["peer"]),
            profile: .signing(
                notBefore: Date(timeIntervalSince1970: 1_000_000_000),
                notAfter: Date().addingTimeInterval(3600)
            )
        )
        #expect(mspError { _ = try self.identity(Fixtures.org1MSP, leaf) }?.code == .invalidIdentity)
    }

    // MARK: - Name constraints mitigation

    static let constrained = try! CertificateAuthority.root(
        subject: .cryptogen(commonName: "ca.constrained.example.com"),
        profile: .certificateAuthority(permittedDNSDomains: ["example.com"])
    )

    @Test(arguments: [
        ("peer0.constrained.example.com", false, false),  // hostname CN, no SAN: mitigation rejects it
        ("peer0.constrained.example.com", true, true),  // with a SAN: fine
        ("User1@constrained.example.com", false, true),  // CN is not a hostname: fine
    ])
    func nameConstraintsMitigation(commonName: String, withSAN: Bool, valid: Bool) throws {
        let msp = try X509MSP(
            config: Fixtures.config(name: "NC", roots: [Self.constrained.certificate]),
            version: .v1_0
        )
        var profile = CertificateProfile.signing()
        if withSAN { profile.dnsNames = [commonName] }
        let (leaf, _) = try Self.constrained.issueIdentity(
            subject: .cryptogen(commonName: commonName),
            profile: profile
        )
        let error = mspError { try self.identity(msp, leaf).validate() }
        if valid {
            #expect(error == nil)
        } else {
            #expect(error?.code == .invalidIdentity)
            #expect(error?.message.contains("name constraints") == true)
        }
    }

    @Test func hostnameRules() {
        #expect(X509MSPCore.isHostname("peer0.org1.example.com"))
        #expect(X509MSPCore.isHostname("*.example.com"))
        #expect(X509MSPCore.isHostname("under_score:7051"))
        #expect(!X509MSPCore.isHostname("Admin@org1.example.com"))
        #expect(!X509MSPCore.isHostname("-bad.example.com"))
        #expect(!X509MSPCore.isHostname("a..b"))
        #expect(!X509MSPCore.isHostname(""))
    }

    // MARK: - Intermediate CAs (mspwithintermediatecas_test.go)

    @Test func aLeafOfTheIntermediateIsValid() throws {
        let identity = try self.identity(Self.chainMSP, Self.leafOfIntermediate.certificate)
        try identity.validate()
        // Certifiers identifier = SHA-256(intermediate DER ‖ root DER) (TestCertificationIdentifierComputation).
        let expected = Digest.sha256(Self.intermediate.certificate.der + Self.root.certificate.der)
        #expect(
            identity.organizationalUnits == [
                OrganizationalUnit(name: "peer", certifiersIdentifier: expected, mspID: "ChainMSP")
            ]
        )
    }

    @Test func aLeafOfAnInternalNodeIsInvalid() throws {
        let identity = try self.identity(Self.chainMSP, Self.leafOfRoot.certificate)
        let error = mspError { try identity.validate() }
        #expect(error?.code == .invalidIdentity)
        #expect(error?.message.contains("parent certificate should be a leaf of the certification tree") == true)
    }

    @Test func anIntermediateCAIsNotAValidIdentity() throws {
        let identity = try self.identity(Self.chainMSP, Self.intermediate.certificate)
        #expect(mspError { try identity.validate() }?.code == .invalidIdentity)
    }

    @Test func anExternalIntermediateCanActAsRoot() throws {
        // TestMSPWithExternalIntermediateCAs: the intermediate is configured as a root; its leaves validate.
        let msp = try X509MSP(
            config: Fixtures.config(name: "Ext", roots: [Self.intermediate.certificate]),
            version: .v1_0
        )
        try self.identity(msp, Self.leafOfIntermediate.certificate).validate()
        #expect(mspError { _ = try self.identity(msp, Self.leafOfRoot.certificate) }?.code == .invalidIdentity)
    }

    @Test func twoIssuersForOneLinkAreRejected() throws {
        // A second intermediate with the same name and key (re-issued) gives Go two chains; Fabric refuses.
        let reissued = try Self.root.issue(
            subject: .cryptogen(commonName: "ica.chain.example.com", organization: "chain"),
            publicKey: Self.intermediate.privateKey.publicKey,
            profile: .certificateAuthority()
        )
        let config = Fixtures.config(
            name: "Two",
            roots: [Self.root.certificate],
            intermediates: [Self.intermediate.certificate, reissued]
        )
        let msp = try X509MSP(config: config, version: .v1_0)
        let error = mspError { try self.identity(msp, Self.leafOfIntermediate.certificate).validate() }
        #expect(error?.code == .invalidIdentity)
        #expect(error?.message.contains("single validation chain") == true)
    }

    // MARK: - Revocation (revocation_test.go)

    @Test func aRevokedIdentityIsRejected() throws {
        let (revoked, _) = try Fixtures.org1.ca.issueIdentity(
            subject: .cryptogen(commonName: "revoked.org1.example.com", organizationalUnits: ["peer"])
        )
        var config = Fixtures.org1.mspConfig()
        config.revocationList = [try Fixtures.org1.ca.revocationList(revoking: [revoked.serialNumber]).pem]
        let msp = try X509MSP(config: config, version: .v3_0)
        let error = mspError { try self.identity(msp, revoked).validate() }
        #expect(error?.code == .revoked)
        #expect(error?.message.contains("revoked.org1.example.com") == true)
        #expect(error?.message.contains("Org1MSP") == true)
        // Others stay valid; the MEMBER and IDENTITY principals fail for the revoked one.
        try self.identity(msp, Fixtures.peer.certificate).validate()
        #expect(
            mspError { try self.identity(msp, revoked).satisfiesPrincipal(Fixtures.role(.member)) }?.code == .revoked
        )
        let principal = Fixtures.principal(.identity, Fixtures.serialized(revoked))
        #expect(mspError { try self.identity(msp, revoked).satisfiesPrincipal(principal) }?.code == .revoked)
    }

    @Test func aCRLWithABadSignatureIsIgnored() throws {
        let (revoked, _) = try Fixtures.org1.ca.issueIdentity(
            subject: .cryptogen(commonName: "r2.org1.example.com", organizationalUnits: ["peer"])
        )
        // A CRL with org1's CA as AKI and the serial listed, whose signature value is then corrupted.
        let forged = try Fixtures.org1.ca.revocationList(revoking: [revoked.serialNumber])
        var tampered = [UInt8](forged.der)
        tampered[tampered.count - 5] ^= 0x01  // break the signature value
        var config = Fixtures.org1.mspConfig()
        config.revocationList = [Data(tampered)]
        let msp = try X509MSP(config: config, version: .v3_0)
        try self.identity(msp, revoked).validate()
    }

    @Test func aCRLOfAnotherCADoesNotApply() throws {
        var config = Fixtures.org1.mspConfig()
        config.revocationList = [
            try Fixtures.org2.ca.revocationList(revoking: [Fixtures.peer.certificate.serialNumber]).pem
        ]
        let msp = try X509MSP(config: config, version: .v3_0)
        try self.identity(msp, Fixtures.peer.certificate).validate()
    }

    @Test func aRevokedIntermediateFailsSetup() throws {
        let crl = try Self.root.revocationList(revoking: [Self.intermediate.certificate.serialNumber])
        let config = Fixtures.config(
            name: "Rev",
            roots: [Self.root.certificate],
            intermediates: [Self.intermediate.certificate],
            crls: [crl]
        )
        let error = mspError { _ = try X509MSP(config: config, version: .v1_0) }
        #expect(error?.code == .badConfiguration)
        #expect((error?.cause as? MSPError)?.code == .revoked)
    }

    @Test func aGarbageCRLFailsSetup() {
        var config = Fixtures.org1.mspConfig()
        config.revocationList = [Data("junk".utf8)]
        #expect(mspError { _ = try X509MSP(config: config, version: .v3_0) }?.code == .badConfiguration)
    }

    // MARK: - OU identifiers and NodeOUs

    @Test func ouIdentifiersRestrictMembership() throws {
        var config = Fixtures.config(name: "OUs", roots: [Fixtures.org1.ca.certificate])
        config.organizationalUnitIdentifiers = [Fixtures.ouIdentifier("peer", Fixtures.org1.ca.certificate)]
        let msp = try X509MSP(config: config, version: .v1_0)
        try self.identity(msp, Fixtures.peer.certificate).validate()
        let client = mspError { try self.identity(msp, Fixtures.client.certificate).validate() }
        #expect(client?.code == .invalidIdentity)
        #expect(client?.message.contains("none of the identity's organizational units") == true)
        let none = mspError { try self.identity(msp, Fixtures.noOU.certificate).validate() }
        #expect(none?.message.contains("does not contain an Organizational Unit") == true)
    }

    @Test(arguments: [MSPVersion.v1_4_3, .v3_0])
    func nodeOUsNeedExactlyOneRole(version: MSPVersion) throws {
        let msp = try X509MSP(config: Fixtures.org1.mspConfig(), version: version)
        for enrollment in [Fixtures.peer, Fixtures.client, Fixtures.admin, Fixtures.orderer] {
            try self.identity(msp, enrollment.certificate).validate()
        }
        let none = mspError { try self.identity(msp, Fixtures.noOU.certificate).validate() }
        #expect(none?.code == .invalidIdentity)
        #expect(none?.message.contains("does not have an OU that resolves to client, peer, admin or orderer") == true)
        let both = mspError { try self.identity(msp, Fixtures.peerAndClient.certificate).validate() }
        #expect(both?.message.contains("not a combination of them") == true)
    }

    @Test func v11NodeOUsOnlyKnowClientAndPeer() throws {
        let msp = try X509MSP(config: Fixtures.org1.mspConfig(admins: [Fixtures.client.certificate]), version: .v1_1)
        try self.identity(msp, Fixtures.peer.certificate).validate()
        #expect(mspError { try self.identity(msp, Fixtures.admin.certificate).validate() }?.code == .invalidIdentity)
    }

    @Test func aPinnedNodeOURequiresItsCertifier() throws {
        // Two roots; the peer OU is pinned to org1's CA; a peer of the second root is rejected.
        var config = Fixtures.org1.mspConfig()
        config.rootCerts.append(Self.root.certificate.pem)
        let msp = try X509MSP(config: config, version: .v3_0)
        let (other, _) = try Self.root.issueIdentity(
            subject: .cryptogen(commonName: "p.chain.example.com", organizationalUnits: ["peer"])
        )
        let error = mspError { try self.identity(msp, other).validate() }
        #expect(error?.message.contains("certifiersIdentifier does not match") == true)
        try self.identity(msp, Fixtures.peer.certificate).validate()
    }

    @Test func validationOutcomesAreMemoised() throws {
        let identity = try self.identity(Fixtures.org1MSP, Fixtures.noOU.certificate)
        let first = mspError { try identity.validate() }
        let second = mspError { try Fixtures.org1MSP.validate(identity) }
        #expect(first != nil && first == second)
    }

    // MARK: - Key algorithms (identities_test.go)

    @Test func rsaIdentitiesAreUnsupported() throws {
        let key = try PrivateKey.generate(.rsa(bits: 2048))
        let certificate = try Fixtures.org1.ca.issue(
            subject: .cryptogen(commonName: "rsa.org1.example.com", organizationalUnits: ["peer"]),
            publicKey: key.publicKey,
            profile: .signing()
        )
        let identity = try self.identity(Fixtures.org1MSP, certificate)
        #expect(mspError { try identity.validate() }?.code == .unsupportedAlgorithm)
        #expect(
            mspError { try identity.verify(signature: Data([0x30, 0x00]), over: Data()) }?.code == .unsupportedAlgorithm
        )
    }

    @Test(arguments: [(MSPVersion.v1_4_3, false), (.v3_0, true)])
    func ed25519IdentitiesNeedV3(version: MSPVersion, supported: Bool) throws {
        let enrollment = try Fixtures.org1.enroll("ed", ou: "peer", keyKind: .ed25519)
        let msp = try X509MSP(config: Fixtures.org1.mspConfig(signer: enrollment), version: version)
        let identity = try self.identity(msp, enrollment.certificate)
        let message = Data("ed25519 message".utf8)
        if supported {
            try identity.validate()
            let signer = try #require(msp.signingIdentity)
            let signature = try signer.sign(message)
            #expect(signature.count == 64)
            try identity.verify(signature: signature, over: message)
            // Ed25519 signs the message itself: parts are joined before verifying.
            try identity.verify(signature: signature, overParts: [message.prefix(7), message.dropFirst(7)])
            #expect(
                mspError { try identity.verify(signature: signature, over: Data("other".utf8)) }?.code == .badSignature
            )
            #expect(
                mspError { try identity.verify(signature: signature, overParts: [message.dropFirst(7)]) }?.code
                    == .badSignature
            )
        } else {
            #expect(mspError { try identity.validate() }?.code == .unsupportedAlgorithm)
            let raw = try enrollment.privateKey.signEd25519(message)
            #expect(mspError { try identity.verify(signature: raw, over: message) }?.code == .unsupportedAlgorithm)
        }
    }

    @Test func anEd25519CAIssuesValidIdentitiesOnV3() throws {
        let org = try OrganizationPKI(domain: "ed.example.com", mspID: "EdMSP", keyKind: .ed25519)
        let peer = try org.enroll("peer0", ou: "peer")
        let msp = try X509MSP(config: org.mspConfig(signer: peer), version: .v3_0)
        try self.identity(msp, peer.certificate).validate()
    }
}
