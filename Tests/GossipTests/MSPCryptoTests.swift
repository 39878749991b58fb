import ChannelConfig
import Foundation
import Gossip
import MSP
import NetGen
import SwiftProtobuf
import Testing
import Wire

/// The MSP-backed message crypto service and security advisor on a network netgen made (real keys, real
/// certificates, the channel's real policies), after Fabric's `internal/peer/gossip/mcs_test.go` and `sa_test.go`.
@Suite("MSP message crypto service (netgen identities)")
struct MSPCryptoTests {
    static let fixture = Result { try NetGenFixture(prefix: "gossip-mcs") }
    /// The same two orgs once more, with other CAs: identities that claim Org1MSP/Org2MSP but chain to nothing
    /// the channel knows.
    static let rogue = Result { try NetGenFixture(prefix: "gossip-mcs-rogue") }

    @Test("PKI-ID is SHA-256(mspid ‖ id_bytes) of the SerializedIdentity")
    func pkiID() throws {
        let fixture = try Self.fixture.get()
        let peer = try fixture.member(organization: 0, peer: 0)
        let decoded = try Msp_SerializedIdentity(serializedBytes: peer.signer.serialized)
        let expected = Digest.sha256(concatenating: [Data(decoded.mspid.utf8), decoded.idBytes])
        #expect(try peer.mcs.pkiID(of: peer.signer.serialized).bytes == expected)
        #expect(throws: GossipError.self) { try peer.mcs.pkiID(of: Data()) }
        #expect(throws: GossipError.self) { try peer.mcs.pkiID(of: Data([0xFF, 0x01, 0x02])) }
    }

    @Test("identities validate through the local MSP or a channel's MSPs; unknown CAs and orgs do not")
    func validateIdentity() throws {
        let fixture = try Self.fixture.get()
        let rogue = try Self.rogue.get()
        let org1peer0 = try fixture.member(organization: 0, peer: 0)
        let org1user = try fixture.member(organization: 0, peer: nil)
        let org2peer1 = try fixture.member(organization: 1, peer: 1)
        let mcs = org1peer0.mcs
        try mcs.validateIdentity(org1peer0.signer.serialized)
        try mcs.validateIdentity(org1user.signer.serialized)
        try mcs.validateIdentity(org2peer1.signer.serialized)  // through the channel's MSP manager
        // Same MSP ids, other CAs.
        for org in 0..<2 {
            let impostor = try rogue.member(organization: org, peer: 0)
            #expect(throws: GossipError.self) { try mcs.validateIdentity(impostor.signer.serialized) }
        }
        #expect(throws: GossipError.self) { try mcs.validateIdentity(Data()) }
        #expect(throws: GossipError.self) { try mcs.validateIdentity(Data("not an identity".utf8)) }
        // Without the channel, another org's identity is unknown; after the config arrives it validates.
        let isolated = try fixture.member(organization: 0, peer: 0, channels: [])
        #expect(throws: GossipError.self) { try isolated.mcs.validateIdentity(org2peer1.signer.serialized) }
        #expect(isolated.advisor.organization(of: org2peer1.signer.serialized) == nil)
        isolated.registry.update(fixture.bundle)
        try isolated.mcs.validateIdentity(org2peer1.signer.serialized)
        #expect(isolated.advisor.organization(of: org2peer1.signer.serialized) == "Org2MSP")
        isolated.registry.remove(fixture.channel)
        #expect(throws: GossipError.self) { try isolated.mcs.validateIdentity(org2peer1.signer.serialized) }
    }

