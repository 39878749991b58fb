import Foundation
import SwiftProtobuf
import Testing
import Wire

@testable import MSP

/// PKIs generated once per test process (key generation and signing are the slow part of these tests).
///
/// `try!` is deliberate: a failure to build the fixtures is a broken test environment, reported at first use.
enum Fixtures {
    static let org1 = try! OrganizationPKI(domain: "org1.example.com", mspID: "Org1MSP")
    static let org2 = try! OrganizationPKI(domain: "org2.example.com", mspID: "Org2MSP")

    static let peer = try! org1.enroll("peer0", ou: "peer")
    static let client = try! org1.enroll("User1@org1.example.com", ou: "client")
    static let admin = try! org1.enroll("Admin@org1.example.com", ou: "admin")
    static let orderer = try! org1.enroll("orderer0", ou: "orderer")
    static let noOU = try! org1.enroll("nobody", ou: "")
    static let peerAndClient = try! OrganizationPKI.Enrollment(
        org1.ca.issueIdentity(
            subject: .cryptogen(commonName: "both.org1.example.com", organizationalUnits: ["peer", "client"])
        )
    )
    static let org2Peer = try! org2.enroll("peer0", ou: "peer")

    /// An MSP of org1 (v3.0, NodeOUs enabled).
    static let org1MSP = try! X509MSP(config: org1.mspConfig(signer: peer), version: .v3_0)
    /// An MSP of org2.
    static let org2MSP = try! X509MSP(config: org2.mspConfig(signer: org2Peer), version: .v3_0)

    static func serialized(_ enrollment: OrganizationPKI.Enrollment, mspID: String = "Org1MSP") -> Data {
        OrganizationPKI.serializedIdentity(mspID: mspID, pem: enrollment.certificate.pem)
    }

    static func serialized(_ certificate: Certificate, mspID: String = "Org1MSP") -> Data {
        OrganizationPKI.serializedIdentity(mspID: mspID, pem: certificate.pem)
    }

    static func role(_ role: Common_MSPRole.MSPRoleType, _ mspID: String = "Org1MSP") -> Common_MSPPrincipal {
        var value = Common_MSPRole()
        value.mspIdentifier = mspID
        value.role = role
        var principal = Common_MSPPrincipal()
        principal.principalClassification = .role
        principal.principal = try! value.serializedBytes()
        return principal
    }

    static func principal(_ classification: Common_MSPPrincipal.Classification, _ bytes: Data) -> Common_MSPPrincipal {
        var principal = Common_MSPPrincipal()
        principal.principalClassification = classification
        principal.principal = bytes
        return principal
    }

    /// A bare config with `roots` and optional intermediates, no NodeOUs, admins as given.
    static func config(
        name: String = "TestMSP",
        roots: [Certificate],
        intermediates: [Certificate] = [],
        admins: [Certificate] = [],
        crls: [CertificateRevocationList] = []
    ) -> Msp_FabricMSPConfig {
        var config = Msp_FabricMSPConfig()
        config.name = name
        config.rootCerts = roots.map(\.pem)
        config.intermediateCerts = intermediates.map(\.pem)
        config.admins = admins.map(\.pem)
        config.revocationList = crls.map(\.pem)
        return config
    }

    static func ouIdentifier(_ name: String, _ certificate: Certificate?) -> Msp_FabricOUIdentifier {
        var identifier = Msp_FabricOUIdentifier()
        identifier.organizationalUnitIdentifier = name
        if let certificate { identifier.certificate = certificate.pem }
        return identifier
    }
}

extension OrganizationPKI.Enrollment {
    init(_ pair: (certificate: Certificate, privateKey: PrivateKey)) {
        self.init(certificate: pair.certificate, privateKey: pair.privateKey)
    }
}

/// Runs `body` and returns the MSPError it throws (nil when it does not throw).
func mspError(_ body: () throws -> Void) -> MSPError? {
    do {
        try body()
        return nil
    } catch let error as MSPError {
        return error
    } catch {
        Issue.record("expected an MSPError, got \(error)")
        return nil
    }
}
