import Foundation
import SwiftProtobuf
import TestSupport
import Testing
import Wire

@testable import MSP

/// The real cryptogen material and blocks of a Fabric v3.1 network (../shared/conformance).
@Suite("Conformance: real crypto material and blocks", .enabled(if: Conformance.isAvailable, Conformance.missingReason))
struct ConformanceMSPTests {
    struct Org: Sendable, CustomTestStringConvertible {
        let mspID: String
        let folder: String
        let members: [(path: String, role: Common_MSPRole.MSPRoleType)]
        var testDescription: String { self.mspID }
    }

    static let orgs: [Org] = [
        Org(
            mspID: "Org1MSP",
            folder: "crypto-config/peerOrganizations/org1.example.com",
            members: [
                ("peers/peer0.org1.example.com", .peer), ("peers/peer1.org1.example.com", .peer),
                ("users/Admin@org1.example.com", .admin), ("users/User1@org1.example.com", .client),
            ]
        ),
        Org(
            mspID: "Org2MSP",
            folder: "crypto-config/peerOrganizations/org2.example.com",
            members: [
                ("peers/peer0.org2.example.com", .peer), ("users/Admin@org2.example.com", .admin),
                ("users/User1@org2.example.com", .client),
            ]
        ),
        Org(
            mspID: "OrdererMSP",
            folder: "crypto-config/ordererOrganizations/example.com",
            members: [("orderers/orderer.example.com", .orderer), ("users/Admin@example.com", .admin)]
        ),
    ]

    /// The channel's MSPs as loaded from the org folders (v3.0, the channel's capability).
    static let manager: MSPManager = {
        let providers = orgs.map { org in
            try! X509MSP(
                config: MSPFolder.load(from: Conformance.url("\(org.folder)/msp"), mspID: org.mspID),
                version: .v3_0
            )
        }
        return try! MSPManager(providers)
    }()

    private func msp(_ id: String) throws -> X509MSP {
        try #require(Self.manager.provider(id) as? X509MSP)
    }

    @Test(arguments: orgs)
    func everyOrgFolderLoads(org: Org) throws {
        let config = try MSPFolder.load(from: Conformance.url("\(org.folder)/msp"), mspID: org.mspID)
        #expect(config.rootCerts.count == 1)
        #expect(config.tlsRootCerts.count == 1)
        #expect(config.fabricNodeOus.enable)
        #expect(config.fabricNodeOus.peerOuIdentifier.organizationalUnitIdentifier == "peer")
        #expect(config.fabricNodeOus.peerOuIdentifier.certificate == config.rootCerts[0])
        let msp = try X509MSP(config: config, version: .v3_0)
        #expect(msp.nodeOUsEnforced)
        #expect(msp.signingIdentity == nil)
    }

    @Test(arguments: orgs)
    func everyLocalMSPLoadsWithItsSigner(org: Org) throws {
        for member in org.members {
            let url = try Conformance.url("\(org.folder)/\(member.path)/msp")
            let config = try MSPFolder.load(from: url, mspID: org.mspID, includeSigningIdentity: true)
            let msp = try X509MSP(config: config, version: .v3_0)
            let signer = try #require(msp.signingIdentity)
            let message = Data("conformance \(member.path)".utf8)
            let signature = try signer.sign(message)
            // Verified by the channel's view of the org (deserialised from the signer's serialized form).
            let identity = try Self.manager.deserializeIdentity(signer.serialized)
            try identity.validate()
            try identity.verify(signature: signature, over: message)
            #expect(identity.id == signer.id)
        }
    }

    @Test(arguments: orgs)
    func membersValidateAndHaveTheirNodeOURoles(org: Org) throws {
        let msp = try self.msp(org.mspID)
        for member in org.members {
            let name = member.path.split(separator: "/").last!
            let pem = try Conformance.data("\(org.folder)/\(member.path)/msp/signcerts/\(name)-cert.pem")
            let identity = try msp.deserializeX509Identity(
                OrganizationPKI.serializedIdentity(mspID: org.mspID, pem: pem)
            )
            try identity.validate()
            try identity.satisfiesPrincipal(Fixtures.role(.member, org.mspID))
            for role in [Common_MSPRole.MSPRoleType.peer, .client, .admin, .orderer] {
                let error = mspError { try identity.satisfiesPrincipal(Fixtures.role(role, org.mspID)) }
                if role == member.role {
                    #expect(error == nil, "\(name) should be \(role): \(String(describing: error))")
                } else {
                    #expect(error != nil, "\(name) should not be \(role)")
                }
            }
        }
    }

