internal import Foundation
public import Gossip
public import Wire

/// A leadership message as election sees it: who sent it, proposal or declaration, and its timestamp.
public struct LeadershipMessage: Sendable, Hashable {
    /// The sender's PKI-ID (the message's pki_id, checked by gossip against the signature).
    public var senderID: PKIID
    /// Declaration (true) or proposal (false).
    public var isDeclaration: Bool
    /// The message timestamp.
    public var timestamp: Gossip_PeerTime

    /// Creates a message.
    public init(senderID: PKIID, isDeclaration: Bool, timestamp: Gossip_PeerTime = Gossip_PeerTime()) {
        self.senderID = senderID
        self.isDeclaration = isDeclaration
        self.timestamp = timestamp
    }

    /// The leadership message inside `message` if it is one for `channel`: tag CHAN_AND_ORG, leadership content,
    /// matching channel (what Fabric's election adapter accepts); nil otherwise.
    public init?(_ message: Gossip_GossipMessage, channel: ChannelID) {
        guard message.tag == .chanAndOrg, message.channel == Data(channel.utf8),
            case .leadershipMsg(let leadership)? = message.content, !leadership.pkiID.isEmpty
        else { return nil }
        self.init(
            senderID: PKIID(leadership.pkiID),
            isDeclaration: leadership.isDeclaration,
            timestamp: leadership.timestamp
        )
    }
}

/// Makes this peer's leadership messages for one channel: pki_id, timestamp {inc_num = creation time in ns,
/// seq_num = ++counter}, nonce 0, tag CHAN_AND_ORG, channel set (Fabric's adapter `CreateMessage`).
public struct LeadershipMessageFactory: Sendable {
    /// This peer's PKI-ID.
    public let pkiID: PKIID
    /// The channel.
    public let channel: ChannelID
    /// The incarnation number: creation time in nanoseconds.
    public let incNum: UInt64
    private var sequence: UInt64 = 0

    /// Creates a factory; `createdAt` gives inc_num.
    public init(pkiID: PKIID, channel: ChannelID, createdAt: GossipInstant) {
        self.pkiID = pkiID
        self.channel = channel
        self.incNum = createdAt.wireNanoseconds
    }

    /// The next message.
    public mutating func make(isDeclaration: Bool) -> Gossip_GossipMessage {
        self.sequence += 1
        var leadership = Gossip_LeadershipMessage()
        leadership.pkiID = self.pkiID.bytes
        leadership.isDeclaration = isDeclaration
        leadership.timestamp = Gossip_PeerTime(incNum: self.incNum, seqNum: self.sequence)
        return Gossip_GossipMessage(
            nonce: 0,
            channel: self.channel,
            tag: .chanAndOrg,
            content: .leadershipMsg(leadership)
        )
    }
}
