internal import Logging
public import Wire

extension GossipCore {
    /// Handles an envelope received on a connection: decode, store the handshake identity, pass-through kinds to
    /// consumers, tag legality, alive/StateInfo/leadership verification, then membership, identity pull or the
    /// channel the message belongs to. Bad input is dropped with a log line, never thrown.
    public mutating func receive(
        _ envelope: Gossip_Envelope,
        from connection: ConnectionInfo,
        now: GossipInstant
    ) -> [GossipAction] {
        guard self.started else { return [] }
        let signed: SignedGossipMessage
        do {
            signed = try SignedGossipMessage(envelope: envelope)
        } catch {
            self.logger.warning("dropping undecodable envelope from \(connection): \(error)")
            return []
        }
        if self.identities.lookup(connection.pkiID) == nil {
            do {
                try self.identities.put(connection.pkiID, identity: connection.identity, now: now)
            } catch {
                self.logger.warning("dropping \(signed.message.contentName) from \(connection): \(error)")
                return []
            }
        }
        let message = signed.message
        let received = ReceivedMessage(message: signed, connection: connection)
        if message.isPassThroughOnly {
            return [.deliver(received)]
        }
        do {
            try message.checkTagIsLegal()
        } catch {
            self.logger.warning("dropping message from \(connection): \(error)")
            return []
        }
        switch message.content {
        case .aliveMsg:
            guard self.validateAlive(signed, now: now) else {
                self.logger.warning("dropping alive message from \(connection): it does not verify")
                return []
            }
            return self.handleAlive(signed, from: connection, now: now)
        case .memReq(let request):
            return self.handleMembershipRequest(request, nonce: message.nonce, from: connection, now: now)
        case .memRes(let response):
            return self.handleMembershipResponse(response, now: now)
        case .stateRequest, .stateResponse:
            // Served and consumed by state transfer, which applies the channel Readers policy itself.
            return [.deliver(received)]
        default:
            break
        }
        if message.pullMessageType == .identityMsg {
            return self.handleIdentityPull(signed, from: connection, now: now)
        }
        if case .stateInfo = message.content {
            do {
                try self.validateStateInfo(signed, now: now)
            } catch {
                self.logger.warning("dropping StateInfo from \(connection): \(error)")
                return []
            }
        }
        if message.isChannelRestricted {
            return self.handleChannelMessage(signed, from: connection, now: now)
        }
        self.logger.debug("ignoring \(message.contentName) from \(connection)")
        return []
    }

    /// Checks a StateInfo message's signature with the stored identity of its pki_id.
    mutating func validateStateInfo(_ signed: SignedGossipMessage, now: GossipInstant) throws(GossipError) {
        guard case .stateInfo(let info)? = signed.message.content else {
            throw GossipError(.malformedMessage, "not a StateInfo message")
        }
        let identity = try self.identities.get(PKIID(info.pkiID), now: now)
        try signed.verify(identity: identity, using: self.mcs)
    }

    /// Checks a leadership message's signature with the stored identity of its pki_id.
    mutating func validateLeadership(_ signed: SignedGossipMessage, now: GossipInstant) throws(GossipError) {
        guard case .leadershipMsg(let leadership)? = signed.message.content, !leadership.pkiID.isEmpty else {
            throw GossipError(.malformedMessage, "leadership message has an empty PKI-ID")
        }
        let identity = try self.identities.get(PKIID(leadership.pkiID), now: now)
        try signed.verify(identity: identity, using: self.mcs)
    }
}
