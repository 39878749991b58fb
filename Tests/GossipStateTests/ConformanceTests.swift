import ChannelConfig
import Foundation
import Gossip
import GossipState
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// State transfer messages captured from real Fabric v3.1.5 peers (../shared/conformance/gossip), the real channel
/// config and the real crypto material.
@Suite(
    "Conformance: Fabric's state transfer messages",
    .enabled(if: Conformance.isAvailable, Conformance.missingReason)
)
struct StateConformanceTests {
    static let channel = "conformance"

    static func message(_ path: String) throws -> SignedGossipMessage {
        try SignedGossipMessage(serializedEnvelope: Conformance.data("gossip/\(path)"))
    }

    static func genesis() throws -> ChannelBundle {
        try ChannelBundle(configBlock: Conformance.block(0), mspBuilder: MSPBuilders.x509)
    }

    /// Block verification as Fabric's MCS does it (header, number, channel of the first envelope, data hash,
    /// orderer signatures against BlockValidation of the genesis config). Only `verifyBlock` is used here.
    struct ChannelBlockCrypto: MessageCryptoService {
        let bundle: ChannelBundle

        func verifyBlock(channel: ChannelID, sequence: UInt64, block bytes: Data) throws(GossipError) {
            do {
                let block = try Common_Block(serializedBytes: bytes)
                guard block.hasHeader, block.header.number == sequence else {
                    throw GossipError(.badBlock, "block \(sequence): header missing or number \(block.header.number)")
                }
                let envelope = try Common_Envelope(serializedBytes: block.data.data[0])
                guard try envelope.unpackPayload().unpackChannelHeader().channelID == channel else {
                    throw GossipError(.badBlock, "block \(sequence) is of another channel")
                }
                guard block.header.dataHash == block.data.hash else {
                    throw GossipError(.badBlock, "block \(sequence): data hash")
                }
                try BlockVerifier(bundle: self.bundle).verifySignatures(block)
            } catch let error as GossipError {
                throw error
            } catch {
                throw GossipError(.badBlock, "block \(sequence) does not verify", cause: error)
            }
        }

        func pkiID(of identity: Data) throws(GossipError) -> PKIID { try PKIID.of(serializedIdentity: identity) }
        func validateIdentity(_ identity: Data) throws(GossipError) {
            throw GossipError(.invalidIdentity, "not used")
        }
        func sign(_ message: Data) throws(GossipError) -> Data { throw GossipError(.signingFailed, "not used") }
        func verify(identity: Data, signature: Data, message: Data) throws(GossipError) {
            throw GossipError(.badSignature, "not used")
        }
        func verifyByChannel(_ channel: ChannelID, identity: Data, signature: Data, message: Data) throws(GossipError) {
            throw GossipError(.badSignature, "not used")
        }
        func expiration(of identity: Data) throws(GossipError) -> Date? { nil }
    }

