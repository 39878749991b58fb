import Foundation
import Gossip
import SwiftProtobuf
import TestSupport
import Testing
import Wire

@Suite("Signing and verification of gossip messages (protoext/signing_test.go)")
struct SigningTests {
    let pki = FakePKI()

    func aliveMessage(_ identity: FakeSigningIdentity) -> Gossip_GossipMessage {
        var alive = Gossip_AliveMessage()
        alive.membership.endpoint = "peer0:7051"
        alive.membership.pkiID = identity.pkiID.bytes
        alive.timestamp = Gossip_PeerTime(incNum: 1, seqNum: 2)
        return Gossip_GossipMessage(tag: .empty, content: .aliveMsg(alive))
    }

    @Test("TestSignedGossipMessage_Verify: signed verifies, tampered or NoopSigned does not")
    func signAndVerify() throws {
        let alice = self.pki.issue(mspID: "Org1MSP", name: "alice")
        let bob = self.pki.issue(mspID: "Org1MSP", name: "bob")
        let mcs = self.pki.crypto(for: alice)
        let signed = try SignedGossipMessage.sign(self.aliveMessage(alice)) { (payload) throws(GossipError) in
            try mcs.sign(payload)
        }
        #expect(signed.isSigned)
        try signed.verify(identity: alice.serialized, using: mcs)
        // Someone else's identity does not verify it.
        #expect(throws: GossipError(.badSignature, "")) { try signed.verify(identity: bob.serialized, using: mcs) }
        // A tampered payload does not verify.
        var tampered = signed
        tampered.envelope.payload[tampered.envelope.payload.count - 1] ^= 1
        #expect(throws: GossipError(.badSignature, "")) { try tampered.verify(identity: alice.serialized, using: mcs) }
        // NoopSign leaves the signature empty, and such a message is "not signed".
        let unsigned = try SignedGossipMessage.noopSign(self.aliveMessage(alice))
        #expect(!unsigned.isSigned)
        #expect(unsigned.envelope.signature.isEmpty)
        #expect(throws: GossipError(.notSigned, "")) { try unsigned.verify(identity: alice.serialized, using: mcs) }
        // Decoding from the envelope gives back the same message.
        let decoded = try SignedGossipMessage(envelope: signed.envelope)
        #expect(decoded.message == signed.message)
    }

    @Test("TestEnvelope_SignSecret and TestInternalEndpoint: the secret envelope carries the internal endpoint")
    func secretEnvelope() throws {
        let alice = self.pki.issue(mspID: "Org1MSP", name: "alice")
        let mallory = self.pki.issue(mspID: "Org1MSP", name: "mallory")
        let mcs = self.pki.crypto(for: alice)
        var signed = try SignedGossipMessage.sign(self.aliveMessage(alice)) { (payload) throws(GossipError) in
            try mcs.sign(payload)
        }
        #expect(signed.internalEndpoint == nil)
        try signed.signSecret(internalEndpoint: "10.0.0.1:7051") { (payload) throws(GossipError) in
            try mcs.sign(payload)
        }
        #expect(signed.internalEndpoint == "10.0.0.1:7051")
        try signed.verify(identity: alice.serialized, using: mcs)
        // A secret signed by someone else fails the whole verification.
        var forged = signed
        forged.envelope.secretEnvelope.signature = mallory.sign(forged.envelope.secretEnvelope.payload)
        #expect(throws: GossipError(.badSignature, "")) { try forged.verify(identity: alice.serialized, using: mcs) }
        // Stripping the secret keeps the outer signature valid.
        let stripped = signed.withoutSecret
        #expect(!stripped.envelope.hasSecretEnvelope)
        try stripped.verify(identity: alice.serialized, using: mcs)
    }

    @Test("PKI-ID = SHA-256(mspid ‖ id_bytes); channel MAC = SHA-256(pki_id ‖ channel)")
    func formulas() throws {
        var identity = Msp_SerializedIdentity()
        identity.mspid = "Org1MSP"
        identity.idBytes = Data("-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n".utf8)
        let bytes: Data = try identity.serializedBytes()
        let pkiID = try PKIID.of(serializedIdentity: bytes)
        #expect(pkiID.bytes == Digest.sha256(Data("Org1MSP".utf8) + identity.idBytes))
        #expect(ChannelMAC.of(pkiID, channel: "mychannel") == Digest.sha256(pkiID.bytes + Data("mychannel".utf8)))
        #expect(throws: GossipError(.invalidIdentity, "")) { try PKIID.of(serializedIdentity: Data([0xff, 0xff])) }
        // Ordering is byte-wise: lower wins in elections.
        #expect(PKIID(Data([0x01, 0xff])) < PKIID(Data([0x02])))
        #expect(PKIID(Data([0x01])) < PKIID(Data([0x01, 0x00])))
    }
}

@Suite("Tag legality (§10.3)")
struct TagLegalityTests {
    static func message(
        _ content: Gossip_GossipMessage.OneOf_Content,
        _ tag: Gossip_GossipMessage.Tag
    ) -> Gossip_GossipMessage {
        Gossip_GossipMessage(tag: tag, content: content)
    }

    static func hello(_ type: Gossip_PullMsgType) -> Gossip_GossipMessage.OneOf_Content {
        var hello = Gossip_GossipHello()
        hello.msgType = type
        return .hello(hello)
    }

    static let legal: [(Gossip_GossipMessage.OneOf_Content, Gossip_GossipMessage.Tag)] = [
        (.dataMsg(Gossip_DataMessage()), .chanAndOrg),
        (.aliveMsg(Gossip_AliveMessage()), .empty),
        (.memReq(Gossip_MembershipRequest()), .empty),
        (.memRes(Gossip_MembershipResponse()), .empty),
        (.peerIdentity(Gossip_PeerIdentity()), .orgOnly),
        (hello(.blockMsg), .chanAndOrg),
        (hello(.identityMsg), .empty),
        (.stateInfo(Gossip_StateInfo()), .chanOrOrg),
        (.stateInfoPullReq(Gossip_StateInfoPullRequest()), .chanOrOrg),
        (.stateSnapshot(Gossip_StateInfoSnapshot()), .chanOrOrg),
        (.stateRequest(Gossip_RemoteStateRequest()), .chanOrOrg),
        (.stateResponse(Gossip_RemoteStateResponse()), .chanOrOrg),
        (.leadershipMsg(Gossip_LeadershipMessage()), .chanAndOrg),
    ]

    @Test("every message type accepts exactly its tag", arguments: 0..<legal.count)
    func legalTags(index: Int) throws {
        let (content, required) = Self.legal[index]
        try Self.message(content, required).checkTagIsLegal()
        for tag in [Gossip_GossipMessage.Tag.undefined, .empty, .orgOnly, .chanOnly, .chanAndOrg, .chanOrOrg]
        where tag != required {
            let error = #expect(throws: GossipError.self) { try Self.message(content, tag).checkTagIsLegal() }
            #expect(error?.code == .illegalTag)
            // The error names the message type and the tag.
            #expect(error?.message.contains(tag.name) == true)
            #expect(error?.message.contains(Self.message(content, tag).contentName) == true)
        }
    }

    @Test("undefined pull type and unknown message types are illegal")
    func unknownTypes() {
        #expect(throws: GossipError.self) { try Self.message(Self.hello(.undefined), .chanAndOrg).checkTagIsLegal() }
        let error = #expect(throws: GossipError.self) {
            try Self.message(.privateData(Gossip_PrivateDataMessage()), .chanOnly).checkTagIsLegal()
        }
        #expect(error?.message.contains("unknown message type") == true)
    }
}
