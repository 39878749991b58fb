public import Gossip
public import Wire

/// What state transfer needs from gossip for one channel (Fabric's `GossipAdapter`).
public protocol StateGossipAdapter: Sendable {
    /// Block messages (DataMsg) of the channel that gossip has **already verified** (`verifyBlock`), pushed or
    /// pulled. Called once, when the provider is created, so nothing is missed before it runs.
    func blockMessages() -> AsyncStream<ReceivedMessage>

    /// RemoteStateRequest and RemoteStateResponse messages naming the channel, as received (the provider applies
    /// the Readers policy). Called once, when the provider is created.
    func stateMessages() -> AsyncStream<ReceivedMessage>

    /// Sends `message` unsigned to `peer` (requests).
    func send(_ message: Gossip_GossipMessage, to peer: RemotePeer)

    /// Sends `message` unsigned back to the peer of `connection` (responses).
    func reply(_ message: Gossip_GossipMessage, to connection: ConnectionInfo)

    /// The alive peers of the channel with their StateInfo properties (ledger height).
    func peersOfChannel() -> [NetworkMember]

    /// Publishes the ledger height in this peer's StateInfo.
    func updateLedgerHeight(_ height: UInt64)
}

/// The adapter over a ``GossipNode`` for one channel.
public struct GossipNodeStateAdapter: StateGossipAdapter {
    /// The node.
    public let node: GossipNode
    /// The channel.
    public let channel: ChannelID

    /// Creates an adapter.
    public init(node: GossipNode, channel: ChannelID) {
        self.node = node
        self.channel = channel
    }

    public func blockMessages() -> AsyncStream<ReceivedMessage> {
        let channel = self.channel
        return self.node.subscribe { received in
            guard case .dataMsg? = received.message.message.content else { return false }
            return received.message.message.channelID == channel
        }
    }

    public func stateMessages() -> AsyncStream<ReceivedMessage> {
        let channel = self.channel
        return self.node.subscribe { received in
            switch received.message.message.content {
            case .stateRequest?, .stateResponse?: return received.message.message.channelID == channel
            default: return false
            }
        }
    }

    public func send(_ message: Gossip_GossipMessage, to peer: RemotePeer) {
        try? self.node.send(message, to: [peer])
    }

    public func reply(_ message: Gossip_GossipMessage, to connection: ConnectionInfo) {
        let member = self.node.aliveMembers.first { $0.pkiID == connection.pkiID }
        let peer = member?.remotePeer ?? RemotePeer(endpoint: connection.endpoint, pkiID: connection.pkiID)
        try? self.node.send(message, to: [peer])
    }

    public func peersOfChannel() -> [NetworkMember] { self.node.peersOfChannel(self.channel) }

    public func updateLedgerHeight(_ height: UInt64) { self.node.updateLedgerHeight(height, channel: self.channel) }
}
