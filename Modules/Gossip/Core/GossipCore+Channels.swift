internal import Foundation
internal import Logging
internal import OrderedCollections
public import Wire

extension GossipCore {
    // MARK: - Channel API

    /// Joins or reconfigures `channel` (Fabric's `JoinChan`): a message without organisations is ignored, one with
    /// a lower sequence than applied is ignored (equal is accepted); otherwise the organisation list is replaced
    /// and cached StateInfo re-checked against it. Then every anchor peer (not self, non-empty host, port ≠ 0) is
    /// probed so it can be sent a membership request.
    public mutating func joinChannel(
        _ join: JoinChannelMessage,
        channel: ChannelID,
        now: GossipInstant
    ) -> [GossipAction] {
        if self.channels[channel] == nil {
            self.channels[channel] = ChannelState(id: channel, config: self.config, now: now)
        }
        guard !join.organizations.isEmpty else {
            self.logger.warning("join message of channel \(channel) has no organisations: ignored")
            return []
        }
        var state = self.channels[channel]!
        if let applied = state.joinSequence, join.sequence < applied {
            self.logger.warning(
                "join message of channel \(channel) has sequence \(join.sequence) < \(applied): ignored"
            )
        } else {
            state.organizations = join.organizations
            state.joinSequence = join.sequence
            state.anchorPeers = join.anchorPeers
            let lookup = self.organizationLookup()
            let gone = state.stateInfoStore.remove { message in
                guard case .stateInfo(let info)? = message.message.content else { return true }
                return !state.organizations.contains(lookup(PKIID(info.pkiID)) ?? "")
            }
            for old in gone {
                if case .stateInfo(let info)? = old.message.content { state.stateInfoByPeer[PKIID(info.pkiID)] = nil }
            }
        }
        self.channels[channel] = state
        var actions: [GossipAction] = []
        for anchor in join.anchorPeers {
            guard !anchor.host.isEmpty, anchor.port != 0 else { continue }
            let endpoint = anchor.endpoint
            guard endpoint != self.config.internalEndpoint, endpoint != self.config.externalEndpoint else { continue }
            self.anchorEndpoints.insert(endpoint)
            actions.append(.probe(RemotePeer(endpoint: endpoint)))
        }
        return actions
    }

    /// Leaves `channel`: the StateInfo is republished with left_channel, and peersOfChannel becomes empty.
    public mutating func leaveChannel(_ channel: ChannelID, now: GossipInstant) -> [GossipAction] {
        guard self.channels[channel] != nil else { return [] }
        self.channels[channel]!.leftChannel = true
        return self.refreshStateInfo(channel, now: now)
    }

    /// Publishes a new ledger height for `channel` (a new StateInfo, gossiped at the next publish interval).
    public mutating func updateLedgerHeight(_ height: UInt64, channel: ChannelID, now: GossipInstant) -> [GossipAction]
    {
        guard self.channels[channel] != nil else {
            self.logger.warning("no such channel \(channel) to update the ledger height of")
            return []
        }
        self.channels[channel]!.ledgerHeight = height
        return self.refreshStateInfo(channel, now: now)
    }

    /// Publishes the chaincodes installed on `channel`.
    public mutating func updateChaincodes(
        _ chaincodes: [Gossip_Chaincode],
        channel: ChannelID,
        now: GossipInstant
    ) -> [GossipAction] {
        guard self.channels[channel] != nil else { return [] }
        self.channels[channel]!.chaincodes = chaincodes
        return self.refreshStateInfo(channel, now: now)
    }

    /// The alive members whose organisation is in `channel`, that published a StateInfo there and have not left
    /// it, with their properties and StateInfo envelope. Empty if this peer left the channel.
    public func peersOfChannel(_ channel: ChannelID) -> [NetworkMember] {
        guard let state = self.channels[channel], !state.leftChannel else { return [] }
        var result: [NetworkMember] = []
        for record in self.members.values where record.isAlive {
            guard state.isOrgInChannel(self.organization(of: record.member.pkiID)),
                let stateInfo = state.stateInfoByPeer[record.member.pkiID],
                case .stateInfo(let info)? = stateInfo.message.content
            else { continue }
            if info.hasProperties && info.properties.leftChannel { continue }
            var member = record.member
            member.properties = info.hasProperties ? info.properties : nil
            member.envelope = stateInfo.envelope
            result.append(member)
        }
        return result
    }

