import Foundation
import NetGen
import TestSupport
import Testing

/// The YAML profile: defaults, the example, and errors that name the key, the line and the reason.
@Suite("Profile")
struct ProfileTests {
    @Test("a three-line profile gives two orgs of two peers, one orderer and configtxgen's defaults")
    func shortProfile() throws {
        let profile = try NetworkProfile.parse(yaml: "channel: mychannel\norgs: 2\npeersPerOrg: 2\n")
        #expect(profile == NetworkProfile(channelID: "mychannel", organizations: 2, peersPerOrganization: 2))
        #expect(profile.peerOrganizations.map(\.mspID) == ["Org1MSP", "Org2MSP"])
        #expect(profile.peerOrganizations.map(\.domain) == ["org1.example.com", "org2.example.com"])
        #expect(profile.peerOrganizations[1].peers.map(\.endpoint.description) == ["127.0.0.1:8051", "127.0.0.1:8151"])
        #expect(profile.peerOrganizations.map(\.anchorPeers) == [["peer0"], ["peer0"]])
        #expect(profile.peerOrganizations.map(\.users) == [1, 1])
        #expect(profile.ordererOrganization.mspID == "OrdererMSP")
        #expect(profile.ordererOrganization.orderers.map(\.endpoint.description) == ["127.0.0.1:7050"])
        #expect(profile.capabilities == NetworkProfile.Capabilities(channel: .v3_0, application: .v2_5, orderer: .v2_0))
        #expect(profile.batch.timeout == "2s")
        #expect(profile.nodeOUs && !profile.intermediateCA)
        #expect(try NetworkProfile.parse(yaml: "channel: mychannel") == profile)
    }

    @Test("the example profile parses to the same network as the three-line profile")
    func example() throws {
        let example = try NetworkProfile.parse(yaml: NetworkProfile.exampleYAML)
        #expect(example == NetworkProfile(channelID: "mychannel", organizations: 2, peersPerOrganization: 2))
    }

