import Foundation
package import MSP

/// A shared two-organisation PKI for tests of every module, generated once per test process with the MSP
/// module's issuing API (cryptogen's shapes: CA, TLS CA, NodeOUs client/peer/admin/orderer).
///
/// `try!` is deliberate: failing to build it is a broken test environment, reported at first use.
public enum TestPKI {
    /// Org1 (`Org1MSP`, org1.example.com).
    package static let org1 = try! OrganizationPKI(domain: "org1.example.com", mspID: "Org1MSP")
    /// Org2 (`Org2MSP`, org2.example.com).
    package static let org2 = try! OrganizationPKI(domain: "org2.example.com", mspID: "Org2MSP")

    /// peer0 of org1 (NodeOU peer).
    package static let org1Peer = try! org1.enroll("peer0", ou: "peer")
    /// User1 of org1 (NodeOU client).
    package static let org1Client = try! org1.enroll("User1@org1.example.com", ou: "client")
    /// Admin of org1 (NodeOU admin).
    package static let org1Admin = try! org1.enroll("Admin@org1.example.com", ou: "admin")
    /// peer0 of org2 (NodeOU peer).
    package static let org2Peer = try! org2.enroll("peer0", ou: "peer")
    /// User1 of org2 (NodeOU client).
    package static let org2Client = try! org2.enroll("User1@org2.example.com", ou: "client")
    /// Admin of org2 (NodeOU admin).
    package static let org2Admin = try! org2.enroll("Admin@org2.example.com", ou: "admin")

    /// The channel view of both orgs (MSP v3.0, no signers).
    package static let manager = try! MSPManager([
        X509MSP(config: org1.mspConfig(), version: .v3_0),
        X509MSP(config: org2.mspConfig(), version: .v3_0),
    ])

    /// A signing identity for `enrollment` of `org` (a local MSP of that org holding the key).
    package static func signer(
        _ enrollment: OrganizationPKI.Enrollment,
        of org: OrganizationPKI
    ) throws
        -> X509SigningIdentity
    {
        let msp = try X509MSP(config: org.mspConfig(signer: enrollment), version: .v3_0)
        guard let signer = msp.signingIdentity else {
            throw MSPError(.signingFailed, "no signing identity for \(enrollment.certificate.commonName)")
        }
        return signer
    }
}

extension Conformance {
    /// The MSP ids and org folders of the conformance network.
    package static let organizations: [(mspID: String, folder: String)] = [
        ("Org1MSP", "crypto-config/peerOrganizations/org1.example.com"),
        ("Org2MSP", "crypto-config/peerOrganizations/org2.example.com"),
        ("OrdererMSP", "crypto-config/ordererOrganizations/example.com"),
    ]

    /// The channel's MSPs, loaded from the org `msp` folders of the real cryptogen material (MSP v3.0).
    package static func mspManager() throws -> MSPManager {
        try MSPManager(
            organizations.map { org in
                try X509MSP(config: MSPFolder.load(from: url("\(org.folder)/msp"), mspID: org.mspID), version: .v3_0)
            }
        )
    }

    /// The signing identity of a node or user folder (`peers/peer0.org1.example.com`, `users/User1@…`) of the
    /// org `mspID`, with its key from the keystore.
    package static func signingIdentity(mspID: String, member: String) throws -> X509SigningIdentity {
        guard let org = organizations.first(where: { $0.mspID == mspID }) else { throw MissingArtifact(path: mspID) }
        let config = try MSPFolder.load(
            from: url("\(org.folder)/\(member)/msp"),
            mspID: mspID,
            includeSigningIdentity: true
        )
        guard let signer = try X509MSP(config: config, version: .v3_0).signingIdentity else {
            throw MissingArtifact(path: "\(org.folder)/\(member)/msp/signcerts")
        }
        return signer
    }
}
