import ChannelConfig
import Foundation
import MSP
import NetGen
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The crypto material netgen writes, loaded back the way a peer and configtxgen load it.
@Suite("Crypto material")
struct CryptoMaterialTests {
    @Test(
        "the tree has exactly cryptogen's files for the same orgs and nodes",
        .enabled(if: Conformance.isAvailable, Conformance.missingReason)
    )
    func layoutMatchesCryptogen() throws {
        let expected = try relativeFilePaths(under: Conformance.url("crypto-config"))
        try Fixtures.withNetwork(Fixtures.conformanceShaped()) { directory, manifest in
            let written = try relativeFilePaths(under: directory.appendingPathComponent(manifest.cryptoConfig))
            #expect(Set(written).subtracting(expected).isEmpty, "extra: \(Set(written).subtracting(expected).sorted())")
            #expect(
                Set(expected).subtracting(written).isEmpty,
                "missing: \(Set(expected).subtracting(written).sorted())"
            )
            // The NodeOUs config.yaml is byte for byte cryptogen's.
            for org in Conformance.organizations {
                let path = "\(org.folder.dropFirst("crypto-config/".count))/msp/config.yaml"
                let ours = try Data(contentsOf: directory.appendingPathComponent("crypto-config/\(path)"))
                #expect(ours == (try Conformance.data("crypto-config/\(path)")), "\(path)")
            }
        }
    }

    @Test("the layout of a larger network follows cryptogen's naming for every node and user")
    func layoutOfLargerNetwork() throws {
        var profile = NetworkProfile(
            channelID: "big",
            organizations: 3,
            peersPerOrganization: 3,
            usersPerOrganization: 2
        )
        profile.ordererOrganization.orderers = (0..<3).map(NetworkProfile.Orderer.numbered)
        try Fixtures.withNetwork(profile) { directory, manifest in
            let files = Set(try relativeFilePaths(under: directory))
            #expect(files.contains("network.json") && files.contains("big.genesis.block"))
            for org in manifest.organizations {
                let section = org.orderers.isEmpty ? "peerOrganizations" : "ordererOrganizations"
                let base = "crypto-config/\(section)/\(org.domain)"
                #expect(org.directory == base)
                for path in [
                    "ca/ca.\(org.domain)-cert.pem", "ca/priv_sk", "tlsca/tlsca.\(org.domain)-cert.pem", "tlsca/priv_sk",
                    "msp/cacerts/ca.\(org.domain)-cert.pem", "msp/tlscacerts/tlsca.\(org.domain)-cert.pem",
                    "msp/config.yaml",
                ] {
                    #expect(files.contains("\(base)/\(path)"), "\(base)/\(path)")
                }
                for node in org.peers + org.orderers {
                    let folder = "\(base)/\(org.orderers.isEmpty ? "peers" : "orderers")/\(node.name).\(org.domain)"
                    #expect(node.identity.mspDirectory == "\(folder)/msp")
                    for path in [
                        "msp/signcerts/\(node.name).\(org.domain)-cert.pem", "msp/keystore/priv_sk", "msp/config.yaml",
                        "msp/cacerts/ca.\(org.domain)-cert.pem", "msp/tlscacerts/tlsca.\(org.domain)-cert.pem",
                        "tls/ca.crt", "tls/server.crt", "tls/server.key",
                    ] {
                        #expect(files.contains("\(folder)/\(path)"), "\(folder)/\(path)")
                    }
                }
                for user in [org.admin] + org.users {
                    #expect(files.contains("\(base)/users/\(user.name)/tls/client.crt"))
                    #expect(files.contains("\(base)/users/\(user.name)/msp/signcerts/\(user.name)-cert.pem"))
                }
            }
            #expect(
                manifest.peerOrganizations.map { $0.users.map(\.name) }[2] == [
                    "User1@org3.example.com", "User2@org3.example.com",
                ]
            )
            #expect(manifest.ordererOrganization.orderers.map(\.name) == ["orderer", "orderer2", "orderer3"])
            // Org files 7, 8 per node or user: peer orgs 3 peers + Admin + 2 users, the orderer org 3 nodes + Admin.
            #expect(files.count == 3 * (7 + 3 * 8 + 3 * 8) + (7 + 3 * 8 + 8) + 2)
        }
    }

    @Test("keys are ECDSA P-256 PKCS#8 PEM readable by their owner only; TLS certificates name the node's hosts")
    func keysAndTLS() throws {
        var profile = NetworkProfile(organizations: 1, peersPerOrganization: 1)
        profile.peerOrganizations[0].peers[0].endpoint = .init(host: "peer0.example.net", port: 7051)
        profile.ordererOrganization.orderers[0].clusterEndpoint = .init(host: "10.1.2.3", port: 7055)
        try Fixtures.withNetwork(profile) { directory, manifest in
            let peer = manifest.peerOrganizations[0].peers[0].identity
            let key = try String(contentsOf: NetworkManifest.url(peer.privateKey, in: directory), encoding: .utf8)
            #expect(key.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
            let attributes = try FileManager.default.attributesOfItem(
                atPath: NetworkManifest.url(peer.privateKey, in: directory).path
            )
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let privateKey = try PrivateKey(pemEncoded: Data(key.utf8))
            #expect(privateKey.algorithm == .ecdsa(.p256))
            let signing = try Certificate(
                pemEncoded: Data(contentsOf: NetworkManifest.url(peer.signingCertificate, in: directory))
            )
            #expect(signing.publicKey.matches(privateKey.publicKey))
            #expect(signing.organizationalUnits == ["peer"])
            #expect(signing.commonName == "peer0.org1.example.com")

            let tls = try Certificate(
                pemEncoded: Data(contentsOf: NetworkManifest.url(peer.tlsCertificate, in: directory))
            )
            #expect(tls.commonName == "peer0.org1.example.com")
            #expect(
                try Self.subjectAlternativeNames(tls.der)
                    == [
                        "DNS:peer0.org1.example.com", "DNS:peer0", "DNS:localhost", "DNS:peer0.example.net",
                        "IP:127.0.0.1",
                    ]
            )
            let tlsKey = try PrivateKey(pemEncoded: Data(contentsOf: NetworkManifest.url(peer.tlsKey, in: directory)))
            #expect(tls.publicKey.matches(tlsKey.publicKey))

            let orderer = manifest.ordererOrganization.orderers[0].identity
            let ordererTLS = try Certificate(
                pemEncoded: Data(contentsOf: NetworkManifest.url(orderer.tlsCertificate, in: directory))
            )
            #expect(
                try Self.subjectAlternativeNames(ordererTLS.der)
                    == ["DNS:orderer.example.com", "DNS:orderer", "DNS:localhost", "IP:127.0.0.1", "IP:10.1.2.3"]
            )

            let user = manifest.peerOrganizations[0].users[0]
            #expect(user.tlsCertificate.hasSuffix("tls/client.crt"))
            let userTLS = try Certificate(
                pemEncoded: Data(contentsOf: NetworkManifest.url(user.tlsCertificate, in: directory))
            )
            #expect(!userTLS.hasSubjectAlternativeName)
        }
    }

    /// The SAN entries of a DER certificate, in order, as `DNS:<name>` and `IP:<dotted address>` (IPv4 only),
    /// read with a minimal DER walk: the extension's OCTET STRING after OID 2.5.29.17 holds a SEQUENCE of
    /// GeneralNames, dNSName [2] and iPAddress [7].
    static func subjectAlternativeNames(_ der: Data) throws -> [String] {
        let bytes = [UInt8](der)
        let oid: [UInt8] = [0x06, 0x03, 0x55, 0x1D, 0x11]
        guard let start = (0...(bytes.count - oid.count)).first(where: { Array(bytes[$0..<$0 + oid.count]) == oid })
        else { return [] }
        var index = start + oid.count
        func header() throws -> (tag: UInt8, length: Int) {
            let tag = bytes[index]
            var length = Int(bytes[index + 1])
            index += 2
            if length & 0x80 != 0 {
                let count = length & 0x7F
                length = bytes[index..<index + count].reduce(0) { $0 << 8 | Int($1) }
                index += count
            }
            return (tag, length)
        }
        var next = try header()
        if next.tag == 0x01 {  // critical BOOLEAN
            index += next.length
            next = try header()
        }
        #expect(next.tag == 0x04)
        let sequence = try header()
        #expect(sequence.tag == 0x30)
        let end = index + sequence.length
        var names: [String] = []
        while index < end {
            let name = try header()
            let value = Array(bytes[index..<index + name.length])
            index += name.length
            switch name.tag {
            case 0x82: names.append("DNS:" + String(decoding: value, as: UTF8.self))
            case 0x87: names.append("IP:" + value.map(String.init).joined(separator: "."))
            default: names.append("tag \(name.tag)")
            }
        }
        return names
    }

    @Test(
        "every org MSP folder loads and enforces NodeOUs; each MSP gives its members their roles and refuses the other org's"
    )
    func rolesPerOrganization() throws {
        try Fixtures.withNetwork { directory, manifest in
            let orgs = manifest.organizations
            let msps = try orgs.map { org in
                try X509MSP(
                    config: MSPFolder.load(
                        from: NetworkManifest.url(org.mspDirectory, in: directory),
                        mspID: org.mspID
                    ),
                    version: .v3_0
                )
            }
            for (org, msp) in zip(orgs, msps) {
                #expect(msp.nodeOUsEnforced, "\(org.mspID)")
                #expect(msp.tlsRootCertificates.count == 1)
                for member in Fixtures.members(of: org) {
                    let certificate = try Data(
                        contentsOf: NetworkManifest.url(member.signingCertificate, in: directory)
                    )
                    let identity = try msp.deserializeIdentity(
                        OrganizationPKI.serializedIdentity(mspID: org.mspID, pem: certificate)
                    )
                    try msp.validate(identity)
                    let role = Fixtures.mspRole(member.role)
                    try msp.satisfiesPrincipal(identity, Fixtures.role(org.mspID, role))
                    try msp.satisfiesPrincipal(identity, Fixtures.role(org.mspID, .member))
                    for other: Common_MSPRole.MSPRoleType in [.peer, .orderer, .admin, .client] where other != role {
                        #expect(throws: MSPError.self, "\(member.name) as \(other)") {
                            try msp.satisfiesPrincipal(identity, Fixtures.role(org.mspID, other))
                        }
                    }
                    // Every other org's MSP refuses the certificate, whatever MSP id it is presented under.
                    for (otherOrg, otherMSP) in zip(orgs, msps) where otherOrg.mspID != org.mspID {
                        #expect(throws: MSPError(.invalidIdentity, "")) {
                            try otherMSP.deserializeIdentity(
                                OrganizationPKI.serializedIdentity(mspID: otherOrg.mspID, pem: certificate)
                            )
                        }
                        #expect(throws: MSPError(.unknownMSP, "")) {
                            try otherMSP.deserializeIdentity(
                                OrganizationPKI.serializedIdentity(mspID: org.mspID, pem: certificate)
                            )
                        }
                    }
                }
            }
        }
    }

    @Test("every local signing identity signs, and the signature verifies through the channel's MSP manager")
    func localSigners() throws {
        try Fixtures.withNetwork { directory, manifest in
            let bundle = try Fixtures.bundle(directory, manifest)
            let message = Data("netgen signs".utf8)
            var count = 0
            for org in manifest.organizations {
                for member in Fixtures.members(of: org) {
                    let signer = try manifest.signingIdentity(of: member, in: org, directory: directory)
                    #expect(signer.mspID == org.mspID)
                    let signature = try signer.sign(message)
                    let identity = try bundle.mspManager.deserializeIdentity(signer.serialized)
                    try identity.validate()
                    try identity.verify(signature: signature, over: message)
                    #expect(throws: MSPError.self) {
                        try identity.verify(signature: signature, over: message + Data([0]))
                    }
                    count += 1
                }
            }
            // Orderer: orderer + Admin; two orgs of two peers, Admin and User1.
            #expect(count == 2 + 2 * 4)
        }
    }

    @Test("an intermediate-CA network works end to end: chain, NodeOUs pinned to the intermediate, genesis, policies")
    func intermediateCA() throws {
        var profile = NetworkProfile()
        profile.intermediateCA = true
        try Fixtures.withNetwork(profile) { directory, manifest in
            #expect(manifest.intermediateCA)
            for org in manifest.organizations {
                let intermediate = try #require(org.intermediateCACertificate)
                let ica = try Certificate(
                    pemEncoded: Data(contentsOf: NetworkManifest.url(intermediate, in: directory))
                )
                #expect(ica.isCA && ica.commonName == "ica.\(org.domain)")
                let msp = try manifest.msp(of: org, directory: directory)
                #expect(msp.intermediateCertificates.count == 1)
                let config = try String(
                    contentsOf: NetworkManifest.url("\(org.mspDirectory)/config.yaml", in: directory),
                    encoding: .utf8
                )
                #expect(config.contains("Certificate: intermediatecerts/ica.\(org.domain)-cert.pem"))
                for member in Fixtures.members(of: org) {
                    let signer = try manifest.signingIdentity(of: member, in: org, directory: directory)
                    let certificate = try Certificate(
                        pemEncoded: Data(contentsOf: NetworkManifest.url(member.signingCertificate, in: directory))
                    )
                    #expect(certificate.authorityKeyIdentifier == ica.subjectKeyIdentifier)
                    let identity = try msp.deserializeIdentity(signer.serialized)
                    try msp.validate(identity)
                    try msp.satisfiesPrincipal(identity, Fixtures.role(org.mspID, Fixtures.mspRole(member.role)))
                }
            }
            let bundle = try Fixtures.bundle(directory, manifest)
            try bundle.checkPeerSupport()
            let message = Data("endorse".utf8)
            let endorsements = try manifest.peerOrganizations.map { org in
                try Fixtures.signed(
                    message,
                    by: manifest.signingIdentity(of: org.peers[0].identity, in: org, directory: directory)
                )
            }
            try bundle.policyManager.evaluate(ChannelBundle.PolicyPath.applicationEndorsement, signedData: endorsements)
        }
    }

    @Test("without NodeOUs, admins are listed in admincerts, identities carry no OU, and member policies hold")
    func withoutNodeOUs() throws {
        var profile = NetworkProfile(organizations: 2, peersPerOrganization: 1)
        profile.nodeOUs = false
        try Fixtures.withNetwork(profile) { directory, manifest in
            for org in manifest.organizations {
                let files = try relativeFilePaths(under: NetworkManifest.url(org.directory, in: directory))
                #expect(!files.contains { $0.hasSuffix("config.yaml") })
                #expect(files.contains("msp/admincerts/Admin@\(org.domain)-cert.pem"))
                let msp = try manifest.msp(of: org, directory: directory)
                #expect(!msp.nodeOUsEnforced)
                let admin = try manifest.signingIdentity(of: org.admin, in: org, directory: directory)
                try msp.satisfiesPrincipal(
                    try msp.deserializeIdentity(admin.serialized),
                    Fixtures.role(org.mspID, .admin)
                )
                #expect(admin.organizationalUnits.isEmpty)
            }
            let bundle = try Fixtures.bundle(directory, manifest)
            let message = Data("m".utf8)
            let peers = try manifest.peerOrganizations.map { org in
                try Fixtures.signed(
                    message,
                    by: manifest.signingIdentity(of: org.peers[0].identity, in: org, directory: directory)
                )
            }
            try bundle.policyManager.evaluate(ChannelBundle.PolicyPath.applicationEndorsement, signedData: peers)
            try bundle.policyManager.evaluate(ChannelBundle.PolicyPath.applicationWriters, signedData: [peers[0]])
        }
    }
}