    /// The own latest StateInfo of `channel`.
    public func selfChannelInfo(_ channel: ChannelID) -> SignedGossipMessage? { self.channels[channel]?.selfStateInfo }

    /// The organisations of `channel` as last joined.
    public func organizations(of channel: ChannelID) -> [String] { self.channels[channel]?.organizations ?? [] }

    /// The numbers of the blocks held for block pull in `channel`.
    public func blocksHeld(in channel: ChannelID) -> [UInt64] {
        (self.channels[channel]?.blockItems.keys.compactMap(ChannelState.blockNumber) ?? []).sorted()
    }

    // MARK: - StateInfo

    /// A StateInfo{pki_id, channel_MAC, timestamp {start ns, now ns}, properties}, tag CHAN_OR_ORG, no channel.
    mutating func refreshStateInfo(_ channel: ChannelID, now: GossipInstant) -> [GossipAction] {
        guard var state = self.channels[channel] else { return [] }
        var info = Gossip_StateInfo()
        info.pkiID = self.selfPKIID.bytes
        info.channelMac = ChannelMAC.of(self.selfPKIID, channel: channel)
        info.timestamp = Gossip_PeerTime(incNum: self.startTime.wireNanoseconds, seqNum: now.wireNanoseconds)
        var properties = Gossip_Properties()
        properties.ledgerHeight = state.ledgerHeight
        properties.leftChannel = state.leftChannel
        properties.chaincodes = state.chaincodes
        info.properties = properties
        do {
            let signed = try self.sign(Gossip_GossipMessage(tag: .chanOrOrg, content: .stateInfo(info)))
            _ = state.addStateInfo(signed, now: now)
            state.selfStateInfo = signed
            state.shouldGossipStateInfo = true
        } catch {
            self.logger.error("could not sign the StateInfo of \(channel): \(error)")
        }
        self.channels[channel] = state
        return []
    }

    // MARK: - Periodic channel work

    mutating func channelsTick(now: GossipInstant) -> [GossipAction] {
        var actions: [GossipAction] = []
        for channel in self.channels.keys {
            actions += self.channelTick(channel, now: now)
        }
        return actions
    }

    private mutating func channelTick(_ channel: ChannelID, now: GossipInstant) -> [GossipAction] {
        var actions: [GossipAction] = []
        var state = self.channels[channel]!
        if state.nextPublishStateInfo <= now {
            state.nextPublishStateInfo = now.advanced(by: self.config.publishStateInfoInterval)
            if state.shouldGossipStateInfo, let own = state.selfStateInfo {
                if !self.aliveMembers.isEmpty { state.shouldGossipStateInfo = false }
                self.channels[channel] = state
                actions += self.emit(own, excluding: nil, now: now)
                state = self.channels[channel]!
            }
        }
        if state.nextRequestStateInfo <= now {
            state.nextRequestStateInfo = now.advanced(by: self.config.requestStateInfoInterval)
            let candidates = self.aliveMembers.filter { state.isOrgInChannel(self.organization(of: $0.pkiID)) }
            let chosen = self.random.choose(self.config.pullPeerNum, from: candidates)
            var request = Gossip_StateInfoPullRequest()
            request.channelMac = ChannelMAC.of(self.selfPKIID, channel: channel)
            let message = Gossip_GossipMessage(tag: .chanOrOrg, content: .stateInfoPullReq(request))
            actions += (try? self.send(message, to: chosen.map(\.remotePeer))) ?? []
        }
        if state.nextBlockPull <= now {
            state.nextBlockPull = now.advanced(by: self.config.pullInterval)
            if !state.leftChannel {
                let candidates = self.peersOfChannel(channel).filter { self.isInMyOrg($0.pkiID) }
                let chosen = self.random.choose(self.config.pullPeerNum, from: candidates)
                let outputs = state.blockPull.initiatePull(peers: chosen.map(\.pkiID), now: now, random: &self.random)
                actions += self.blockPullOutputs(outputs, channel: channel, state: state)
            }
        }
        let outputs = state.blockPull.tick(now: now, random: &self.random)
        actions += self.blockPullOutputs(outputs, channel: channel, state: state)
        if state.nextSweep <= now {
            state.nextSweep = now.advanced(by: self.config.stateInfoCacheSweepInterval)
            let members = self.members
            let selfPKIID = self.selfPKIID
            state.sweep(now: now) { pkiID in pkiID == selfPKIID || members[pkiID]?.isAlive == true }
        }
        self.channels[channel] = state
        return actions
    }

