import ChannelConfig
import Foundation
import Gossip
import MSP
import NetGen
import Testing
import Wire

/// The trusted-roots store behind the gossip and admin servers: client certificates are checked against the roots
/// current at the handshake, so an organisation's TLS CA added by a config update is accepted without a restart.
@Suite("TLS trust store")
struct TLSTrustStoreTests {
    /// The TLS root CAs (DER) of peer organisation `index` of the fixture's channel.
    static func tlsCA(_ fixture: NetGenFixture, organization index: Int) throws -> [Data] {
        let mspID = fixture.manifest.peerOrganizations[index].mspID
        let provider = try #require(fixture.bundle.mspManager.provider(mspID))
        return provider.tlsRootCertificates
    }

    static func chain(of member: NetGenFixture.Member) throws -> [Data] {
        let pem = try Data(contentsOf: member.tlsCertificate)
        let text = String(decoding: pem, as: UTF8.self)
        let body = text.components(separatedBy: "-----BEGIN CERTIFICATE-----")[1]
            .components(separatedBy: "-----END CERTIFICATE-----")[0]
            .filter { !$0.isWhitespace }
        return [try #require(Data(base64Encoded: body))]
    }

    @Test("a chain verifies only against the roots trusted at the time; channel roots replace, configured stay")
    func verification() async throws {
        let fixture = try NetGenFixture(prefix: "trust-store")
        let org1CA = try Self.tlsCA(fixture, organization: 0)
        let org2CA = try Self.tlsCA(fixture, organization: 1)
        let org1Peer = try Self.chain(of: try fixture.member(organization: 0, peer: 0))
        let org2Peer = try Self.chain(of: try fixture.member(organization: 1, peer: 1))

        let store = try TLSTrustStore(configuredRoots: org1CA)
        #expect(await store.verify(chain: org1Peer))
        #expect(!(await store.verify(chain: org2Peer)))

        // A config block brings Org2's TLS CA; the same CA twice counts once.
        #expect(store.setChannelRoots(org1CA + org2CA + org2CA) == 2)
        #expect(await store.verify(chain: org2Peer))

        // Org2 leaves the channel: its peers are refused again, Org1's configured root stays.
        #expect(store.setChannelRoots([]) == 1)
        #expect(!(await store.verify(chain: org2Peer)))
        #expect(await store.verify(chain: org1Peer))

        // An expired validation time, garbage and an empty chain are refused, never a crash.
        #expect(!(await store.verify(chain: org1Peer, at: Date(timeIntervalSince1970: 0))))
        #expect(!(await store.verify(chain: [Data([0x30, 0x03, 0x01, 0x01])])))
        #expect(!(await store.verify(chain: [])))
        // A channel certificate that does not parse is skipped, the others are kept.
        #expect(store.setChannelRoots([Data("not a certificate".utf8)] + org2CA) == 2)
    }

    @Test("a configured root that is not a certificate is a configuration error naming it")
    func badConfiguredRoot() {
        #expect {
            try TLSTrustStore(configuredRoots: [Data("-----BEGIN CERTIFICATE-----\nAAAA\n".utf8)])
        } throws: { error in
            let error = error as? GossipError
            return error?.code == .badConfiguration && error?.message.contains("configured TLS root 0") == true
        }
    }

    @Test("a gossip server accepts a new org's peer over mutual TLS after its roots are updated, without restart")
    func serverRootsFollowUpdates() async throws {
        let fixture = try NetGenFixture(prefix: "trust-store-net")
        let org1CA = try Self.tlsCA(fixture, organization: 0)
        let org2CA = try Self.tlsCA(fixture, organization: 1)
        let server = try fixture.member(organization: 0, peer: 0)
        let client = try fixture.member(organization: 1, peer: 0)
        // The server starts trusting only its own org; the client trusts both (it must accept the server).
        let serverTransport = try GossipAcceptanceTests.transport(for: server, tls: server.tls(trusting: org1CA))
        let clientTransport = try GossipAcceptanceTests.transport(
            for: client,
            tls: client.tls(trusting: org1CA + org2CA)
        )
        let trustStore = try #require(serverTransport.trustStore)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serverTransport.run() }
            group.addTask { try await clientTransport.run() }
            let target = RemotePeer(endpoint: "127.0.0.1:\(await serverTransport.listeningPort())")

            await #expect(throws: GossipError.self) { try await clientTransport.probe(target) }

            // The trusted-roots callback after a config block that lists Org2.
            trustStore.setChannelRoots(org1CA + org2CA)
            let info = try await clientTransport.probe(target)
            #expect(info.pkiID == server.pkiID)

            // Org2 removed again: new handshakes are refused.
            trustStore.setChannelRoots([])
            await #expect(throws: GossipError.self) { try await clientTransport.probe(target) }
            group.cancelAll()
        }
    }
}
