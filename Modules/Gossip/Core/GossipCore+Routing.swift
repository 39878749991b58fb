internal import Logging
internal import OrderedCollections
internal import Wire

extension GossipCore {
    /// Queues a message in the emitter; returns the sends of a batch that the burst size flushed.
    mutating func emit(_ message: SignedGossipMessage, excluding: PKIID?, now: GossipInstant) -> [GossipAction] {
        let batch = self.emitter.add(message, excluding: excluding, now: now)
        return self.route(batch, now: now)
    }

    /// Fabric's `gossipBatch`: blocks → propagatePeerNum channel members of my org; leadership → every channel
    /// member of my org; StateInfo → channel members if the origin has an external endpoint, else my org;
    /// org-restricted messages (and alive messages of same-org peers without endpoint) → my org; other alive
    /// messages → peers chosen by the origin-org policy, secrets stripped towards other orgs. Never back to the
    /// peer a message came from.
    mutating func route(_ batch: [Emitter.Pending], now: GossipInstant) -> [GossipAction] {
        guard !batch.isEmpty else { return [] }
        var actions: [GossipAction] = []
        let alive = self.aliveMembers
        var orgPeers: [NetworkMember]?
        for pending in batch {
            let message = pending.message.message
            let notSender: (NetworkMember) -> Bool = { $0.pkiID != pending.excluding }
            switch message.content {
            case .dataMsg, .leadershipMsg:
                guard let state = self.channels[message.channelID] else { continue }
                let candidates = alive.filter {
                    state.isOrgInChannel(self.organization(of: $0.pkiID)) && self.isInMyOrg($0.pkiID)
                }
                let isLeadership: Bool
                if case .leadershipMsg = message.content { isLeadership = true } else { isLeadership = false }
                let chosen =
                    isLeadership ? candidates : self.random.choose(self.config.propagatePeerNum, from: candidates)
                actions += chosen.filter(notSender).map { .send(pending.message.envelope, to: $0.remotePeer) }
            case .stateInfo(let info):
                let origin = PKIID(info.pkiID)
                let channel = self.channelOf(message, sender: origin).flatMap { self.channels[$0] }
                let candidates: [NetworkMember]
                if let channel, self.hasExternalEndpoint(origin) {
                    candidates = alive.filter { channel.isOrgInChannel(self.organization(of: $0.pkiID)) }
                } else {
                    candidates = alive.filter { self.isInMyOrg($0.pkiID) }
                }
                let chosen = self.random.choose(self.config.propagatePeerNum, from: candidates.filter(notSender))
                actions += chosen.map { .send(pending.message.envelope, to: $0.remotePeer) }
            case .aliveMsg(let aliveMessage):
                let origin = PKIID(aliveMessage.membership.pkiID)
                let originOrg = self.organization(of: origin)
                if message.isOrgRestricted
                    || (aliveMessage.membership.endpoint.isEmpty && originOrg == self.selfOrganization)
                {
                    if orgPeers == nil {
                        orgPeers = self.random.choose(
                            self.config.propagatePeerNum,
                            from: alive.filter { self.isInMyOrg($0.pkiID) }
                        )
                    }
                    actions += orgPeers!.filter(notSender).map { .send(pending.message.envelope, to: $0.remotePeer) }
                    continue
                }
                guard let originOrg else { continue }
                let candidates = alive.filter { member in
                    guard notSender(member) else { return false }
                    if originOrg == self.selfOrganization { return true }
                    guard let memberOrg = self.organization(of: member.pkiID) else { return false }
                    return memberOrg == self.selfOrganization || memberOrg == originOrg
                }
                for peer in self.random.choose(self.config.propagatePeerNum, from: candidates) {
                    let peerInMyOrg = self.isInMyOrg(peer.pkiID)
                    // Alive messages of other organisations never go to peers without an external endpoint.
                    if originOrg != self.selfOrganization && !self.hasExternalEndpoint(peer.pkiID) { continue }
                    let envelope = peerInMyOrg ? pending.message.envelope : pending.message.withoutSecret.envelope
                    actions.append(.send(envelope, to: peer.remotePeer))
                }
            default:
                if message.isOrgRestricted {
                    if orgPeers == nil {
                        orgPeers = self.random.choose(
                            self.config.propagatePeerNum,
                            from: alive.filter { self.isInMyOrg($0.pkiID) }
                        )
                    }
                    actions += orgPeers!.filter(notSender).map { .send(pending.message.envelope, to: $0.remotePeer) }
                } else {
                    self.logger.error("no routing for gossiped \(message.contentName) message")
                }
            }
        }
        return actions
    }
}
