import Foundation
import SwiftProtobuf
public import Wire

/// The gossip state side of a verified block: Fabric's `GossipServiceAdapter.AddPayload`.
///
/// PeerCore adapts GossipState's payload buffer to it.
public protocol GossipPayloadSink: Sendable {
    /// Adds the block payload to the channel's payload buffer (blocking while the buffer is full, in blocking
    /// commit mode).
    func addPayload(_ payload: Gossip_Payload, channelID: String) async throws
}

/// The gossip push side of a verified block: Fabric's `GossipServiceAdapter.Gossip`.
///
/// PeerCore adapts the Gossip module's emitter to it.
public protocol BlockGossiper: Sendable {
    /// Signs (as needed) and pushes `message` to the org's peers of the channel.
    func gossip(_ message: Gossip_GossipMessage) async
}

/// Fabric's `GossipBlockHandler`: the block is marshalled into a gossip `Payload{seq_num: number, data: block}`
/// and added to gossip state; when block gossip is enabled (CFT only) the same payload is also pushed as
/// `DataMessage{payload}` with nonce 0, tag CHAN_AND_ORG and the channel id.
public struct GossipBlockHandler: BlockHandler {
    /// Where payloads are committed from.
    public let sink: any GossipPayloadSink
    /// Where blocks are pushed to other peers.
    public let gossiper: any BlockGossiper
    /// Whether blocks are pushed to the org's peers.
    public let blockGossipEnabled: Bool

    /// Creates the handler.
    public init(sink: any GossipPayloadSink, gossiper: any BlockGossiper, blockGossipEnabled: Bool) {
        self.sink = sink
        self.gossiper = gossiper
        self.blockGossipEnabled = blockGossipEnabled
    }

    public func handleBlock(_ block: Common_Block, channelID: String) async throws {
        guard block.hasHeader else {
            throw DeliverError(.handoff, "block from the orderer of channel \(channelID) has no header")
        }
        let payload = try Self.payload(for: block)
        let message = Self.dataMessage(payload, channelID: channelID)
        try await self.sink.addPayload(payload, channelID: channelID)
        if self.blockGossipEnabled {
            await self.gossiper.gossip(message)
        }
    }

    /// The gossip payload for `block`.
    public static func payload(for block: Common_Block) throws(DeliverError) -> Gossip_Payload {
        var payload = Gossip_Payload()
        payload.seqNum = block.header.number
        do {
            payload.data = try block.encoded()
        } catch {
            throw DeliverError(.handoff, "block \(block.header.number) does not encode", cause: error)
        }
        return payload
    }

    /// The DataMessage that gossips `payload` on `channelID`.
    public static func dataMessage(_ payload: Gossip_Payload, channelID: String) -> Gossip_GossipMessage {
        var message = Gossip_GossipMessage()
        message.nonce = 0
        message.tag = .chanAndOrg
        message.channel = Data(channelID.utf8)
        message.dataMsg.payload = payload
        return message
    }
}
