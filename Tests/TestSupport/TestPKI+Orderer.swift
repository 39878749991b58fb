import Foundation
package import MSP

extension TestPKI {
    /// The orderer org (`OrdererMSP`, example.com), as cryptogen makes it.
    package static let ordererOrg = try! OrganizationPKI(domain: "example.com", mspID: "OrdererMSP")
    /// orderer0 of the orderer org (NodeOU orderer).
    package static let orderer0 = try! ordererOrg.enroll("orderer0", ou: "orderer")
    /// A second orderer org (`Orderer2MSP`, example.org), for tests that replace the orderer org by config.
    package static let ordererOrg2 = try! OrganizationPKI(domain: "example.org", mspID: "Orderer2MSP")
    /// orderer0 of the second orderer org.
    package static let ordererOrg2Node = try! ordererOrg2.enroll("orderer0", ou: "orderer")
    /// A TLS server certificate and key of the orderer org's TLS CA, for 127.0.0.1 and localhost.
    package static let ordererTLS: (certificate: Certificate, privateKey: PrivateKey) = try! ordererOrg.tlsCA
        .issueIdentity(
            subject: .cryptogen(commonName: "orderer0.example.com"),
            profile: .tls(dnsNames: ["orderer0.example.com", "localhost"])
        )
    /// A TLS client certificate and key of org1's TLS CA (for mutual TLS).
    package static let org1ClientTLS: (certificate: Certificate, privateKey: PrivateKey) = try! org1.tlsCA
        .issueIdentity(
            subject: .cryptogen(commonName: "peer0.org1.example.com"),
            profile: .tls(dnsNames: ["peer0.org1.example.com", "localhost"])
        )
}
