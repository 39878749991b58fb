import Foundation
import SwiftProtobuf
import Testing
import Wire

@testable import MSP

/// msp_test.go TestDeserializeIdentityFails, TestIsWellFormed; cert_test.go TestSanitizeCert(WithRSA); the MSP
/// manager's routing by MSP id.
@Suite("Deserialisation, well-formedness and sanitising")
struct DeserializationTests {
    static let highSPeer = try! OrganizationPKI.Enrollment(
        Fixtures.org1.ca.issueIdentity(
            subject: .cryptogen(commonName: "highs.org1.example.com", organizationalUnits: ["peer"]),
            profile: {
                var profile = CertificateProfile.signing()
                profile.signatureEncoding = .highS
                return profile
            }()
        )
    )

    @Test func deserialisesAndRoundTrips() throws {
        let serialized = Fixtures.serialized(Fixtures.peer)
        let identity = try Fixtures.org1MSP.deserializeIdentity(serialized)
        #expect(identity.mspID == "Org1MSP")
        #expect(identity.serialized == serialized)
        #expect(identity.id == Fixtures.peer.certificate.der.sha256Hex)
        #expect(identity.expiresAt == Fixtures.peer.certificate.notAfter)
        #expect(identity.organizationalUnits.map(\.name) == ["peer"])
        #expect(!identity.isAnonymous)
        try identity.validate()
    }

    @Test func garbageBytesAreNotASerializedIdentity() {
        let error = mspError { _ = try Fixtures.org1MSP.deserializeIdentity(Data("barf".utf8)) }
        #expect(error?.code == .malformedIdentity)
    }

    @Test func garbagePEMIsMalformed() {
        let bytes = OrganizationPKI.serializedIdentity(mspID: "Org1MSP", pem: Data("barfr".utf8))
        let error = mspError { _ = try Fixtures.org1MSP.deserializeIdentity(bytes) }
        #expect(error?.code == .malformedIdentity)
        #expect(error?.message.contains("Org1MSP") == true)
    }

    @Test func aPEMBlockThatIsNotACertificateIsMalformed() {
        let pem = PEM.encode(type: "CERTIFICATE", Data("not a certificate".utf8))
        let error = mspError {
            _ = try Fixtures.org1MSP.deserializeIdentity(OrganizationPKI.serializedIdentity(mspID: "Org1MSP", pem: pem))
        }
        #expect(error?.code == .malformedIdentity)
    }

    @Test func anotherMSPIDIsRefused() {
        let error = mspError {
            _ = try Fixtures.org1MSP.deserializeIdentity(Fixtures.serialized(Fixtures.peer, mspID: "Org2MSP"))
        }
        #expect(error?.code == .unknownMSP)
    }

    @Test func anotherOrgsCertificateDoesNotDeserialise() {
        // Sanitising needs the chain, so (as in Fabric) a foreign certificate already fails here.
        let error = mspError { _ = try Fixtures.org1MSP.deserializeIdentity(Fixtures.serialized(Fixtures.org2Peer)) }
        #expect(error?.code == .invalidIdentity)
        #expect(error?.message.contains("peer0.org2.example.com") == true)
    }