    private func blockPullOutputs(
        _ outputs: [PullEngine.Output],
        channel: ChannelID,
        state: ChannelState
    ) -> [GossipAction] {
        outputs.compactMap { output -> GossipAction? in
            let message: Gossip_GossipMessage
            let target: PKIID
            switch output {
            case .hello(let peer, let nonce):
                var hello = Gossip_GossipHello()
                hello.nonce = nonce
                hello.msgType = .blockMsg
                message = Gossip_GossipMessage(channel: channel, tag: .chanAndOrg, content: .hello(hello))
                target = peer
            case .request(let peer, let items, let nonce):
                var request = Gossip_DataRequest()
                request.nonce = nonce
                request.digests = items
                request.msgType = .blockMsg
                message = Gossip_GossipMessage(channel: channel, tag: .chanAndOrg, content: .dataReq(request))
                target = peer
            }
            guard let member = self.member(target), let signed = try? SignedGossipMessage.noopSign(message) else {
                return nil
            }
            return .send(signed.envelope, to: member.remotePeer)
        }
    }

    // MARK: - Receiving channel messages

    /// Finds the channel of a channel-restricted message: StateInfo by the MAC of its pki_id, a StateInfo pull
    /// request by the MAC of the sender, anything else by its channel field.
    func channelOf(_ message: Gossip_GossipMessage, sender: PKIID) -> ChannelID? {
        switch message.content {
        case .stateInfo(let info)?:
            return self.channels.keys.first { ChannelMAC.of(PKIID(info.pkiID), channel: $0) == info.channelMac }
        case .stateInfoPullReq(let request)?:
            return self.channels.keys.first { ChannelMAC.of(sender, channel: $0) == request.channelMac }
        default:
            let channel = message.channelID
            return self.channels[channel] == nil ? nil : channel
        }
    }

