import ChannelConfig
import Foundation
import Gossip
import Logging
import MSP
import NetGen
import PeerCore
import SwiftProtobuf
import Testing
import TestSupport
import Wire

/// Fabric's trusted-roots callback on a running peer with mutual TLS: the gossip server starts out trusting only
/// the configured TLS root (its own org's CA); joining a channel adds the TLS CAs of the channel's organisations,
/// so another org's peer can connect without a restart.
@Suite("Peer TLS trusted roots")
struct TrustedRootsTests {
    @Test("joining a channel makes the gossip server accept the other org's TLS certificates")
    func joinAddsChannelTLSRoots() async throws {
        try await TemporaryDirectory.with("peer-trusted-roots") { temp in
            let netDir = temp.appending("net")
            let profile = NetworkProfile(channelID: "tlschannel", organizations: 2, peersPerOrganization: 1)
            let network = try NetGen.generate(profile, into: netDir)
            let genesis = try Common_Block(
                serializedBytes: Data(contentsOf: NetworkManifest.url(network.genesisBlock, in: netDir))
            )
            let org1 = network.peerOrganizations[0]
            let org2 = network.peerOrganizations[1]
            let peer = org1.peers[0].identity
            func file(_ relative: String) -> URL { NetworkManifest.url(relative, in: netDir) }
            let yaml = """
                peer:
                  id: peer0.org1
                  localMspId: \(org1.mspID)
                  mspConfigPath: \(file(peer.mspDirectory).path)
                  fileSystemPath: \(temp.appending("peer").path)
                  listenAddress: 127.0.0.1:0
                  adminService:
                    listenAddress: 127.0.0.1:0
                  gossip:
                    orgLeader: true
                  tls:
                    enabled: true
                    clientAuthRequired: true
                    cert:
                      file: \(file(peer.tlsCertificate).path)
                    key:
                      file: \(file(peer.tlsKey).path)
                    rootcert:
                      file: \(file(org1.tlsCACertificate).path)
                """
            let configuration = try PeerConfiguration(CoreConfigSource(yaml: yaml, baseDirectory: netDir))
            let admin = try network.signingIdentity(of: org1.admin, in: org1, directory: netDir)
            let adminTLS = AdminClient.TLS(
                rootCertificatesPEM: try Data(contentsOf: file(org1.tlsCACertificate)),
                clientCertificatePEM: try Data(contentsOf: file(org1.admin.tlsCertificate)),
                clientKeyPEM: try Data(contentsOf: file(org1.admin.tlsKey))
            )

            // Org2's peer, as a gossip client that trusts both orgs' TLS CAs.
            let bundle = try ChannelBundle(configBlock: genesis, mspBuilder: MSPBuilders.x509)
            let org2Peer = org2.peers[0].identity
            let org2Signer = try network.signingIdentity(of: org2Peer, in: org2, directory: netDir)
            let org2MSP = try network.msp(of: org2, directory: netDir)
            let client = try GRPCGossipTransport(
                configuration: .init(
                    listenHost: "127.0.0.1",
                    listenPort: 0,
                    identity: org2Signer.serialized,
                    gossip: GossipConfig(),
                    tls: GRPCGossipTransport.TLS(
                        certificateChain: [try Data(contentsOf: file(org2Peer.tlsCertificate))],
                        privateKey: try Data(contentsOf: file(org2Peer.tlsKey)),
                        trustRoots: ChannelMSPRegistry([bundle]).tlsRootCertificates
                    )
                ),
                mcs: MSPMessageCryptoService(
                    localMSP: org2MSP,
                    signer: org2Signer,
                    channels: ChannelMSPRegistry([bundle])
                )
            )

            try await AdminServiceTests.withNode(configuration) { node, adminAddress in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await client.run() }
                    let target = RemotePeer(endpoint: "127.0.0.1:\(await node.gossipPort())")

                    // Before the join the peer trusts only its own org's TLS CA: Org2's handshake is refused.
                    await #expect(throws: GossipError.self) { try await client.probe(target) }

                    // The admin service, over mutual TLS with the Org1 admin's TLS certificate.
                    let adminClient = AdminClient(
                        address: adminAddress,
                        signer: admin,
                        tls: adminTLS,
                        serverHostname: "localhost"
                    )
                    _ = try await adminClient.joinChannel(block: genesis)

                    // The join ran the bundle callbacks: the channel's org TLS CAs are trusted now.
                    let info = try await client.probe(target)
                    let peerIdentity = try network.signingIdentity(of: peer, in: org1, directory: netDir)
                    #expect(info.pkiID == (try PKIID.of(serializedIdentity: peerIdentity.serialized)))
                    #expect(try await adminClient.listChannels().contains("tlschannel"))
                    group.cancelAll()
                }
            }
        }
    }
}
