public import Wire

extension Gossip_GossipMessage {
    /// The proto name of the content case (`alive_msg`, `data_msg`, …), or `none`: used in logs and errors.
    public var contentName: String {
        switch self.content {
        case .aliveMsg: "alive_msg"
        case .memReq: "mem_req"
        case .memRes: "mem_res"
        case .dataMsg: "data_msg"
        case .hello: "hello"
        case .dataDig: "data_dig"
        case .dataReq: "data_req"
        case .dataUpdate: "data_update"
        case .empty: "empty"
        case .conn: "conn"
        case .stateInfo: "state_info"
        case .stateSnapshot: "state_snapshot"
        case .stateInfoPullReq: "state_info_pull_req"
        case .stateRequest: "state_request"
        case .stateResponse: "state_response"
        case .leadershipMsg: "leadership_msg"
        case .peerIdentity: "peer_identity"
        case .ack: "ack"
        case .privateReq: "privateReq"
        case .privateRes: "privateRes"
        case .privateData: "private_data"
        case nil: "none"
        }
    }

    /// The pull message type of a hello, digest, request or update; nil for other messages.
    public var pullMessageType: Gossip_PullMsgType? {
        switch self.content {
        case .hello(let m): m.msgType
        case .dataDig(let m): m.msgType
        case .dataReq(let m): m.msgType
        case .dataUpdate(let m): m.msgType
        default: nil
        }
    }

    /// Whether the message is one of the four pull-protocol messages.
    public var isPullMessage: Bool { self.pullMessageType != nil }

    /// Whether the tag restricts the message to a channel (CHAN_AND_ORG, CHAN_ONLY, CHAN_OR_ORG).
    public var isChannelRestricted: Bool {
        self.tag == .chanAndOrg || self.tag == .chanOnly || self.tag == .chanOrOrg
    }

    /// Whether the tag restricts the message to the organisation (CHAN_AND_ORG, ORG_ONLY).
    public var isOrgRestricted: Bool { self.tag == .chanAndOrg || self.tag == .orgOnly }

    /// Whether the message is only handed to pass-through consumers, never processed by the gossip core:
    /// handshake, keep-alive, private data (their tags are never checked) and acks (consumed by comm).
    public var isPassThroughOnly: Bool {
        switch self.content {
        case .conn, .empty, .privateReq, .privateRes, .privateData, .ack: true
        default: false
        }
    }

    /// The channel as a string (empty when unset).
    public var channelID: ChannelID { String(decoding: self.channel, as: UTF8.self) }
}

extension Gossip_GossipMessage.Tag {
    /// The proto name of the tag.
    public var name: String {
        switch self {
        case .undefined: "UNDEFINED"
        case .empty: "EMPTY"
        case .orgOnly: "ORG_ONLY"
        case .chanOnly: "CHAN_ONLY"
        case .chanAndOrg: "CHAN_AND_ORG"
        case .chanOrOrg: "CHAN_OR_ORG"
        case .UNRECOGNIZED(let value): "UNRECOGNIZED(\(value))"
        }
    }
}

extension Gossip_PeerTime {
    /// Creates a timestamp.
    public init(incNum: UInt64, seqNum: UInt64) {
        self.init()
        self.incNum = incNum
        self.seqNum = seqNum
    }

    /// Whether `self` is strictly newer than `other`: greater inc_num, or equal inc_num and greater seq_num.
    public func isNewer(than other: Gossip_PeerTime) -> Bool {
        if self.incNum != other.incNum { return self.incNum > other.incNum }
        return self.seqNum > other.seqNum
    }
}