    @Test("a full profile sets every field")
    func fullProfile() throws {
        let yaml = """
            channel: trade.v2
            usersPerOrg: 3
            nodeOUs: false
            intermediateCA: yes
            peerOrgs:
              - mspID: AcmeMSP
                domain: acme.example.org
                peers: 3
                anchorPeers: [peer1, peer2]
              - name: Beta
                domain: beta.example.org
                users: 0
                peers:
                  - name: alpha
                    endpoint: beta-host:9051
                  - endpoint: 10.0.0.5:9052
            ordererOrg:
              name: Ordering
              mspID: OrderingMSP
              domain: ordering.example.org
              users: 2
              orderers:
                - name: o1
                  endpoint: o1.ordering.example.org:7050
                  cluster: o1.ordering.example.org:7055
                - endpoint: 127.0.0.1:7150
            capabilities: {channel: V2_0, application: V2_0, orderer: V2_0}
            batch:
              timeout: 1m30s
              maxMessageCount: 10
              absoluteMaxBytes: 1 GB
              preferredMaxBytes: 512KB
            etcdraft:
              tickInterval: 100ms
              electionTick: 20
              heartbeatTick: 2
              maxInflightBlocks: 7
              snapshotIntervalSize: 1048576
            policies:
              endorsement: ANY Endorsement
              lifecycleEndorsement: ALL Endorsement
            """
        let profile = try NetworkProfile.parse(yaml: yaml)
        #expect(profile.channelID == "trade.v2")
        #expect(!profile.nodeOUs && profile.intermediateCA)
        let acme = profile.peerOrganizations[0]
        #expect(acme.name == "AcmeMSP" && acme.mspID == "AcmeMSP" && acme.users == 3)
        #expect(acme.peers.map(\.name) == ["peer0", "peer1", "peer2"])
        #expect(acme.anchorPeers == ["peer1", "peer2"])
        let beta = profile.peerOrganizations[1]
        #expect(beta.name == "Beta" && beta.mspID == "Beta" && beta.users == 0)
        #expect(beta.peers.map(\.name) == ["alpha", "peer1"])
        #expect(beta.peers.map(\.endpoint.description) == ["beta-host:9051", "10.0.0.5:9052"])
        #expect(beta.anchorPeers == ["alpha"])
        let orderer = profile.ordererOrganization
        #expect(orderer.name == "Ordering" && orderer.mspID == "OrderingMSP" && orderer.users == 2)
        #expect(orderer.orderers.map(\.name) == ["o1", "orderer2"])
        #expect(orderer.orderers[0].clusterEndpoint.description == "o1.ordering.example.org:7055")
        #expect(orderer.orderers[1].clusterEndpoint == orderer.orderers[1].endpoint)
        #expect(profile.capabilities == NetworkProfile.Capabilities(channel: .v2_0, application: .v2_0, orderer: .v2_0))
        #expect(
            profile.batch
                == NetworkProfile.Batch(
                    timeout: "1m30s",
                    maxMessageCount: 10,
                    absoluteMaxBytes: 1 << 30,
                    preferredMaxBytes: 512 << 10
                )
        )
        #expect(
            profile.etcdraft
                == NetworkProfile.EtcdraftOptions(
                    tickInterval: "100ms",
                    electionTick: 20,
                    heartbeatTick: 2,
                    maxInflightBlocks: 7,
                    snapshotIntervalSize: 1 << 20
                )
        )
        #expect(
            profile.policies
                == NetworkProfile.Policies(endorsement: "ANY Endorsement", lifecycleEndorsement: "ALL Endorsement")
        )
    }

    /// Parses `yaml` expecting a profile error; returns it.
    func failure(_ yaml: String) throws -> NetGenError {
        let error = try #require(throws: NetGenError.self) { try NetworkProfile.parse(yaml: yaml) }
        #expect(error.code == .badProfile)
        return error
    }

    @Test("an unknown key is named with its line, a suggestion and the known keys")
    func unknownKey() throws {
        let top = try failure("channel: mychannel\npeersPerOrgs: 2\n")
        #expect(top.key == "peersPerOrgs")
        #expect(top.line == 2)
        #expect(top.description.contains("did you mean 'peersPerOrg'?"))
        let nested = try failure("channel: c\npeerOrgs:\n  - mspID: A\n    anchorpeers: [peer0]\n")
        #expect(nested.key == "peerOrgs[0].anchorpeers")
        #expect(nested.line == 4)
        #expect(nested.description.contains("did you mean 'anchorPeers'?"))
        let batch = try failure("channel: c\nbatch:\n  batchTimeout: 2s\n")
        #expect(batch.key == "batch.batchTimeout")
        #expect(batch.message.contains("timeout, maxMessageCount"))
    }

    @Test("zero organizations, peers or orderers are refused")
    func zeroCounts() throws {
        let orgs = try failure("channel: c\norgs: 0\n")
        #expect(orgs.key == "orgs" && orgs.line == 2)
        #expect(orgs.message.contains("at least one peer organization"))
        #expect(try failure("channel: c\npeerOrgs: []\n").key == "peerOrgs")
        #expect(try failure("channel: c\npeersPerOrg: 0\n").key == "peersPerOrg")
        #expect(try failure("channel: c\nordererOrg:\n  orderers: []\n").key == "ordererOrg.orderers")
        #expect(try failure("channel: c\npeerOrgs:\n  - peers: 0\n").key == "peerOrgs[0].peers")
        var profile = NetworkProfile()
        profile.peerOrganizations = []
        #expect(throws: NetGenError(.badProfile, "")) { try profile.validate() }
    }

    @Test("a capability netgen does not write names the ones it does")
    func badCapability() throws {
        let channel = try failure("channel: c\ncapabilities:\n  channel: V2_5\n")
        #expect(channel.key == "capabilities.channel" && channel.line == 3)
        #expect(channel.message.contains("use V3_0 or V2_0"))
        let application = try failure("channel: c\ncapabilities:\n  application: V1_4_2\n")
        #expect(application.key == "capabilities.application")
        #expect(application.message.contains("V2_5 or V2_0"))
        #expect(try failure("channel: c\ncapabilities:\n  orderer: V3_0\n").key == "capabilities.orderer")
    }

    @Test("a duplicate MSP id names both organizations")
    func duplicateMSPID() throws {
        let error = try failure(
            """
            channel: c
            peerOrgs:
              - mspID: Org1MSP
              - mspID: Org1MSP
                domain: other.example.com
            """
        )
        #expect(error.key == "peerOrgs[1].mspID")
        #expect(error.line == 4)
        #expect(error.message.contains("duplicate MSP id 'Org1MSP' (also used by peerOrgs[0].mspID)"))
        let orderer = try failure("channel: c\nordererOrg:\n  mspID: Org2MSP\n")
        #expect(orderer.key == "ordererOrg.mspID")
        #expect(orderer.line == 3)
    }

    @Test(
        "a batch timeout that is not a positive Go duration is refused",
        arguments: ["2", "two seconds", "0", "-1s", "5 s"]
    )
    func badBatchTimeout(_ timeout: String) throws {
        let error = try failure("channel: c\nbatch:\n  timeout: \(timeout)\n")
        #expect(error.key == "batch.timeout")
        #expect(error.line == 3)
        #expect(error.description.contains("profile key 'batch.timeout' (line 3)"))
    }

    @Test("other rules: channel id, sizes, endpoints, anchors, names, YAML itself")
    func otherRules() throws {
        #expect(try failure("orgs: 2\n").message.contains("no 'channel' key"))
        #expect(try failure("channel: MyChannel\n").key == "channel")
        #expect(try failure("").message.contains("empty"))
        #expect(try failure("channel: [a\n").message.contains("not valid YAML"))
        #expect(try failure("- a\n- b\n").message.contains("expected a mapping"))
        #expect(try failure("channel: c\norgs: 2\npeerOrgs: []\n").key == "orgs")
        #expect(try failure("channel: c\nbatch:\n  preferredMaxBytes: 20 MB\n").key == "batch.preferredMaxBytes")
        #expect(try failure("channel: c\nbatch:\n  absoluteMaxBytes: 10 TB\n").key == "batch.absoluteMaxBytes")
        #expect(try failure("channel: c\nbatch:\n  maxMessageCount: 0\n").key == "batch.maxMessageCount")
        #expect(try failure("channel: c\nbatch:\n  maxMessageCount: many\n").key == "batch.maxMessageCount")
        #expect(try failure("channel: c\netcdraft:\n  electionTick: 1\n").key == "etcdraft.electionTick")
        #expect(try failure("channel: c\npolicies:\n  endorsement: MOST Endorsement\n").key == "policies.endorsement")
        #expect(try failure("channel: c\nnodeOUs: maybe\n").key == "nodeOUs")
        #expect(
            try failure("channel: c\npeerOrgs:\n  - peers:\n      - endpoint: localhost\n").key
                == "peerOrgs[0].peers[0].endpoint"
        )
        #expect(
            try failure("channel: c\npeerOrgs:\n  - peers:\n      - endpoint: h:70000\n").key
                == "peerOrgs[0].peers[0].endpoint"
        )
        #expect(
            try failure("channel: c\npeerOrgs:\n  - peers:\n      - name: Peer_0\n").key == "peerOrgs[0].peers[0].name"
        )
        #expect(
            try failure("channel: c\npeerOrgs:\n  - peers:\n      - name: p\n      - name: p\n").key
                == "peerOrgs[0].peers[1].name"
        )
        #expect(try failure("channel: c\npeerOrgs:\n  - domain: -bad-.com\n").key == "peerOrgs[0].domain")
        #expect(try failure("channel: c\npeerOrgs:\n  - mspID: \"Org 1\"\n").key == "peerOrgs[0].mspID")
        #expect(
            try failure("channel: c\npeerOrgs:\n  - mspID: A\n  - mspID: B\n    domain: org1.example.com\n").key
                == "peerOrgs[1].domain"
        )
        let anchor = try failure("channel: c\npeerOrgs:\n  - anchorPeers: [peer7]\n")
        #expect(anchor.key == "peerOrgs[0].anchorPeers[0]")
        #expect(anchor.message.contains("its peers are peer0, peer1"))
        let clash = try failure(
            "channel: c\npeerOrgs:\n  - peers:\n      - endpoint: 127.0.0.1:7050\nordererOrg: {}\n"
        )
        #expect(clash.key == "ordererOrg.orderers[0].endpoint")
        #expect(clash.message.contains("already used by peerOrgs[0].peers[0].endpoint"))
        let cluster = try failure(
            "channel: c\nordererOrg:\n  orderers:\n    - cluster: 127.0.0.1:7150\n    - endpoint: 127.0.0.1:7150\n"
        )
        #expect(cluster.key == "ordererOrg.orderers[1].endpoint")
        #expect(cluster.message.contains("already used by ordererOrg.orderers[0].cluster"))
        let kind = try failure("channel: c\npeerOrgs:\n  mspID: A\n")
        #expect(kind.key == "peerOrgs")
        #expect(kind.message.contains("expected a list, found a mapping"))
    }

    @Test("endpoints parse host:port, IPv6 in brackets, and print back")
    func endpoints() throws {
        #expect(
            NetworkProfile.Endpoint(parsing: "peer0.org1.example.com:7051")
                == .init(host: "peer0.org1.example.com", port: 7051)
        )
        #expect(NetworkProfile.Endpoint(parsing: "[::1]:7051")?.host == "::1")
        #expect(NetworkProfile.Endpoint(parsing: "[::1]:7051")?.description == "[::1]:7051")
        #expect(NetworkProfile.Endpoint(parsing: "::1:7051") == nil)
        #expect(NetworkProfile.Endpoint(parsing: "host") == nil)
        #expect(NetworkProfile.Endpoint(parsing: ":7051") == nil)
        #expect(NetworkProfile.Endpoint(parsing: "host:port") == nil)
    }

    @Test("a profile file that does not exist is an I/O error naming the path")
    func missingFile() throws {
        let error = try #require(throws: NetGenError.self) {
            try NetworkProfile.load(from: URL(fileURLWithPath: "/nonexistent/profile.yaml"))
        }
        #expect(error.code == .io)
        #expect(error.message.contains("/nonexistent/profile.yaml"))
    }

    @Test("a profile file's errors start with its path and line, as a compiler's do")
    func fileErrors() throws {
        try withTemporaryDirectory(prefix: "netgen-test") { directory in
            let url = directory.appendingPathComponent("profile.yaml")
            try Data("channel: c\nbatch:\n  timeout: 2\n".utf8).write(to: url)
            let error = try #require(throws: NetGenError.self) { try NetworkProfile.load(from: url) }
            #expect(error.profilePath == url.path && error.line == 3 && error.key == "batch.timeout")
            #expect(error.description.hasPrefix("\(url.path):3: key 'batch.timeout': '2' is not a duration"))
            try Data("channel: mychannel\norgs: 1\n".utf8).write(to: url)
            #expect(try NetworkProfile.load(from: url).peerOrganizations.count == 1)
        }
    }
}
