import Foundation
import NetGen
import TestSupport
import Testing

/// network.json and the rules for the output directory.
@Suite("Output")
struct OutputTests {
    @Test("network.json names every org, node and folder, with paths relative to the output directory")
    func manifest() throws {
        var profile = NetworkProfile(
            channelID: "ch1",
            organizations: 2,
            peersPerOrganization: 2,
            usersPerOrganization: 2
        )
        profile.ordererOrganization.orderers[0].clusterEndpoint = .init(host: "127.0.0.1", port: 7055)
        try Fixtures.withNetwork(profile) { directory, manifest in
            let loaded = try NetworkManifest.load(from: directory)
            #expect(loaded == manifest)
            #expect(loaded.version == 1)
            #expect(loaded.channelID == "ch1")
            #expect(loaded.genesisBlock == "ch1.genesis.block")
            #expect(loaded.capabilities == .init(channel: "V3_0", application: "V2_5", orderer: "V2_0"))
            #expect(loaded.peerOrganizations.map(\.mspID) == ["Org1MSP", "Org2MSP"])
            #expect(loaded.organization(mspID: "OrdererMSP")?.domain == "example.com")
            let org1 = loaded.peerOrganizations[0]
            #expect(org1.mspDirectory == "crypto-config/peerOrganizations/org1.example.com/msp")
            #expect(org1.peers.map(\.endpoint) == ["127.0.0.1:7051", "127.0.0.1:7151"])
            #expect(org1.peers.map(\.anchor) == [true, false])
            #expect(org1.peers[0].identity.name == "peer0.org1.example.com")
            #expect(org1.peers[0].identity.role == "peer")
            #expect(
                org1.peers[0].identity.tlsCertificate
                    == "crypto-config/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/tls/server.crt"
            )
            #expect(org1.admin.name == "Admin@org1.example.com" && org1.admin.role == "admin")
            #expect(org1.users.map(\.name) == ["User1@org1.example.com", "User2@org1.example.com"])
            #expect(org1.users.allSatisfy { $0.role == "client" && $0.tlsKey.hasSuffix("/tls/client.key") })
            #expect(org1.orderers.isEmpty && org1.intermediateCACertificate == nil)
            let orderer = loaded.ordererOrganization.orderers[0]
            #expect(orderer.endpoint == "127.0.0.1:7050" && orderer.clusterEndpoint == "127.0.0.1:7055")
            #expect(orderer.anchor == nil && orderer.identity.role == "orderer")
            #expect(loaded.ordererOrganization.peers.isEmpty && loaded.ordererOrganization.users.isEmpty)

            // Every path in the manifest exists.
            var paths = [loaded.genesisBlock, loaded.cryptoConfig]
            for org in loaded.organizations {
                paths += [org.directory, org.mspDirectory, org.caCertificate, org.tlsCACertificate]
                for member in Fixtures.members(of: org) {
                    paths += [
                        member.mspDirectory, member.signingCertificate, member.privateKey, member.tlsDirectory,
                        member.tlsCertificate, member.tlsKey, member.tlsCACertificate,
                    ]
                }
            }
            for path in paths {
                #expect(
                    FileManager.default.fileExists(atPath: NetworkManifest.url(path, in: directory).path),
                    "\(path)"
                )
            }

            // The JSON keys other tools read.
            let json = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: directory.appendingPathComponent("network.json"))
                )
                    as? [String: Any]
            )
            #expect(
                Set(json.keys) == [
                    "version", "channel", "genesisBlock", "cryptoConfig", "nodeOUs", "intermediateCA", "capabilities",
                    "ordererOrg", "peerOrgs",
                ]
            )
            let peerOrgs = try #require(json["peerOrgs"] as? [[String: Any]])
            let peers = try #require(peerOrgs[0]["peers"] as? [[String: Any]])
            #expect(peers[0]["endpoint"] as? String == "127.0.0.1:7051")
            let identity = try #require(peers[0]["identity"] as? [String: Any])
            #expect(
                identity["mspDir"] as? String
                    == "crypto-config/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp"
            )
            #expect(
                identity["privateKey"] as? String
                    == "crypto-config/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp/keystore/priv_sk"
            )
        }
    }

    @Test("a non-empty output directory is refused unless forced; forcing replaces netgen's files and keeps others")
    func overwrite() throws {
        try withTemporaryDirectory(prefix: "netgen-test") { directory in
            let first = try NetGen.generate(NetworkProfile(channelID: "first"), into: directory)
            let error = try #require(throws: NetGenError.self) {
                try NetGen.generate(NetworkProfile(channelID: "second"), into: directory)
            }
            #expect(error.code == .outputExists)
            #expect(error.message.contains("--force"))
            #expect(try NetworkManifest.load(from: directory) == first)

            try Data("keep me".utf8).write(to: directory.appendingPathComponent("notes.txt"))
            let second = try NetGen.generate(
                NetworkProfile(channelID: "second", organizations: 1),
                into: directory,
                force: true
            )
            #expect(try NetworkManifest.load(from: directory) == second)
            let entries = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            #expect(entries == ["crypto-config", "network.json", "notes.txt", "second.genesis.block"])
            let orgs = try FileManager.default.contentsOfDirectory(
                atPath: directory.appendingPathComponent("crypto-config/peerOrganizations").path
            )
            #expect(orgs == ["org1.example.com"])
        }
    }

    @Test("a missing output directory is created; a file in its place or a bad profile writes nothing")
    func outputDirectory() throws {
        try withTemporaryDirectory(prefix: "netgen-test") { directory in
            let nested = directory.appendingPathComponent("a/b/net")
            try NetGen.generate(NetworkProfile(organizations: 1, peersPerOrganization: 1), into: nested)
            #expect(FileManager.default.fileExists(atPath: nested.appendingPathComponent("network.json").path))

            let file = directory.appendingPathComponent("file")
            try Data().write(to: file)
            #expect(throws: NetGenError(.outputExists, "")) { try NetGen.generate(NetworkProfile(), into: file) }

            var bad = NetworkProfile()
            bad.batch.timeout = "soon"
            let untouched = directory.appendingPathComponent("untouched")
            let error = try #require(throws: NetGenError.self) { try NetGen.generate(bad, into: untouched) }
            #expect(error.code == .badProfile && error.key == "batch.timeout")
            #expect(!FileManager.default.fileExists(atPath: untouched.path))
        }
    }

    @Test("a network.json of another schema version or shape is refused")
    func badManifest() throws {
        try withTemporaryDirectory(prefix: "netgen-test") { directory in
            try NetGen.generate(NetworkProfile(organizations: 1, peersPerOrganization: 1), into: directory)
            let url = directory.appendingPathComponent("network.json")
            let text = try String(contentsOf: url, encoding: .utf8)
            try Data(text.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 2").utf8).write(to: url)
            #expect(throws: NetGenError(.badManifest, "")) { try NetworkManifest.load(from: directory) }
            try Data("{}".utf8).write(to: url)
            #expect(throws: NetGenError(.badManifest, "")) { try NetworkManifest.load(from: directory) }
        }
    }
}