    @Test("an expired certificate's identity is rejected, and the identity store refuses and purges it")
    func expiry() throws {
        let fixture = try Self.fixture.get()
        let org1peer0 = try fixture.member(organization: 0, peer: 0)
        let org2peer0 = try fixture.member(organization: 1, peer: 0)
        let expiry = try #require(try org1peer0.mcs.expiration(of: org2peer0.signer.serialized))
        #expect(expiry > Date())
        #expect(expiry == org2peer0.signer.expiresAt)
        let later = MSPMessageCryptoService(
            localMSP: org1peer0.localMSP,
            signer: org1peer0.signer,
            channels: org1peer0.registry,
            now: { expiry.addingTimeInterval(1) }
        )
        #expect(throws: GossipError.self) { try later.validateIdentity(org2peer0.signer.serialized) }
        #expect(throws: GossipError.self) { try later.validateIdentity(org1peer0.signer.serialized) }

        // The identity store drops the identity at its expiry and refuses it afterwards.
        let now = GossipInstant(Date())
        var store = try IdentityStore(
            selfIdentity: org1peer0.signer.serialized,
            mcs: org1peer0.mcs,
            advisor: org1peer0.advisor,
            usageThreshold: .seconds(3600),
            now: now
        )
        try store.put(org2peer0.pkiID, identity: org2peer0.signer.serialized, now: now)
        #expect(store.lookup(org2peer0.pkiID) != nil)
        let afterExpiry = GossipInstant(expiry.addingTimeInterval(1))
        _ = store.purge(now: afterExpiry)
        #expect(store.lookup(org2peer0.pkiID) == nil)
        #expect(throws: GossipError.self) {
            try store.put(org2peer0.pkiID, identity: org2peer0.signer.serialized, now: afterExpiry)
        }
    }

    @Test("signatures verify by the local MSP or by the channel's Readers policy; tampering fails")
    func signAndVerify() throws {
        let fixture = try Self.fixture.get()
        let org1peer0 = try fixture.member(organization: 0, peer: 0)
        let org1peer1 = try fixture.member(organization: 0, peer: 1)
        let org2peer0 = try fixture.member(organization: 1, peer: 0)
        let message = Data("alive message payload".utf8)
        let signature = try org2peer0.mcs.sign(message)
        // Another org: verified under /Channel/Application/Readers of the channel.
        try org1peer0.mcs.verify(identity: org2peer0.signer.serialized, signature: signature, message: message)
        try org1peer0.mcs.verifyByChannel(
            fixture.channel,
            identity: org2peer0.signer.serialized,
            signature: signature,
            message: message
        )
        #expect(throws: GossipError.self) {
            try org1peer0.mcs.verify(
                identity: org2peer0.signer.serialized,
                signature: signature,
                message: message + Data([0])
            )
        }
        #expect(throws: GossipError.self) {
            try org1peer0.mcs.verify(identity: org1peer1.signer.serialized, signature: signature, message: message)
        }
        #expect(throws: GossipError.self) {
            try org1peer0.mcs.verifyByChannel(
                "otherchannel",
                identity: org2peer0.signer.serialized,
                signature: signature,
                message: message
            )
        }
        // Own org: a plain signature check.
        let own = try org1peer1.mcs.sign(message)
        try org1peer0.mcs.verify(identity: org1peer1.signer.serialized, signature: own, message: message)
        // The orderer is in the channel but not a Reader of the application: its signature is not accepted.
        let orderer = try fixture.ordererSigner()
        let byOrderer = try orderer.sign(message)
        #expect(throws: GossipError.self) {
            try org1peer0.mcs.verify(identity: orderer.serialized, signature: byOrderer, message: message)
        }
    }

    @Test("blocks verify against the orderer's signature, number, channel and data hash")
    func verifyBlock() throws {
        let fixture = try Self.fixture.get()
        let mcs = try fixture.member(organization: 1, peer: 1).mcs
        let orderer = try fixture.ordererSigner()
        let good = try fixture.block(number: 5, signer: orderer)
        try mcs.verifyBlock(channel: fixture.channel, sequence: 5, block: try good.serializedBytes())
        #expect(throws: GossipError.self) {
            try mcs.verifyBlock(channel: fixture.channel, sequence: 6, block: try good.serializedBytes())
        }
        #expect(throws: GossipError.self) {
            try mcs.verifyBlock(channel: "otherchannel", sequence: 5, block: try good.serializedBytes())
        }
        var tampered = good
        tampered.data.data[0].append(0)
        #expect(throws: GossipError.self) {
            try mcs.verifyBlock(channel: fixture.channel, sequence: 5, block: try tampered.serializedBytes())
        }
        // Signed by a peer, not by the orderer: BlockValidation is not satisfied.
        let forged = try fixture.block(number: 5, signer: try fixture.member(organization: 0, peer: 0).signer)
        #expect(throws: GossipError.self) {
            try mcs.verifyBlock(channel: fixture.channel, sequence: 5, block: try forged.serializedBytes())
        }
        #expect(throws: GossipError.self) {
            try mcs.verifyBlock(channel: fixture.channel, sequence: 5, block: Data([0x0A, 0xFF]))
        }
    }

    @Test("the security advisor tells the org of known identities only")
    func securityAdvisor() throws {
        let fixture = try Self.fixture.get()
        let rogue = try Self.rogue.get()
        let advisor = try fixture.member(organization: 0, peer: 0).advisor
        #expect(advisor.organization(of: try fixture.member(organization: 0, peer: 1).signer.serialized) == "Org1MSP")
        #expect(advisor.organization(of: try fixture.member(organization: 1, peer: 0).signer.serialized) == "Org2MSP")
        #expect(advisor.organization(of: try fixture.ordererSigner().serialized) == "OrdererMSP")
        #expect(advisor.organization(of: try rogue.member(organization: 1, peer: 0).signer.serialized) == nil)
        #expect(advisor.organization(of: Data()) == nil)
    }

    @Test("the registry lists the TLS CAs of every org of its channels")
    func tlsRoots() throws {
        let fixture = try Self.fixture.get()
        let roots = ChannelMSPRegistry([fixture.bundle]).tlsRootCertificates
        #expect(roots.count == 3)  // Org1, Org2 and the orderer org
        #expect(ChannelMSPRegistry().tlsRootCertificates.isEmpty)
    }
}