    @Test func theManagerRoutesByMSPID() throws {
        let manager = try MSPManager([Fixtures.org1MSP, Fixtures.org2MSP])
        #expect(
            try manager.deserializeIdentity(Fixtures.serialized(Fixtures.org2Peer, mspID: "Org2MSP")).mspID == "Org2MSP"
        )
        let error = mspError {
            _ = try manager.deserializeIdentity(Fixtures.serialized(Fixtures.peer, mspID: "Org3MSP"))
        }
        #expect(error?.code == .unknownMSP)
        #expect(error?.message.contains("Org3MSP") == true)
        #expect(mspError { _ = try MSPManager([Fixtures.org1MSP, Fixtures.org1MSP]) }?.code == .badConfiguration)
    }

    @Test func deserialisationIsCached() throws {
        let serialized = Fixtures.serialized(Fixtures.client)
        let first = try Fixtures.org1MSP.deserializeX509Identity(serialized)
        let second = try Fixtures.org1MSP.deserializeX509Identity(serialized)
        #expect(first === second)
    }

    // MARK: - Sanitising (cert_test.go)

    @Test func highSCertificatesAreSanitisedToTheSameID() throws {
        let high = Self.highSPeer.certificate
        let signature = try ECDSASignature(der: high.signatureValue)
        #expect(!signature.isLowS(.p256))
        let identity = try Fixtures.org1MSP.deserializeX509Identity(Fixtures.serialized(high))
        #expect(identity.sanitizedDER != high.der)
        let sanitized = try Certificate(derEncoded: identity.sanitizedDER)
        #expect(try ECDSASignature(der: sanitized.signatureValue).isLowS(.p256))
        #expect(sanitized.subjectDER == high.subjectDER)
        // The low-S re-encoding of the same certificate is the same identity.
        let lowSIdentity = try Fixtures.org1MSP.deserializeX509Identity(Fixtures.serialized(sanitized))
        #expect(lowSIdentity.id == identity.id)
        #expect(identity.id == identity.sanitizedDER.sha256Hex)
        try identity.validate()
    }

    @Test func lowSCertificatesAreLeftAlone() throws {
        let identity = try Fixtures.org1MSP.deserializeX509Identity(Fixtures.serialized(Fixtures.peer))
        #expect(identity.sanitizedDER == Fixtures.peer.certificate.der)
    }

    @Test func aSigningIdentitySerialisesItsSanitisedCertificate() throws {
        let msp = try X509MSP(config: Fixtures.org1.mspConfig(signer: Self.highSPeer), version: .v3_0)
        let signer = try #require(msp.signingIdentity)
        let message = try Msp_SerializedIdentity(serializedBytes: signer.serialized)
        #expect(message.mspid == "Org1MSP")
        #expect(message.idBytes == PEM.encode(type: "CERTIFICATE", signer.identity.sanitizedDER))
    }

    // MARK: - IsWellFormed (msp_test.go)

    private func wellFormed(_ pem: Data) -> MSPError? {
        var identity = Msp_SerializedIdentity()
        identity.mspid = "Org1MSP"
        identity.idBytes = pem
        return mspError { try Fixtures.org1MSP.isWellFormed(identity) }
    }

    @Test func aSingleCertificateBlockIsWellFormed() {
        #expect(self.wellFormed(Fixtures.peer.certificate.pem) == nil)
        // An empty PEM type is accepted too.
        var pem = String(decoding: Fixtures.peer.certificate.pem, as: UTF8.self)
        pem = pem.replacingOccurrences(of: "BEGIN CERTIFICATE", with: "BEGIN ").replacingOccurrences(
            of: "END CERTIFICATE",
            with: "END "
        )
        #expect(self.wellFormed(Data(pem.utf8)) == nil)
    }

    @Test func trailingBytesAreNotWellFormed() {
        let error = self.wellFormed(Fixtures.peer.certificate.pem + Data("\n".utf8))
        #expect(error?.code == .notWellFormed)
        #expect(error?.message.contains("trailing bytes") == true)
        // But deserialisation (Fabric's getCertFromPem) ignores what follows the block.
        let serialized = OrganizationPKI.serializedIdentity(
            mspID: "Org1MSP",
            pem: Fixtures.peer.certificate.pem + Data("\n".utf8)
        )
        #expect(mspError { _ = try Fixtures.org1MSP.deserializeIdentity(serialized) } == nil)
    }

    @Test func twoBlocksAreNotWellFormed() {
        let error = self.wellFormed(Fixtures.peer.certificate.pem + Fixtures.client.certificate.pem)
        #expect(error?.code == .notWellFormed)
    }

    @Test func aWrongBlockTypeIsNotWellFormed() {
        let pem = PEM.encode(type: "PUBLIC KEY", Fixtures.peer.certificate.der)
        let error = self.wellFormed(pem)
        #expect(error?.code == .notWellFormed)
        #expect(error?.message.contains("pem type is PUBLIC KEY") == true)
    }

    @Test func noPEMIsNotWellFormed() {
        #expect(self.wellFormed(Data("garbage".utf8))?.code == .notWellFormed)
    }

    @Test func aNonCanonicalSignatureIsNotWellFormed() throws {
        var profile = CertificateProfile.signing()
        profile.signatureEncoding = .trailingByte
        let (certificate, _) = try Fixtures.org1.ca.issueIdentity(
            subject: .cryptogen(commonName: "odd.org1.example.com", organizationalUnits: ["peer"]),
            profile: profile
        )
        let error = self.wellFormed(certificate.pem)
        #expect(error?.code == .notWellFormed)
        #expect(error?.message.contains("non canonical signature") == true)
        // A high-S signature is canonical DER: well formed.
        #expect(self.wellFormed(Self.highSPeer.certificate.pem) == nil)
    }

    /// The identity caches hash only a serialized identity's length and tail; identities that share both (the
    /// same certificate under MSP ids of the same length) are still told apart by their bytes.
    @Test func cachedIdentitiesAreKeyedByAllTheirBytes() throws {
        let manager = try MSPManager([Fixtures.org1MSP, Fixtures.org2MSP])
        let asOrg1 = Fixtures.serialized(Fixtures.peer, mspID: "Org1MSP")
        let asOrg2 = Fixtures.serialized(Fixtures.peer, mspID: "Org2MSP")
        #expect(asOrg1.count == asOrg2.count && asOrg1.suffix(128) == asOrg2.suffix(128) && asOrg1 != asOrg2)
        #expect(try manager.deserializeIdentity(asOrg1).mspID == "Org1MSP")
        // Org1's certificate does not chain to Org2's CA: refused, not answered from Org1's cache entry.
        let error = mspError { _ = try manager.deserializeIdentity(asOrg2) }
        #expect(error?.code == .invalidIdentity)
        #expect(try manager.deserializeIdentity(asOrg1).mspID == "Org1MSP")
        // A slice of a larger buffer finds the entry its bytes made.
        let framed = Data([1, 2, 3]) + asOrg1 + Data([4])
        let slice = framed[framed.startIndex + 3..<framed.endIndex - 1]
        let fromSlice = try #require(try manager.deserializeIdentity(slice) as? X509Identity)
        #expect(fromSlice === (try manager.deserializeIdentity(asOrg1) as? X509Identity))
    }

    @Test func theManagerChecksWellFormednessThroughTheRightMSP() throws {
        let manager = try MSPManager([Fixtures.org1MSP])
        var identity = Msp_SerializedIdentity()
        identity.mspid = "Nope"
        identity.idBytes = Fixtures.peer.certificate.pem
        #expect(mspError { try manager.isWellFormed(identity) }?.code == .unknownMSP)
        identity.mspid = "Org1MSP"
        try manager.isWellFormed(identity)
    }

    // MARK: - PEM decoding (Go's encoding/pem semantics)

    @Test func pemDecodingFollowsGo() throws {
        let pem = Fixtures.peer.certificate.pem
        let (block, rest) = try #require(PEM.decode(Data("leading text\n".utf8) + pem))
        #expect(block.type == "CERTIFICATE")
        #expect(block.bytes == Fixtures.peer.certificate.der)
        #expect(rest.isEmpty)
        let withCRLF = Data(String(decoding: pem, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        #expect(PEM.decode(withCRLF)?.block.bytes == Fixtures.peer.certificate.der)
        #expect(PEM.decode(pem + Data("x".utf8))?.rest == Data("x".utf8))
        #expect(PEM.decode(Data("-----BEGIN CERTIFICATE-----\nAAAA\n".utf8)) == nil)
    }
}
