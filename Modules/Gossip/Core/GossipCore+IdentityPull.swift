internal import Foundation
internal import Logging
internal import OrderedCollections
internal import Wire

extension GossipCore {
    /// Starts an identity pull round with pullPeerNum random alive members.
    mutating func startIdentityPull(now: GossipInstant) -> [GossipAction] {
        let chosen = self.random.choose(self.config.pullPeerNum, from: self.aliveMembers)
        let outputs = self.identityPull.initiatePull(peers: chosen.map(\.pkiID), now: now, random: &self.random)
        return self.identityPullOutputs(outputs)
    }

    mutating func identityPullTick(now: GossipInstant) -> [GossipAction] {
        self.identityPullOutputs(self.identityPull.tick(now: now, random: &self.random))
    }

    private func identityPullOutputs(_ outputs: [PullEngine.Output]) -> [GossipAction] {
        outputs.compactMap { output -> GossipAction? in
            let message: Gossip_GossipMessage
            let target: PKIID
            switch output {
            case .hello(let peer, let nonce):
                var hello = Gossip_GossipHello()
                hello.nonce = nonce
                hello.msgType = .identityMsg
                message = Gossip_GossipMessage(tag: .empty, content: .hello(hello))
                target = peer
            case .request(let peer, let items, let nonce):
                var request = Gossip_DataRequest()
                request.nonce = nonce
                request.digests = items
                request.msgType = .identityMsg
                message = Gossip_GossipMessage(tag: .empty, content: .dataReq(request))
                target = peer
            }
            guard let member = self.member(target), let signed = try? SignedGossipMessage.noopSign(message) else {
                return nil
            }
            return .send(signed.envelope, to: member.remotePeer)
        }
    }

    /// Checks a pulled PeerIdentity item: a PeerIdentity message, signed by the cert it carries, whose PKI-ID is
    /// the cert's; then puts the cert into the identity store (which validates it).
    mutating func acceptIdentityItem(_ item: SignedGossipMessage, now: GossipInstant) throws(GossipError) -> PKIID {
        guard case .peerIdentity(let peerIdentity)? = item.message.content else {
            throw GossipError(
                .malformedMessage,
                "identity update item is \(item.message.contentName), not peer_identity"
            )
        }
        let pkiID = PKIID(peerIdentity.pkiID)
        let computed = try self.mcs.pkiID(of: peerIdentity.cert)
        guard computed == pkiID else {
            throw GossipError(.invalidIdentity, "peer_identity claims \(pkiID.hex) but its cert has \(computed.hex)")
        }
        try item.verify(identity: peerIdentity.cert, using: self.mcs)
        try self.mcs.validateIdentity(peerIdentity.cert)
        return pkiID
    }

    /// Identity pull messages (tag EMPTY, no channel): digests are raw PKI-IDs; an update is rejected whole when
    /// one item fails ``acceptIdentityItem(_:now:)``.
    mutating func handleIdentityPull(
        _ signed: SignedGossipMessage,
        from connection: ConnectionInfo,
        now: GossipInstant
    ) -> [GossipAction] {
        let reply = self.replyAddress(connection)
        switch signed.message.content {
        case .hello(let hello):
            guard let digest = self.identityPull.onHello(nonce: hello.nonce, now: now) else { return [] }
            var message = Gossip_DataDigest()
            message.nonce = hello.nonce
            message.digests = digest
            message.msgType = .identityMsg
            return (try? self.send(Gossip_GossipMessage(tag: .empty, content: .dataDig(message)), to: [reply])) ?? []
        case .dataDig(let digest):
            self.identityPull.onDigest(digest.digests, nonce: digest.nonce)
            return []
        case .dataReq(let request):
            guard let items = self.identityPull.onRequest(request.digests, nonce: request.nonce, now: now) else {
                return []
            }
            var update = Gossip_DataUpdate()
            update.nonce = request.nonce
            update.msgType = .identityMsg
            update.data = items.compactMap { self.identityItems[PKIID($0)]?.envelope }
            return (try? self.send(Gossip_GossipMessage(tag: .empty, content: .dataUpdate(update)), to: [reply])) ?? []
        case .dataUpdate(let update):
            var accepted: [(PKIID, SignedGossipMessage)] = []
            for envelope in update.data {
                do {
                    let item = try SignedGossipMessage(envelope: envelope)
                    accepted.append((try self.acceptIdentityItem(item, now: now), item))
                } catch {
                    self.logger.warning("identity update from \(connection) rejected: \(error)")
                    return []
                }
            }
            guard self.identityPull.acceptsResponse(nonce: update.nonce) else { return [] }
            var ids: [Data] = []
            for (pkiID, item) in accepted {
                guard case .peerIdentity(let peerIdentity)? = item.message.content else { continue }
                do {
                    try self.identities.put(pkiID, identity: peerIdentity.cert, now: now)
                } catch {
                    self.logger.warning("identity of \(pkiID) from \(connection) refused: \(error)")
                    continue
                }
                self.identityItems[pkiID] = item
                ids.append(pkiID.bytes)
            }
            self.identityPull.onResponse(ids, nonce: update.nonce)
            return []
        default:
            return []
        }
    }

    /// Re-validates the identities `isSuspected` selects (Fabric's `SuspectPeers`), removing those that no longer
    /// validate; their connections are closed and they leave membership.
    public mutating func suspectPeers(_ isSuspected: (StoredIdentity) -> Bool) -> [GossipAction] {
        let removed = self.identities.suspect(isSuspected)
        for pkiID in removed {
            self.identityItems[pkiID] = nil
            self.identityPull.remove([pkiID.bytes])
            self.members[pkiID] = nil
        }
        return removed.map { .closeConnection($0) }
    }
}