    mutating func handleChannelMessage(
        _ signed: SignedGossipMessage,
        from connection: ConnectionInfo,
        now: GossipInstant
    ) -> [GossipAction] {
        let message = signed.message
        guard let channel = self.channelOf(message, sender: connection.pkiID) else {
            // Not in the channel: still forward StateInfo of same-org senders within the org.
            if case .stateInfo = message.content, self.isInMyOrg(connection.pkiID),
                self.foreignStateInfo.add(signed, now: now).added
            {
                return self.emit(signed, excluding: connection.pkiID, now: now)
            }
            self.logger.debug("no channel for \(message.contentName) from \(connection): dropped")
            return []
        }
        if case .leadershipMsg = message.content {
            do {
                try self.validateLeadership(signed, now: now)
            } catch {
                self.logger.warning("dropping leadership message from \(connection): \(error)")
                return []
            }
        }
        var state = self.channels[channel]!
        defer { self.channels[channel] = state }
        let senderOrg = self.organization(of: connection.pkiID)
        guard state.isOrgInChannel(senderOrg) else {
            self.logger.warning(
                "message from \(connection) of org \(senderOrg ?? "?"), which is not eligible for channel \(channel)"
            )
            return []
        }
        let received = ReceivedMessage(message: signed, connection: connection)
        switch message.content {
        case .stateInfoPullReq:
            var snapshot = Gossip_StateInfoSnapshot()
            snapshot.elements = self.stateInfoSnapshot(state, requesterOrg: senderOrg)
            // The oneof must be set even when there are no elements, or Fabric rejects the snapshot.
            let reply = Gossip_GossipMessage(
                nonce: message.nonce,
                channel: channel,
                tag: .chanOrOrg,
                content: .stateSnapshot(snapshot)
            )
            return (try? self.send(reply, to: [self.replyAddress(connection)])) ?? []
        case .stateSnapshot(let snapshot):
            self.handleStateInfoSnapshot(snapshot, state: &state, from: connection, now: now)
            return []
        case .dataMsg(let data):
            guard data.hasPayload else {
                self.logger.warning("block message from \(connection) has no payload")
                return []
            }
            guard state.blockStore.checkValid(signed) else { return [] }
            do {
                try self.mcs.verifyBlock(channel: channel, sequence: data.payload.seqNum, block: data.payload.data)
            } catch {
                self.logger.warning(
                    "block \(data.payload.seqNum) of \(channel) from \(connection) does not verify: \(error)"
                )
                return []
            }
            guard state.addBlock(signed, now: now) else { return [] }
            self.channels[channel] = state
            var actions = self.emit(signed, excluding: connection.pkiID, now: now)
            state = self.channels[channel]!
            actions.append(.deliver(received))
            return actions
        case .stateInfo:
            guard state.addStateInfo(signed, now: now) else { return [] }
            self.channels[channel] = state
            var actions = self.emit(signed, excluding: connection.pkiID, now: now)
            state = self.channels[channel]!
            actions.append(.deliver(received))
            return actions
        case .hello, .dataDig, .dataReq, .dataUpdate:
            return self.handleBlockPull(signed, state: &state, from: connection, now: now)
        case .leadershipMsg(let leadership):
            let leaderOrg = self.organization(of: PKIID(leadership.pkiID))
            guard senderOrg == self.selfOrganization, leaderOrg == self.selfOrganization else {
                self.logger.warning("dropping leadership message of a foreign organisation from \(connection)")
                return []
            }
            guard state.leaderStore.add(signed, now: now).added else { return [] }
            return [.deliver(received)]
        default:
            return []
        }
    }

    /// Where to answer a peer: its membership address when known, else the address of the connection.
    func replyAddress(_ connection: ConnectionInfo) -> RemotePeer {
        if let member = self.member(connection.pkiID) { return member.remotePeer }
        return RemotePeer(endpoint: connection.endpoint, pkiID: connection.pkiID)
    }

    /// The StateInfo snapshot for a requester: everything for the own org or foreign-org messages; own-org peers
    /// without an external endpoint are withheld from foreign requesters.
    func stateInfoSnapshot(_ state: ChannelState, requesterOrg: String?) -> [Gossip_Envelope] {
        let sameOrg = requesterOrg == self.selfOrganization
        return state.stateInfoStore.messages.compactMap { message in
            guard case .stateInfo(let info)? = message.message.content else { return nil }
            let pkiID = PKIID(info.pkiID)
            if sameOrg || self.organization(of: pkiID) != self.selfOrganization { return message.envelope }
            return self.hasExternalEndpoint(pkiID) ? message.envelope : nil
        }
    }

    private mutating func handleStateInfoSnapshot(
        _ snapshot: Gossip_StateInfoSnapshot,
        state: inout ChannelState,
        from connection: ConnectionInfo,
        now: GossipInstant
    ) {
        for envelope in snapshot.elements {
            guard let element = try? SignedGossipMessage(envelope: envelope),
                case .stateInfo(let info)? = element.message.content
            else {
                self.logger.warning(
                    "StateInfo snapshot of \(state.id) from \(connection) holds a non-StateInfo element"
                )
                return
            }
            let pkiID = PKIID(info.pkiID)
            // Already known (same or newer): nothing to verify.
            guard state.stateInfoStore.checkValid(element) else { continue }
            guard let organization = self.organization(of: pkiID) else { continue }
            guard state.isOrgInChannel(organization) else {
                self.logger.warning(
                    "StateInfo snapshot of \(state.id) from \(connection): \(pkiID) is of org \(organization), not in the channel"
                )
                return
            }
            guard ChannelMAC.of(pkiID, channel: state.id) == info.channelMac else {
                self.logger.warning(
                    "StateInfo snapshot of \(state.id) from \(connection): element of \(pkiID) has a wrong MAC"
                )
                return
            }
            do {
                try self.validateStateInfo(element, now: now)
            } catch {
                self.logger.warning("StateInfo snapshot of \(state.id) from \(connection): \(error)")
                return
            }
            guard pkiID == self.selfPKIID || self.members[pkiID] != nil else { continue }
            _ = state.addStateInfo(element, now: now)
        }
    }

