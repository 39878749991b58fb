import Foundation
import Gossip
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Real envelopes captured from Fabric v3.1.5 peers (../shared/conformance/gossip): every one decodes, and every
/// rule of its README that needs no X.509 holds (PKI-IDs from identity bytes, channel MACs, tags, signed or not,
/// nonces, shapes). Signatures themselves need the X.509 MSP and are checked where it lives.
@Suite("Gossip conformance vectors", .enabled(if: Conformance.isAvailable, Conformance.missingReason))
struct GossipConformanceTests {
    struct Vector {
        let folder: String
        let file: String
        let expectedCase: String
        let signed: SignedGossipMessage
        var isSent: Bool { self.file.hasPrefix("sent/") }
    }

    static let folders = ["org1", "org2", "org1-blocks"]
    static let channels = ["conformance", "mychannel", "holdout"]

    static func vectors(_ folder: String) throws -> [Vector] {
        let base = try Conformance.url("gossip/\(folder)")
        var result: [Vector] = []
        for sub in ["", "sent/"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent(sub).path)
                .filter { $0.hasSuffix(".env") }.sorted()
            for name in names {
                let bytes = try Data(contentsOf: base.appendingPathComponent(sub + name))
                let parts = name.split(separator: ".")
                result.append(
                    Vector(
                        folder: folder,
                        file: sub + name,
                        expectedCase: String(parts[1]),
                        signed: try SignedGossipMessage(serializedEnvelope: bytes)
                    )
                )
            }
        }
        return result
    }

    /// PKI-ID hex → MSP id, computed from the certificates in crypto-config (not read from the index).
    static func knownIdentities() throws -> [PKIID: String] {
        let index = try JSONSerialization.jsonObject(with: Conformance.data("gossip/org1/index.json")) as! [String: Any]
        let known = index["known_identities"] as! [String: [String: String]]
        var result: [PKIID: String] = [:]
        for (hex, entry) in known {
            var identity = Msp_SerializedIdentity()
            identity.mspid = entry["mspid"]!
            identity.idBytes = try Conformance.data("crypto-config/" + entry["name"]!)
            let pkiID = try PKIID.of(serializedIdentity: try identity.serializedBytes())
            #expect(pkiID.hex == hex, "PKI-ID of \(entry["name"]!)")
            result[pkiID] = identity.mspid
        }
        return result
    }

    @Test("PKI-ID = SHA-256(mspid ‖ PEM) for every identity of the network")
    func pkiIDs() throws {
        let known = try Self.knownIdentities()
        #expect(known.count == 9)
        let probe = try #require(known.first { $0.key.hex.hasPrefix("38e2983d") })
        #expect(probe.value == "Org1MSP")
    }

    @Test("the probe's channel MACs are SHA-256(pki_id ‖ channel)")
    func probeMACs() throws {
        let index = try JSONSerialization.jsonObject(with: Conformance.data("gossip/org1/index.json")) as! [String: Any]
        let probe = index["probe"] as! [String: Any]
        let pkiID = PKIID(Data(hexString: probe["pki_id"] as! String)!)
        for (channel, mac) in probe["channel_MACs"] as! [String: String] {
            #expect(ChannelMAC.of(pkiID, channel: channel).hexString == mac)
        }
    }

    @Test("every captured envelope decodes and keeps the rules a receiver checks", arguments: folders)
    func envelopes(folder: String) throws {
        let known = try Self.knownIdentities()
        let vectors = try Self.vectors(folder)
        #expect(vectors.count > 30)
        // The other side's PKI-ID: from the peer's ConnEstablish (received) or the probe's own (sent).
        let peerConn = try #require(vectors.first { $0.file.hasSuffix("000.conn.env") && !$0.isSent })
        let probeConn = try #require(vectors.first { $0.file == "sent/000.conn.env" })
        guard case .conn(let peerHello)? = peerConn.signed.message.content,
            case .conn(let probeHello)? = probeConn.signed.message.content
        else { throw GossipError(.malformedMessage, "no ConnEstablish") }
        let ourNonces = Self.nonces(vectors.filter(\.isSent))
        let theirNonces = Self.nonces(vectors.filter { !$0.isSent })
        for vector in vectors {
            let message = vector.signed.message
            let sender = PKIID(vector.isSent ? probeHello.pkiID : peerHello.pkiID)
            let context = "\(folder)/\(vector.file)"
            #expect(message.contentName == vector.expectedCase, "\(context)")
            if !message.isPassThroughOnly {
                #expect(throws: Never.self, "\(context)") { try message.checkTagIsLegal() }
            }
            switch message.content {
            case .conn(let conn):
                #expect(message.tag == .empty && message.nonce == 0, "\(context)")
                #expect(vector.signed.isSigned, "\(context)")
                #expect(try PKIID.of(serializedIdentity: conn.identity) == PKIID(conn.pkiID), "\(context)")
                #expect(known[PKIID(conn.pkiID)] != nil, "\(context)")
                #expect(conn.tlsCertHash.isEmpty && !conn.probe, "\(context)")
            case .aliveMsg:
                try Self.checkAlive(vector.signed, known: known, crossOrg: folder == "org2" && !vector.isSent, context)
            case .memReq(let request):
                #expect(!vector.signed.isSigned && message.nonce == 0 || vector.isSent, "\(context)")
                try Self.checkAlive(
                    try SignedGossipMessage(envelope: request.selfInformation),
                    known: known,
                    crossOrg: folder == "org2" && !vector.isSent,
                    context
                )
                #expect(
                    PKIID(try Self.alive(request.selfInformation).membership.pkiID) == sender,
                    "\(context): self information is the sender's"
                )
            case .memRes(let response):
                #expect(!vector.signed.isSigned, "\(context)")
                if !vector.isSent {
                    #expect(ourNonces.contains(message.nonce), "\(context): nonce copies the request's")
                }
                for element in response.alive + response.dead {
                    try Self.checkAlive(
                        try SignedGossipMessage(envelope: element),
                        known: known,
                        crossOrg: folder == "org2" && !vector.isSent,
                        context
                    )
                }
            case .stateSnapshot(let snapshot):
                #expect(!vector.signed.isSigned, "\(context)")
                for element in snapshot.elements {
                    let inner = try SignedGossipMessage(envelope: element)
                    try Self.checkStateInfo(inner, channel: message.channel.isEmpty ? nil : message.channelID, context)
                }
            case .stateInfo:
                try Self.checkStateInfo(vector.signed, channel: nil, context)
            case .stateInfoPullReq(let request):
                #expect(!vector.signed.isSigned && message.channel.isEmpty && message.nonce == 0, "\(context)")
                #expect(
                    Self.channels.contains { ChannelMAC.of(sender, channel: $0) == request.channelMac },
                    "\(context): MAC of the requester"
                )
            case .hello(let hello):
                try Self.checkPull(vector.signed, nonce: hello.nonce, type: hello.msgType, context)
            case .dataDig(let digest):
                try Self.checkPull(vector.signed, nonce: digest.nonce, type: digest.msgType, context)
                #expect((vector.isSent ? theirNonces : ourNonces).contains(digest.nonce), "\(context): answers a hello")
                for item in digest.digests {
                    if digest.msgType == .blockMsg {
                        #expect(
                            UInt64(String(decoding: item, as: UTF8.self)) != nil,
                            "\(context): decimal block number"
                        )
                    } else {
                        #expect(known[PKIID(item)] != nil, "\(context): raw PKI-ID")
                    }
                }
            case .dataReq(let request):
                try Self.checkPull(vector.signed, nonce: request.nonce, type: request.msgType, context)
            case .dataUpdate(let update):
                try Self.checkPull(vector.signed, nonce: update.nonce, type: update.msgType, context)
                #expect(ourNonces.contains(update.nonce) || theirNonces.contains(update.nonce), "\(context)")
                for item in update.data {
                    let inner = try SignedGossipMessage(envelope: item)
                    switch inner.message.content {
                    case .peerIdentity(let identity):
                        #expect(
                            inner.isSigned && inner.message.tag == .empty && inner.message.nonce == 0
                                && inner.message.channel.isEmpty,
                            "\(context)"
                        )
                        #expect(
                            try PKIID.of(serializedIdentity: identity.cert) == PKIID(identity.pkiID),
                            "\(context): PKI-ID of the cert it carries"
                        )
                    case .dataMsg:
                        try Self.checkBlock(inner, context)
                    default:
                        Issue.record("\(context): update item is \(inner.message.contentName)")
                    }
                }
            case .dataMsg:
                try Self.checkBlock(vector.signed, context)
            case .stateRequest(let request):
                #expect(
                    !vector.signed.isSigned && !message.channel.isEmpty && request.startSeqNum <= request.endSeqNum,
                    "\(context)"
                )
            case .stateResponse(let response):
                #expect(!vector.signed.isSigned, "\(context)")
                #expect(ourNonces.contains(message.nonce), "\(context): nonce copies the request's")
                for payload in response.payloads {
                    #expect(
                        try Common_Block(serializedBytes: payload.data).header.number == payload.seqNum,
                        "\(context)"
                    )
                }
            case .privateData, .privateReq, .privateRes:
                #expect(!vector.signed.isSigned && message.tag == .chanOnly && !message.channel.isEmpty, "\(context)")
            case .ack:
                #expect(!vector.signed.isSigned && message.tag == .undefined && message.channel.isEmpty, "\(context)")
            default:
                Issue.record("\(context): unexpected \(message.contentName)")
            }
        }
    }

    @Test("our encoder produces the probe's bytes for unsigned requests and empty snapshots")
    func encoderMatches() throws {
        let vectors = try Self.vectors("org1")
        for vector in vectors where vector.isSent {
            let message = vector.signed.message
            switch message.content {
            case .stateInfoPullReq(let request):
                var rebuilt = Gossip_StateInfoPullRequest()
                rebuilt.channelMac = request.channelMac
                let ours = try SignedGossipMessage.noopSign(
                    Gossip_GossipMessage(tag: .chanOrOrg, content: .stateInfoPullReq(rebuilt))
                )
                #expect(ours.envelope.payload == vector.signed.envelope.payload, "\(vector.file)")
            case .stateSnapshot(let snapshot) where snapshot.elements.isEmpty:
                let ours = try SignedGossipMessage.noopSign(
                    Gossip_GossipMessage(
                        nonce: message.nonce,
                        channel: message.channel.isEmpty ? nil : message.channelID,
                        tag: .chanOrOrg,
                        content: .stateSnapshot(Gossip_StateInfoSnapshot())
                    )
                )
                #expect(ours.envelope.payload == vector.signed.envelope.payload, "\(vector.file)")
            default:
                continue
            }
        }
    }

    // MARK: - Rules

    static func nonces(_ vectors: [Vector]) -> Set<UInt64> {
        var result: Set<UInt64> = []
        for vector in vectors {
            let message = vector.signed.message
            if message.nonce != 0 { result.insert(message.nonce) }
            switch message.content {
            case .hello(let m): result.insert(m.nonce)
            case .dataDig(let m): result.insert(m.nonce)
            case .dataReq(let m): result.insert(m.nonce)
            case .dataUpdate(let m): result.insert(m.nonce)
            default: break
            }
        }
        return result
    }

    static func alive(_ envelope: Gossip_Envelope) throws -> Gossip_AliveMessage {
        guard case .aliveMsg(let alive)? = try SignedGossipMessage(envelope: envelope).message.content else {
            throw GossipError(.malformedMessage, "not an alive message")
        }
        return alive
    }

    static func checkAlive(
        _ signed: SignedGossipMessage,
        known: [PKIID: String],
        crossOrg: Bool,
        _ context: String
    ) throws {
        guard case .aliveMsg(let alive)? = signed.message.content else {
            Issue.record("\(context): element is \(signed.message.contentName), not alive_msg")
            return
        }
        #expect(
            signed.message.tag == .empty && signed.message.nonce == 0 && signed.message.channel.isEmpty,
            "\(context)"
        )
        #expect(signed.isSigned, "\(context)")
        let pkiID = PKIID(alive.membership.pkiID)
        #expect(known[pkiID] != nil, "\(context): alive of an unknown PKI-ID")
        #expect(!alive.membership.endpoint.isEmpty, "\(context)")
        if !alive.identity.isEmpty {
            #expect(try PKIID.of(serializedIdentity: alive.identity) == pkiID, "\(context): identity matches pki_id")
        }
        if crossOrg {
            #expect(!signed.envelope.hasSecretEnvelope, "\(context): secret envelope crossed orgs")
        } else if known[pkiID] == "Org1MSP" {
            #expect(
                signed.internalEndpoint?.isEmpty == false,
                "\(context): own-org alive carries the internal endpoint"
            )
            #expect(!signed.envelope.secretEnvelope.signature.isEmpty, "\(context): secret is signed")
        }
    }

    static func checkStateInfo(_ signed: SignedGossipMessage, channel: String?, _ context: String) throws {
        guard case .stateInfo(let info)? = signed.message.content else {
            Issue.record("\(context): element is \(signed.message.contentName), not state_info")
            return
        }
        #expect(
            signed.isSigned && signed.message.tag == .chanOrOrg && signed.message.channel.isEmpty,
            "\(context): StateInfo has no channel field"
        )
        let pkiID = PKIID(info.pkiID)
        let candidates = channel.map { [$0] } ?? Self.channels
        #expect(candidates.contains { ChannelMAC.of(pkiID, channel: $0) == info.channelMac }, "\(context): channel MAC")
        #expect(info.hasTimestamp && info.hasProperties, "\(context)")
    }

    static func checkPull(
        _ signed: SignedGossipMessage,
        nonce: UInt64,
        type: Gossip_PullMsgType,
        _ context: String
    ) throws {
        let message = signed.message
        #expect(
            !signed.isSigned && message.nonce == 0 && nonce != 0,
            "\(context): unsigned, outer nonce 0, pull nonce set"
        )
        switch type {
        case .blockMsg: #expect(message.tag == .chanAndOrg && !message.channel.isEmpty, "\(context)")
        case .identityMsg: #expect(message.tag == .empty && message.channel.isEmpty, "\(context)")
        default: Issue.record("\(context): pull type \(type)")
        }
    }

    static func checkBlock(_ signed: SignedGossipMessage, _ context: String) throws {
        guard case .dataMsg(let data)? = signed.message.content else { return }
        #expect(!signed.isSigned && signed.message.tag == .chanAndOrg && !signed.message.channel.isEmpty, "\(context)")
        #expect(data.payload.privateData.isEmpty, "\(context): block push carries no private data")
        let block = try Common_Block(serializedBytes: data.payload.data)
        #expect(block.header.number == data.payload.seqNum, "\(context): seq_num is the block number")
        #expect(block.header.dataHash == Digest.sha256(concatenating: block.data.data), "\(context): data hash")
    }
}
