public import Wire

extension Gossip_GossipMessage {
    /// Checks the tag legality rules of §10.3: UNDEFINED is always illegal; each message type has the one tag it
    /// may carry; pull messages depend on their pull type. The error names the message type and the tag.
    ///
    /// Receivers drop messages that fail; Fabric's `Gossip()` panics on them, this port throws instead.
    public func checkTagIsLegal() throws(GossipError) {
        if self.tag == .undefined {
            throw GossipError(.illegalTag, "\(self.contentName) message has tag UNDEFINED, which is never legal")
        }
        let required: Gossip_GossipMessage.Tag
        switch self.content {
        case .dataMsg, .leadershipMsg:
            required = .chanAndOrg
        case .aliveMsg, .memReq, .memRes:
            required = .empty
        case .peerIdentity:
            required = .orgOnly
        case .hello, .dataDig, .dataReq, .dataUpdate:
            switch self.pullMessageType {
            case .blockMsg?: required = .chanAndOrg
            case .identityMsg?: required = .empty
            default:
                throw GossipError(
                    .illegalTag,
                    "\(self.contentName) message has pull type \(String(describing: self.pullMessageType)), "
                        + "which is neither BLOCK_MSG nor IDENTITY_MSG"
                )
            }
        case .stateInfo, .stateInfoPullReq, .stateSnapshot, .stateRequest, .stateResponse:
            required = .chanOrOrg
        default:
            throw GossipError(
                .illegalTag,
                "unknown message type \(self.contentName) (tag \(self.tag.name)) for the tag legality check"
            )
        }
        guard self.tag == required else {
            throw GossipError(
                .illegalTag,
                "\(self.contentName) message has tag \(self.tag.name), but must have \(required.name)"
            )
        }
    }
}
