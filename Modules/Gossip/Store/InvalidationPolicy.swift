public import Wire

/// Fabric's message comparator (`protoext.NewGossipMessageComparator`): which gossip message replaces which.
public enum InvalidationPolicy {
    /// Compares two timestamps of the same peer: newer replaces, older or equal is stale.
    public static func compare(_ new: Gossip_PeerTime, _ stored: Gossip_PeerTime) -> Invalidation {
        if new.incNum == stored.incNum {
            return new.seqNum > stored.seqNum ? .invalidates : .invalidated
        }
        return new.incNum < stored.incNum ? .invalidated : .invalidates
    }

    /// The policy for any two gossip messages, with blocks kept within `blockStorageSize` of the newest
    /// (0 keeps every block).
    public static func gossip(
        blockStorageSize: Int
    ) -> @Sendable (SignedGossipMessage, SignedGossipMessage) -> Invalidation {
        { new, stored in Self.compare(new.message, stored.message, blockStorageSize: blockStorageSize) }
    }

    /// Compares two messages (the same rules as ``gossip(blockStorageSize:)``).
    public static func compare(
        _ new: Gossip_GossipMessage,
        _ stored: Gossip_GossipMessage,
        blockStorageSize: Int
    ) -> Invalidation {
        switch (new.content, stored.content) {
        case (.aliveMsg(let a)?, .aliveMsg(let b)?):
            guard a.membership.pkiID == b.membership.pkiID else { return .noAction }
            return Self.compare(a.timestamp, b.timestamp)
        case (.stateInfo(let a)?, .stateInfo(let b)?):
            guard a.pkiID == b.pkiID else { return .noAction }
            return Self.compare(a.timestamp, b.timestamp)
        case (.leadershipMsg(let a)?, .leadershipMsg(let b)?):
            guard a.pkiID == b.pkiID else { return .noAction }
            return Self.compare(a.timestamp, b.timestamp)
        case (.peerIdentity(let a)?, .peerIdentity(let b)?):
            return a.pkiID == b.pkiID ? .invalidated : .noAction
        case (.dataMsg(let a)?, .dataMsg(let b)?):
            let x = a.payload.seqNum
            let y = b.payload.seqNum
            if x == y { return .invalidated }
            if blockStorageSize == 0 { return .noAction }
            let diff = x > y ? x - y : y - x
            if diff <= UInt64(blockStorageSize) { return .noAction }
            return x > y ? .invalidates : .invalidated
        default:
            return .noAction
        }
    }
}
