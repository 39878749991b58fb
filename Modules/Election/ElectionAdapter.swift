public import Gossip
public import Wire

/// What leader election needs from gossip for one channel (Fabric's election adapter).
public protocol ElectionAdapter: Sendable {
    /// Gossips a leadership message (signed by gossip, routed to every channel peer of the own org).
    func gossip(_ message: Gossip_GossipMessage)

    /// Verified leadership messages of the channel from peers of the own organisation. One consumer.
    func leadershipMessages() -> any AsyncSequence<LeadershipMessage, Never>

    /// The view: alive peers of the channel in the own organisation, excluding self.
    func peers() -> [PKIID]
}

/// The election adapter over a ``GossipNode`` for one channel.
public struct GossipElectionAdapter: ElectionAdapter {
    /// The node.
    public let node: GossipNode
    /// The channel.
    public let channel: ChannelID

    /// Creates an adapter.
    public init(node: GossipNode, channel: ChannelID) {
        self.node = node
        self.channel = channel
    }

    public func gossip(_ message: Gossip_GossipMessage) {
        do {
            try self.node.gossip(message)
        } catch {
            // Only a programming error (wrong tag) or an unknown channel gets here; election carries on.
        }
    }

    public func leadershipMessages() -> any AsyncSequence<LeadershipMessage, Never> {
        let channel = self.channel
        return self.node
            .subscribe { LeadershipMessage($0.message.message, channel: channel) != nil }
            .compactMap { LeadershipMessage($0.message.message, channel: channel) }
    }

    public func peers() -> [PKIID] {
        let organization = self.node.organization
        return self.node.peersOfChannel(self.channel)
            .filter { self.node.organization(of: $0.pkiID) == organization }
            .map(\.pkiID)
    }
}