    @Test func anotherOrgsIdentitiesAreRejected() throws {
        let org1 = try self.msp("Org1MSP")
        let pem = try Conformance.data(
            "crypto-config/peerOrganizations/org2.example.com/peers/peer0.org2.example.com/msp/signcerts/peer0.org2.example.com-cert.pem"
        )
        // Claiming Org1MSP with Org2's certificate: no chain to Org1's CA.
        let claimed = mspError {
            _ = try org1.deserializeIdentity(OrganizationPKI.serializedIdentity(mspID: "Org1MSP", pem: pem))
        }
        #expect(claimed?.code == .invalidIdentity)
        // Org2's certificate as Org2MSP, checked by Org1: a different MSP.
        let org2Identity = try Self.manager.deserializeIdentity(
            OrganizationPKI.serializedIdentity(mspID: "Org2MSP", pem: pem)
        )
        #expect(mspError { try org1.validate(org2Identity) }?.code == .unknownMSP)
        #expect(
            mspError { try org2Identity.satisfiesPrincipal(Fixtures.role(.member, "Org1MSP")) }?.code
                == .principalNotSatisfied
        )
        // An MSP the channel does not define.
        let unknown = mspError {
            _ = try Self.manager.deserializeIdentity(OrganizationPKI.serializedIdentity(mspID: "Org3MSP", pem: pem))
        }
        #expect(unknown?.code == .unknownMSP)
    }

    @Test func theCAsOwnHighSSignatureIsSanitised() throws {
        // cryptogen (Go) left the org1 CA certificate with a high-S signature; the MSP keeps a low-S copy.
        let org1 = try self.msp("Org1MSP")
        let pem = try Conformance.data(
            "crypto-config/peerOrganizations/org1.example.com/msp/cacerts/ca.org1.example.com-cert.pem"
        )
        let original = try Certificate(pemEncoded: pem)
        let root = try #require(org1.rootCertificates.first)
        let originalS = try ECDSASignature(der: original.signatureValue)
        if !originalS.isLowS(.p256) {
            #expect(root.der != original.der)
        }
        #expect(try ECDSASignature(der: root.signatureValue).isLowS(.p256))
    }

    @Test func theCertificatesWeIssueLookLikeCryptogens() throws {
        let real = try Certificate(
            pemEncoded: Conformance.data(
                "crypto-config/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp/signcerts/peer0.org1.example.com-cert.pem"
            )
        )
        let realCA = try Certificate(
            pemEncoded: Conformance.data(
                "crypto-config/peerOrganizations/org1.example.com/ca/ca.org1.example.com-cert.pem"
            )
        )
        let ours = Fixtures.peer.certificate
        let ourCA = Fixtures.org1.ca.certificate
        #expect(ours.subjectDER == real.subjectDER)
        #expect(ourCA.subjectDER == realCA.subjectDER)
        #expect(ours.isCA == real.isCA && ourCA.isCA == realCA.isCA)
        #expect(ours.subjectKeyIdentifier == nil && real.subjectKeyIdentifier == nil)
        #expect(ourCA.subjectKeyIdentifier?.count == realCA.subjectKeyIdentifier?.count)
        // cryptogen v3 derives a CA's SKI from its private scalar; so do we.
        let realCAKey = try PrivateKey(
            pemEncoded: Conformance.data("crypto-config/peerOrganizations/org1.example.com/ca/priv_sk")
        )
        #expect(realCA.subjectKeyIdentifier == realCAKey.cryptogenSubjectKeyIdentifier)
        #expect(ourCA.subjectKeyIdentifier == Fixtures.org1.ca.privateKey.cryptogenSubjectKeyIdentifier)
        #expect(ours.authorityKeyIdentifier == ourCA.subjectKeyIdentifier)
        #expect(real.authorityKeyIdentifier == realCA.subjectKeyIdentifier)
        #expect(ours.serialNumber.count == real.serialNumber.count || ours.serialNumber.count == 16)
        #expect(ours.notAfter.timeIntervalSince(ours.notBefore) == real.notAfter.timeIntervalSince(real.notBefore))
        // Same extensions in the same order, with the same criticality and (apart from key ids) the same values.
        #expect(try Self.extensionShape(ours) == Self.extensionShape(real))
        #expect(try Self.extensionShape(ourCA) == Self.extensionShape(realCA))
        // And the key file has cryptogen's PKCS#8 shape.
        let realKey = try Conformance.data(
            "crypto-config/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp/keystore/priv_sk"
        )
        #expect(try PrivateKey(pemEncoded: realKey).pkcs8DER.count == Fixtures.peer.privateKey.pkcs8DER.count)
    }

    /// (OID, critical, value-or-length) of each extension.
    static func extensionShape(_ certificate: Certificate) throws -> [String] {
        var reader = DER.Reader([UInt8](certificate.tbsRaw))
        var tbs = DER.Reader(try reader.read().content)
        var shape: [String] = []
        while !tbs.isAtEnd {
            let element = try tbs.read()
            guard element.tag == 0xA3 else { continue }
            var wrapper = DER.Reader(element.content)
            var extensions = DER.Reader(try wrapper.read().content)
            while !extensions.isAtEnd {
                var fields = DER.Reader(try extensions.read().content)
                let oid = try fields.read().content.map { String($0) }.joined(separator: ".")
                var next = try fields.read()
                var critical = false
                if next.tag == DER.Tag.boolean {
                    critical = true
                    next = try fields.read()
                }
                let isKeyID = oid.hasSuffix("29.14") || oid.hasSuffix("29.35")
                shape.append(
                    "\(oid) \(critical) \(isKeyID ? "len \(next.content.count)" : Data(next.content).hexString)"
                )
            }
        }
        return shape
    }

    @Test func theTestSupportHelpersWork() throws {
        let manager = try Conformance.mspManager()
        #expect(manager.mspIDs == ["Org1MSP", "Org2MSP", "OrdererMSP"].sorted())
        let signer = try Conformance.signingIdentity(mspID: "Org2MSP", member: "users/User1@org2.example.com")
        let signature = try signer.sign(Data("x".utf8))
        try manager.deserializeIdentity(signer.serialized).verify(signature: signature, over: Data("x".utf8))
        let generated = try TestPKI.signer(TestPKI.org2Admin, of: TestPKI.org2)
        let identity = try TestPKI.manager.deserializeIdentity(generated.serialized)
        try identity.satisfiesPrincipal(Fixtures.role(.admin, "Org2MSP"))
    }

    // MARK: - The blocks

    @Test func creatorAndEndorsementSignaturesOfEveryBlockVerify() throws {
        let expected = try Conformance.expected()
        var envelopes = 0
        var validEndorsements = 0
        var badEndorsementSeen = false
        for number in try Conformance.blockNumbers() {
            let block = try Conformance.block(number)
            for (index, bytes) in block.data.data.enumerated() {
                let envelope = try TransactionEnvelope(bytes: bytes)
                let creatorBytes = envelope.signatureHeader.creator
                guard !creatorBytes.isEmpty, !envelope.envelope.signature.isEmpty else { continue }
                let creator = try Self.manager.deserializeIdentity(creatorBytes)
                try creator.validate()
                try creator.verify(signature: envelope.envelope.signature, over: envelope.envelope.payload)
                envelopes += 1
                guard envelope.headerType == .endorserTransaction else { continue }
                let tx = expected[number]?.txs[index]
                let transaction = try EndorserTransaction(envelope: envelope)
                for (position, endorsement) in transaction.action.endorsements.enumerated() {
                    let endorser = try Self.manager.deserializeIdentity(endorsement.endorser)
                    let error = mspError {
                        try endorser.verify(
                            signature: endorsement.signature,
                            over: transaction.action.endorsementSignedBytes(position)
                        )
                    }
                    if tx?.codeOrg1 == "VALID" {
                        #expect(
                            error == nil,
                            "block \(number) tx \(index) endorsement \(position): \(String(describing: error))"
                        )
                        try endorser.validate()
                        validEndorsements += 1
                    } else if tx?.label == "mixed:bad_endorser_sig" && error != nil {
                        #expect(error?.code == .badSignature || error?.code == .highS)
                        badEndorsementSeen = true
                    }
                }
            }
        }
        #expect(envelopes >= 147)
        #expect(validEndorsements == 216)
        #expect(badEndorsementSeen)
    }
}
