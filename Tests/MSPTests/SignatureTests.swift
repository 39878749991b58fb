import Foundation
import SwiftProtobuf
import Testing
import Wire

@testable import MSP

/// msp_test.go TestSignAndVerify, TestSignAndVerifyFailures; bccsp's low-S rules; concurrency of verification.
@Suite("Signatures")
struct SignatureTests {
    static let signer = Fixtures.org1MSP.signingIdentity!
    static let message = Data("a message Fabric would sign".utf8)

    private var verifier: X509Identity {
        get throws { try Fixtures.org1MSP.deserializeX509Identity(Self.signer.serialized) }
    }

    @Test func signAndVerify() throws {
        let signature = try Self.signer.sign(Self.message)
        try self.verifier.verify(signature: signature, over: Self.message)
        try Self.signer.verify(signature: signature, over: Self.message)
        #expect(try ECDSASignature(der: signature).isLowS(.p256))
    }

    /// Endorsements are verified over (proposal response payload, endorser) without concatenating them: any
    /// split of the signed bytes verifies, and parts that concatenate to other bytes do not.
    @Test func verifyingOverPartsIsVerifyingTheirConcatenation() throws {
        let signature = try Self.signer.sign(Self.message)
        let bytes = Self.message
        let splits: [[Data]] = [
            [bytes], [Data(), bytes, Data()], [bytes.prefix(1), bytes.dropFirst()],
            [bytes.prefix(10), bytes.dropFirst(10).prefix(5), bytes.dropFirst(15)],
        ]
        for parts in splits {
            try self.verifier.verify(signature: signature, overParts: parts)
            try Self.signer.verify(signature: signature, overParts: parts)
        }
        let swapped = [bytes.dropFirst(10), bytes.prefix(10)]
        #expect(mspError { try self.verifier.verify(signature: signature, overParts: swapped) }?.code == .badSignature)
        #expect(mspError { try self.verifier.verify(signature: signature, overParts: []) }?.code == .badSignature)
        let malformed = mspError { try self.verifier.verify(signature: Data([0x30, 0x00]), overParts: [bytes]) }
        #expect(malformed?.code == .badSignature)
    }

    @Test func signingAlwaysProducesLowS() throws {
        for index in 0..<64 {
            let signature = try Self.signer.sign(Data("message \(index)".utf8))
            #expect(try ECDSASignature(der: signature).isLowS(.p256))
        }
    }

    @Test func aWrongMessageOrKeyFails() throws {
        let signature = try Self.signer.sign(Self.message)
        let wrongMessage = mspError { try self.verifier.verify(signature: signature, over: Data("other".utf8)) }
        #expect(wrongMessage?.code == .badSignature)
        #expect(wrongMessage?.message.contains("peer0.org1.example.com") == true)
        let client = try Fixtures.org1MSP.deserializeX509Identity(Fixtures.serialized(Fixtures.client))
        #expect(mspError { try client.verify(signature: signature, over: Self.message) }?.code == .badSignature)
    }

    @Test func aHighSSignatureIsRejected() throws {
        let lowS = try ECDSASignature(der: try Self.signer.sign(Self.message))
        let highS = lowS.highS(.p256)
        #expect(!highS.isLowS(.p256))
        let error = mspError { try self.verifier.verify(signature: highS.derEncoded, over: Self.message) }
        #expect(error?.code == .highS)
        #expect(error?.message.contains("half the order") == true)
        // The same signature normalised verifies: it is otherwise valid.
        try self.verifier.verify(signature: highS.normalized(.p256).signature.derEncoded, over: Self.message)
    }

    @Test(arguments: [
        Data(),
        Data([0x30, 0x00]),
        Data("not DER at all".utf8),
        Data([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01]),  // r = 0
        Data([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0xFF]),  // s negative
        Data([0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]),  // r not minimally encoded
    ])
    func malformedSignaturesAreRejected(signature: Data) throws {
        #expect(mspError { try self.verifier.verify(signature: signature, over: Self.message) }?.code == .badSignature)
    }

    @Test func trailingBytesAfterTheSignatureAreIgnoredAsInFabric() throws {
        // Go's asn1.Unmarshal returns the rest, which Fabric's UnmarshalECDSASignature ignores.
        let signature = try Self.signer.sign(Self.message) + Data([0x00, 0x01])
        try self.verifier.verify(signature: signature, over: Self.message)
    }