    private mutating func handleBlockPull(
        _ signed: SignedGossipMessage,
        state: inout ChannelState,
        from connection: ConnectionInfo,
        now: GossipInstant
    ) -> [GossipAction] {
        guard !state.leftChannel else { return [] }
        guard state.stateInfoByPeer[connection.pkiID] != nil else {
            self.logger.debug("no StateInfo of \(connection) in \(state.id): block pull message dropped")
            return []
        }
        guard self.isInMyOrg(connection.pkiID) else {
            self.logger.warning("\(connection) isn't eligible for pulling blocks of \(state.id)")
            return []
        }
        let channel = state.id
        let reply = self.replyAddress(connection)
        switch signed.message.content {
        case .hello(let hello):
            guard let digest = state.blockPull.onHello(nonce: hello.nonce, now: now) else { return [] }
            var message = Gossip_DataDigest()
            message.nonce = hello.nonce
            message.digests = digest
            message.msgType = .blockMsg
            let envelope = Gossip_GossipMessage(channel: channel, tag: .chanAndOrg, content: .dataDig(message))
            return (try? self.send(envelope, to: [reply])) ?? []
        case .dataDig(let digest):
            let height = state.ledgerHeight
            let wanted = digest.digests.filter { item in
                guard let number = ChannelState.blockNumber(item) else { return false }
                return number >= height
            }
            state.blockPull.onDigest(wanted, nonce: digest.nonce)
            return []
        case .dataReq(let request):
            guard let items = state.blockPull.onRequest(request.digests, nonce: request.nonce, now: now) else {
                return []
            }
            var update = Gossip_DataUpdate()
            update.nonce = request.nonce
            update.msgType = .blockMsg
            update.data = items.compactMap { state.blockItems[$0]?.envelope }
            let envelope = Gossip_GossipMessage(channel: channel, tag: .chanAndOrg, content: .dataUpdate(update))
            return (try? self.send(envelope, to: [reply])) ?? []
        case .dataUpdate(let update):
            var blocks: [SignedGossipMessage] = []
            for item in update.data {
                guard let block = try? SignedGossipMessage(envelope: item) else {
                    self.logger.warning("block update of \(channel) from \(connection) holds an undecodable item")
                    return []
                }
                guard block.message.channel == Data(channel.utf8) else {
                    self.logger.warning(
                        "block update of \(channel) from \(connection) holds an item of channel \(block.message.channelID)"
                    )
                    return []
                }
                guard case .dataMsg(let data)? = block.message.content, data.hasPayload else {
                    self.logger.warning("block update of \(channel) from \(connection) holds a non-block item")
                    return []
                }
                do {
                    try self.mcs.verifyBlock(channel: channel, sequence: data.payload.seqNum, block: data.payload.data)
                } catch {
                    self.logger.warning("received fabricated block \(data.payload.seqNum) from \(connection): \(error)")
                    return []
                }
                blocks.append(block)
            }
            guard state.blockPull.acceptsResponse(nonce: update.nonce) else { return [] }
            var actions: [GossipAction] = []
            var accepted: [Data] = []
            for block in blocks where state.addBlock(block, now: now) {
                if case .dataMsg(let data)? = block.message.content {
                    accepted.append(ChannelState.blockDigest(data.payload.seqNum))
                }
                actions.append(.deliver(ReceivedMessage(message: block, connection: connection)))
            }
            state.blockPull.onResponse(accepted, nonce: update.nonce)
            return actions
        default:
            return []
        }
    }
}