    @Test("peer0.org1's answer to RemoteStateRequest[1,5] passes the response check; blocks are the committed bytes")
    func realResponse() throws {
        let message = try Self.message("org1/019.state_response.env")
        #expect(message.message.tag == .chanOrOrg)
        #expect(message.message.channelID == Self.channel)
        #expect(!message.isSigned)
        guard case .stateResponse(let response)? = message.message.content else {
            Issue.record("not a state response")
            return
        }
        let request = AntiEntropy.Request(
            start: 1,
            end: 5,
            nonce: message.message.nonce,
            peer: RemotePeer(endpoint: "peer0.org1:7051"),
            sends: 1
        )
        let crypto = ChannelBlockCrypto(bundle: try Self.genesis())
        let payloads = try StateResponseCheck.validate(response, answering: request, channel: Self.channel, mcs: crypto)
        #expect(payloads.map { $0.seqNum } == [1, 2, 3, 4, 5])
        for payload in payloads {
            #expect(payload.data == (try Conformance.blockBytes(payload.seqNum, in: "peer0.org1")))
        }
        let privateData = try PrivateDataCodec.decode(payloads[2].privateData, block: 3)
        #expect(privateData.count == 1)
        #expect(!(privateData.first?.writeSet.nsPvtRwset.isEmpty ?? true))
        // The same response does not verify as another channel's, nor for a range it does not answer.
        #expect(throws: StateResponseRejection.self) {
            try StateResponseCheck.validate(response, answering: request, channel: "mychannel", mcs: crypto)
        }
        var narrower = request
        narrower.end = 4
        #expect(throws: StateResponseRejection.self) {
            try StateResponseCheck.validate(response, answering: narrower, channel: Self.channel, mcs: crypto)
        }
    }

    @Test("peer0.org1's own anti-entropy: inclusive range, CHAN_OR_ORG, unsigned, the same nonce on every retry")
    func realRequests() throws {
        let requests = try ["org1/008.state_request.env", "org1/034.state_request.env", "org1/043.state_request.env"]
            .map(Self.message)
        for message in requests {
            #expect(message.message.tag == .chanOrOrg)
            #expect(message.message.channelID == Self.channel)
            #expect(!message.isSigned)
            guard case .stateRequest(let request)? = message.message.content else {
                Issue.record("not a state request")
                continue
            }
            // Our server accepts what Fabric sends (end − start ≤ batchSize).
            #expect(
                try StateRequestCheck.blocksToServe(
                    start: request.startSeqNum,
                    end: request.endSeqNum,
                    batchSize: StateConfig().batchSize,
                    height: 40
                ) == Array(request.startSeqNum...request.endSeqNum)
            )
        }
        #expect(requests[1].message.nonce == requests[2].message.nonce)
        // Our request encodes like Fabric's: the same field layout, byte for byte.
        guard case .stateRequest(let fabric)? = requests[1].message.content else { return }
        let ours = AntiEntropy.requestMessage(
            AntiEntropy.Request(
                start: fabric.startSeqNum,
                end: fabric.endSeqNum,
                nonce: requests[1].message.nonce,
                peer: RemotePeer(endpoint: "x:1"),
                sends: 1
            ),
            channel: Self.channel
        )
        #expect(try SignedGossipMessage.noopSign(ours).envelope.payload == requests[1].envelope.payload)
    }

    @Test("Readers: real peer handshakes of both orgs are authorised; an orderer's is refused")
    func readers() throws {
        let bundle = try Self.genesis()
        let policy = ChannelReadersPolicy { bundle }
        for path in ["org1/sent/000.conn.env", "org1/000.conn.env", "org2/000.conn.env"] {
            let hello = try Self.message(path)
            guard case .conn(let conn)? = hello.message.content else {
                Issue.record("\(path) is not a ConnEstablish")
                continue
            }
            let connection = ConnectionInfo(
                pkiID: PKIID(conn.pkiID),
                identity: conn.identity,
                endpoint: path,
                auth: AuthInfo(signedData: hello.envelope.payload, signature: hello.envelope.signature)
            )
            try policy.authorize(StateRequester(connection: connection), channel: Self.channel)
            // The same handshake with a flipped signature byte is refused.
            var broken = connection
            var signature = Data(broken.auth.signature)
            signature[signature.startIndex + signature.count / 2] ^= 0x01
            broken.auth.signature = signature
            #expect(throws: GossipStateError(.accessDenied, "")) {
                try policy.authorize(StateRequester(connection: broken), channel: Self.channel)
            }
            // And it is no use on another channel.
            #expect(throws: GossipStateError(.accessDenied, "")) {
                try policy.authorize(StateRequester(connection: connection), channel: "other")
            }
        }
        // The orderer signs a ConnEstablish with its real key: a valid signature, but not an application Reader.
        let orderer = try Conformance.signingIdentity(mspID: "OrdererMSP", member: "orderers/orderer.example.com")
        var conn = Gossip_ConnEstablish()
        conn.identity = orderer.serialized
        conn.pkiID = try PKIID.of(serializedIdentity: orderer.serialized).bytes
        let payload: Data = try Gossip_GossipMessage(tag: .empty, content: .conn(conn)).serializedBytes()
        let connection = ConnectionInfo(
            pkiID: PKIID(conn.pkiID),
            identity: orderer.serialized,
            endpoint: "orderer:7050",
            auth: AuthInfo(signedData: payload, signature: try orderer.sign(payload))
        )
        #expect(throws: GossipStateError(.accessDenied, "")) {
            try policy.authorize(StateRequester(connection: connection), channel: Self.channel)
        }
    }
}
