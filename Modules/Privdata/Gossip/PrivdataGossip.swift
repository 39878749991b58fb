public import ChannelConfig
public import Foundation
public import Gossip
public import Wire

/// The gossip side of the private-data services of one channel (the puller, the distributor, the push
/// receiver), so that their logic runs over a real ``GossipNode`` or a local double in tests.
public protocol PrivdataGossip: Sendable {
    /// The channel.
    var channelID: ChannelID { get }
    /// Private-data requests, responses and pushes of this channel (pass-through messages), as they arrive.
    func privateMessages() -> AsyncStream<ReceivedMessage>
    /// Sends `message` unsigned to `peer`.
    func send(_ message: Gossip_GossipMessage, to peer: RemotePeer)
    /// Sends `message` to `peers` and waits for acknowledgements (see ``GossipNode/sendWithAck(_:to:minAck:timeout:)``).
    func sendWithAck(
        _ message: Gossip_GossipMessage,
        to peers: [RemotePeer],
        minAck: Int,
        timeout: Duration
    ) async throws -> AckResults
    /// Acknowledges a received push (`error` empty on success).
    func acknowledge(_ received: ReceivedMessage, error: String)
    /// The alive peers of the channel with their StateInfo envelopes and properties.
    func peersOfChannel() -> [NetworkMember]
    /// The serialised identity and organisation of a peer, when known.
    func identity(of pkiID: PKIID) -> (identity: Data, organization: String?)?
}

extension PrivdataGossip {
    /// A channel peer as a collection's access filter judges it: its latest StateInfo envelope (payload and
    /// signature) with its identity; nil when either is unknown.
    public func signedData(of member: NetworkMember) -> SignedData? {
        guard let envelope = member.envelope, let identity = self.identity(of: member.pkiID)?.identity else {
            return nil
        }
        return SignedData(data: envelope.payload, identity: identity, signature: envelope.signature)
    }
}

/// ``PrivdataGossip`` over a real ``GossipNode``.
public struct GossipNodePrivdataAdapter: PrivdataGossip {
    /// The node.
    public let node: GossipNode
    public let channelID: ChannelID

    /// Creates the adapter for `channel` of `node`.
    public init(node: GossipNode, channel: ChannelID) {
        self.node = node
        self.channelID = channel
    }

    public func privateMessages() -> AsyncStream<ReceivedMessage> {
        let channel = self.channelID
        return self.node.subscribe { received in
            switch received.message.message.content {
            case .privateReq, .privateRes, .privateData: return received.channel == channel
            default: return false
            }
        }
    }

    public func send(_ message: Gossip_GossipMessage, to peer: RemotePeer) {
        try? self.node.send(message, to: [peer])
    }

    public func sendWithAck(
        _ message: Gossip_GossipMessage,
        to peers: [RemotePeer],
        minAck: Int,
        timeout: Duration
    ) async throws -> AckResults {
        try await self.node.sendWithAck(message, to: peers, minAck: minAck, timeout: timeout)
    }

    public func acknowledge(_ received: ReceivedMessage, error: String) {
        try? self.node.acknowledge(received, error: error)
    }

    public func peersOfChannel() -> [NetworkMember] { self.node.peersOfChannel(self.channelID) }

    public func identity(of pkiID: PKIID) -> (identity: Data, organization: String?)? {
        self.node.inspect { core in
            core.identities.lookup(pkiID).map { ($0.identity, $0.organization) }
        }
    }
}