    @Test(arguments: [EllipticCurve.p224, .p256, .p384, .p521])
    func everyNISTCurveHashesWithSHA256(curve: EllipticCurve) throws {
        let org = try OrganizationPKI(domain: "\(curve.rawValue.lowercased()).example.com", mspID: "CurveMSP")
        let enrollment = try org.enroll("peer0", ou: "peer", keyKind: .ecdsa(curve))
        let msp = try X509MSP(config: org.mspConfig(signer: enrollment), version: .v3_0)
        let signer = try #require(msp.signingIdentity)
        let signature = try signer.sign(Self.message)
        let parsed = try ECDSASignature(der: signature)
        #expect(parsed.isLowS(curve))
        let identity = try msp.deserializeX509Identity(signer.serialized)
        try identity.validate()
        try identity.verify(signature: signature, over: Self.message)
        #expect(
            mspError { try identity.verify(signature: parsed.highS(curve).derEncoded, over: Self.message) }?.code
                == .highS
        )
        // SHA-256 regardless of the curve: the raw key verifies the SHA-256 digest.
        #expect(
            enrollment.privateKey.publicKey.verifyECDSA(signatureDER: signature, digest: Digest.sha256(Self.message))
        )
    }

    @Test func theSHA3FamilyHashesWithSHA3_256() throws {
        var config = Fixtures.org1.mspConfig(signer: Fixtures.peer)
        config.cryptoConfig.signatureHashFamily = "SHA3"
        let msp = try X509MSP(config: config, version: .v3_0)
        let signature = try #require(msp.signingIdentity).sign(Self.message)
        #expect(
            Fixtures.peer.privateKey.publicKey.verifyECDSA(
                signatureDER: signature,
                digest: Digest.sha3_256(Self.message)
            )
        )
        #expect(mspError { try self.verifier.verify(signature: signature, over: Self.message) }?.code == .badSignature)
    }

    @Test func halfOrdersMatchTheCurveOrders() {
        #expect(
            EllipticCurve.p256.order.map { String(format: "%02x", $0) }.joined()
                == "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
        )
        for curve in EllipticCurve.allCases {
            #expect(BigEndian.compare(BigEndian.subtract(curve.order, curve.halfOrder), curve.halfOrder) == 1)
        }
    }

    @Test func concurrentVerificationIsSafe() async throws {
        let signatures = try (0..<16).map { index in
            let message = Data("concurrent \(index)".utf8)
            return (message, try Self.signer.sign(message))
        }
        let serialized = Self.signer.serialized
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var failures = 0
                    for round in 0..<50 {
                        let (message, signature) = signatures[(task + round) % signatures.count]
                        let identity = try Fixtures.org1MSP.deserializeIdentity(serialized)
                        try identity.validate()
                        do {
                            try identity.verify(signature: signature, over: message)
                        } catch {
                            failures += 1
                        }
                        if (try? identity.verify(signature: signature, over: Data("wrong".utf8))) != nil {
                            failures += 1
                        }
                    }
                    return failures
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    @Test func cachesAreBounded() throws {
        let msp = try X509MSP(
            config: Fixtures.org1.mspConfig(),
            version: .v3_0,
            cacheSizes: X509MSP.CacheSizes(deserialize: 2, validate: 2, satisfiesPrincipal: 2)
        )
        for enrollment in [Fixtures.peer, Fixtures.client, Fixtures.admin, Fixtures.orderer] {
            let identity = try msp.deserializeX509Identity(Fixtures.serialized(enrollment))
            try identity.validate()
            try identity.satisfiesPrincipal(Fixtures.role(.member))
        }
        #expect(msp.cachedIdentityCount == 2)
        let cache = BoundedCache<Int, Int>(capacity: 3)
        for key in 0..<10 {
            cache.insert(key, for: key)
            _ = cache.value(for: 0)  // keep 0 hot
        }
        #expect(cache.count == 3)
        #expect(cache.value(for: 0) == 0)
        #expect(cache.value(for: 9) == 9)
        #expect(cache.value(for: 1) == nil)
    }
}
