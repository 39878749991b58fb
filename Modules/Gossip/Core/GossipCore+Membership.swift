internal import Foundation
internal import Logging
internal import OrderedCollections
internal import Wire

extension GossipCore {
    // MARK: - Alive messages

    /// The own alive message: Member{external endpoint, pki_id}, PeerTime{start ns, ++seq}, the identity during the
    /// first publishCertPeriod, and the internal endpoint in a signed secret envelope.
    mutating func makeAlive(now: GossipInstant) throws(GossipError) -> SignedGossipMessage {
        self.aliveSequence += 1
        var alive = Gossip_AliveMessage()
        var member = Gossip_Member()
        member.endpoint = self.config.externalEndpoint
        member.pkiID = self.selfPKIID.bytes
        alive.membership = member
        alive.timestamp = Gossip_PeerTime(incNum: self.startTime.wireNanoseconds, seqNum: self.aliveSequence)
        if now < self.startTime.advanced(by: self.config.publishCertPeriod) {
            alive.identity = self.selfIdentity
        }
        var signed = try self.sign(Gossip_GossipMessage(tag: .empty, content: .aliveMsg(alive)))
        if !self.config.internalEndpoint.isEmpty {
            let mcs = self.mcs
            try signed.signSecret(internalEndpoint: self.config.internalEndpoint) { (payload) throws(GossipError) in
                try mcs.sign(payload)
            }
        }
        self.selfAlive = signed
        return signed
    }

    mutating func sendAlive(now: GossipInstant) -> [GossipAction] {
        do {
            let alive = try self.makeAlive(now: now)
            return self.emit(alive, excluding: nil, now: now)
        } catch {
            self.logger.error("could not create the alive message: \(error)")
            return []
        }
    }

    /// Alive validation (Fabric's `ValidateAliveMsg`): membership and pki_id present, signed; the identity it
    /// carries goes into the identity store (which checks it), else the stored identity is used; the signature
    /// (and secret envelope) must verify with it.
    mutating func validateAlive(_ signed: SignedGossipMessage, now: GossipInstant) -> Bool {
        guard case .aliveMsg(let alive)? = signed.message.content, alive.hasMembership,
            !alive.membership.pkiID.isEmpty, signed.isSigned
        else { return false }
        let pkiID = PKIID(alive.membership.pkiID)
        let identity: Data
        if !alive.identity.isEmpty {
            do {
                try self.identities.put(pkiID, identity: alive.identity, now: now)
            } catch {
                self.logger.warning("alive message of \(pkiID) carries an identity that is refused: \(error)")
                return false
            }
            identity = alive.identity
        } else {
            guard let stored = try? self.identities.get(pkiID, now: now) else {
                self.logger.debug("no identity known for \(pkiID); cannot verify its alive message")
                return false
            }
            identity = stored
        }
        return (try? signed.verify(identity: identity, using: self.mcs)) != nil
    }

    /// A verified alive message arrived by push: store it, learn/update/resurrect the member, forward it.
    mutating func handleAlive(
        _ signed: SignedGossipMessage,
        from connection: ConnectionInfo,
        now: GossipInstant
    ) -> [GossipAction] {
        guard self.aliveStore.add(signed, now: now).added else { return [] }
        self.learn(signed, now: now)
        return self.emit(signed, excluding: connection.pkiID, now: now)
    }

    /// Learns a verified alive message (Fabric's `handleAliveMessage`): unknown member → alive; dead member with a
    /// newer timestamp → resurrected; alive member with a newer timestamp → updated; older ones are ignored.
    mutating func learn(_ signed: SignedGossipMessage, now: GossipInstant) {
        guard case .aliveMsg(let alive)? = signed.message.content else { return }
        let pkiID = PKIID(alive.membership.pkiID)
        guard pkiID != self.selfPKIID else { return }
        let internalEndpoint = signed.internalEndpoint ?? ""
        let member = NetworkMember(
            pkiID: pkiID,
            endpoint: alive.membership.endpoint,
            internalEndpoint: internalEndpoint,
            metadata: alive.membership.metadata
        )
        if var record = self.members[pkiID] {
            guard alive.timestamp.isNewer(than: record.timestamp) else { return }
            if !record.isAlive { self.logger.info("member \(member) is alive again") }
            record.member = member
            record.alive = signed
            record.timestamp = alive.timestamp
            record.lastSeen = now
            record.isAlive = true
            self.members[pkiID] = record
        } else {
            self.logger.debug("learned member \(member)")
            self.members[pkiID] = MemberRecord(
                member: member,
                alive: signed,
                timestamp: alive.timestamp,
                lastSeen: now,
                isAlive: true
            )
        }
        _ = self.aliveStore.add(signed, now: now)
    }

    /// Moves members silent for longer than aliveExpirationTimeout to dead (closing their connections) and purges
    /// members whose last alive message outlived its TTL, except bootstrap and anchor peers.
    mutating func checkAlive(now: GossipInstant) -> [GossipAction] {
        var actions: [GossipAction] = []
        for (pkiID, record) in self.members where record.isAlive {
            if record.lastSeen.advanced(by: self.config.aliveExpirationTimeout) < now {
                self.members[pkiID]?.isAlive = false
                self.logger.info("member \(record.member) is dead: not heard from since \(record.lastSeen)")
                actions.append(.closeConnection(pkiID))
            }
        }
        for expired in self.aliveStore.expire(now: now) {
            guard case .aliveMsg(let alive)? = expired.message.content else { continue }
            let pkiID = PKIID(alive.membership.pkiID)
            let endpoints = [alive.membership.endpoint, expired.internalEndpoint ?? ""].filter { !$0.isEmpty }
            if endpoints.contains(where: { self.bootstrapEndpoints.contains($0) || self.anchorEndpoints.contains($0) })
            {
                continue
            }
            guard let record = self.members[pkiID], record.timestamp == alive.timestamp else { continue }
            self.logger.info("purging member \(record.member)")
            self.members[pkiID] = nil
        }
        return actions
    }

    /// Sends a membership request to every dead member (Fabric pings them first; an unreachable peer simply
    /// drops the request here).
    mutating func reconnectToDead(now: GossipInstant) -> [GossipAction] {
        let dead = self.members.values.filter { !$0.isAlive }.map(\.member)
        return dead.flatMap {
            self.membershipRequest(to: $0.remotePeer, organization: self.organization(of: $0.pkiID), now: now)
        }
    }

    /// Membership sync: a membership request to pullPeerNum random alive members.
    mutating func membershipSync(now: GossipInstant) -> [GossipAction] {
        let alive = self.members.values.filter(\.isAlive).map(\.member)
        let chosen = self.random.choose(self.config.pullPeerNum, from: alive)
        return chosen.flatMap {
            self.membershipRequest(to: $0.remotePeer, organization: self.organization(of: $0.pkiID), now: now)
        }
    }

    /// Probes the bootstrap peers while no member is known, up to maxConnectionAttempts rounds.
    mutating func probeBootstrapPeers(now: GossipInstant) -> [GossipAction] {
        guard !self.bootstrapEndpoints.isEmpty, self.members.isEmpty,
            self.bootstrapAttempts < self.config.maxConnectionAttempts
        else {
            self.timers.bootstrap = nil
            return []
        }
        self.bootstrapAttempts += 1
        self.timers.bootstrap = now.advanced(by: self.config.reconnectInterval)
        return self.bootstrapEndpoints.map { .probe(RemotePeer(endpoint: $0)) }
    }

    /// The result of a probe asked for by a ``GossipAction/probe(_:)``: a bootstrap peer of the own organisation
    /// or an anchor peer (of the own organisation, or of another when this peer has an external endpoint) gets a
    /// membership request, with the disclosure policy applied to the self information.
    public mutating func probed(_ peer: RemotePeer, result: ConnectionInfo?, now: GossipInstant) -> [GossipAction] {
        guard let result else { return [] }
        guard result.pkiID != self.selfPKIID else { return [] }
        if self.identities.lookup(result.pkiID) == nil {
            do {
                try self.identities.put(result.pkiID, identity: result.identity, now: now)
            } catch {
                self.logger.warning("probed peer \(peer) has an identity that is refused: \(error)")
                return []
            }
        }
        let organization = self.organization(of: result.pkiID)
        let isBootstrap = self.bootstrapEndpoints.contains(peer.endpoint)
        if isBootstrap && !self.anchorEndpoints.contains(peer.endpoint) && organization != self.selfOrganization {
            self.logger.warning("bootstrap peer \(peer) is of organisation \(organization ?? "?"), not ours: ignored")
            return []
        }
        if organization != self.selfOrganization && self.config.externalEndpoint.isEmpty {
            self.logger.info("not connecting to \(peer) of another organisation: no external endpoint")
            return []
        }
        return self.membershipRequest(
            to: RemotePeer(endpoint: peer.endpoint, pkiID: result.pkiID),
            organization: organization,
            now: now
        )
    }

    /// A membership request for a peer of `organization`: own alive (secret stripped for other orgs), nonce 0,
    /// tag EMPTY, unsigned outer envelope.
    mutating func membershipRequest(to peer: RemotePeer, organization: String?, now: GossipInstant) -> [GossipAction] {
        if self.selfAlive == nil { _ = try? self.makeAlive(now: now) }
        guard var selfInfo = self.selfAlive else { return [] }
        if organization != self.selfOrganization { selfInfo = selfInfo.withoutSecret }
        var request = Gossip_MembershipRequest()
        request.selfInformation = selfInfo.envelope
        guard let actions = try? self.send(Gossip_GossipMessage(tag: .empty, content: .memReq(request)), to: [peer])
        else { return [] }
        return actions
    }

    /// A membership request: its self information must be an alive message of the sender (the handshake PKI-ID),
    /// and verify; it is learned, and answered with what the disclosure policy lets the sender see, under the
    /// request's nonce.
    mutating func handleMembershipRequest(
        _ request: Gossip_MembershipRequest,
        nonce: UInt64,
        from connection: ConnectionInfo,
        now: GossipInstant
    ) -> [GossipAction] {
        guard let selfInfo = try? SignedGossipMessage(envelope: request.selfInformation),
            case .aliveMsg(let alive)? = selfInfo.message.content
        else {
            self.logger.warning("membership request from \(connection) has no alive self information")
            return []
        }
        guard PKIID(alive.membership.pkiID) == connection.pkiID else {
            self.logger.warning(
                "membership request from \(connection) carries self information of \(PKIID(alive.membership.pkiID)): dropped"
            )
            return []
        }
        guard self.validateAlive(selfInfo, now: now) else {
            self.logger.warning("membership request from \(connection): self information does not verify")
            return []
        }
        if self.aliveStore.checkValid(selfInfo) { self.learn(selfInfo, now: now) }
        let target = NetworkMember(
            pkiID: connection.pkiID,
            endpoint: alive.membership.endpoint,
            internalEndpoint: selfInfo.internalEndpoint ?? ""
        )
        guard let response = self.membershipResponse(for: target, now: now) else { return [] }
        let message = Gossip_GossipMessage(nonce: nonce, tag: .empty, content: .memRes(response))
        let peer = RemotePeer(
            endpoint: target.preferredEndpoint.isEmpty ? connection.endpoint : target.preferredEndpoint,
            pkiID: connection.pkiID
        )
        return (try? self.send(message, to: [peer])) ?? []
    }

    /// What `target` may see: alive and dead members under the disclosure policy, own alive last.
    mutating func membershipResponse(for target: NetworkMember, now: GossipInstant) -> Gossip_MembershipResponse? {
        if self.selfAlive == nil { _ = try? self.makeAlive(now: now) }
        guard let selfAlive = self.selfAlive else { return nil }
        let policy = self.disclosurePolicy(for: target)
        guard policy.shouldDisclose(selfAlive) else { return nil }
        var response = Gossip_MembershipResponse()
        for record in self.members.values {
            guard policy.shouldDisclose(record.alive) else { continue }
            if record.isAlive {
                response.alive.append(policy.filter(record.alive).envelope)
            } else {
                response.dead.append(policy.filter(record.alive).envelope)
            }
        }
        response.alive.append(policy.filter(selfAlive).envelope)
        return response
    }

    /// A membership response: each alive element that is fresh and verifies is learned; unknown dead members are
    /// learned as dead.
    mutating func handleMembershipResponse(_ response: Gossip_MembershipResponse, now: GossipInstant) -> [GossipAction]
    {
        for envelope in response.alive {
            guard let signed = try? SignedGossipMessage(envelope: envelope), case .aliveMsg = signed.message.content
            else {
                self.logger.warning("membership response holds an element that is not an alive message")
                return []
            }
            if self.aliveStore.checkValid(signed) && self.validateAlive(signed, now: now) {
                self.learn(signed, now: now)
            }
        }
        for envelope in response.dead {
            guard let signed = try? SignedGossipMessage(envelope: envelope),
                case .aliveMsg(let alive)? = signed.message.content
            else { continue }
            guard self.aliveStore.checkValid(signed), self.validateAlive(signed, now: now) else { continue }
            let pkiID = PKIID(alive.membership.pkiID)
            guard pkiID != self.selfPKIID, self.members[pkiID] == nil else { continue }
            self.members[pkiID] = MemberRecord(
                member: NetworkMember(
                    pkiID: pkiID,
                    endpoint: alive.membership.endpoint,
                    internalEndpoint: signed.internalEndpoint ?? "",
                    metadata: alive.membership.metadata
                ),
                alive: signed,
                timestamp: alive.timestamp,
                lastSeen: now,
                isAlive: false
            )
            _ = self.aliveStore.add(signed, now: now)
        }
        return []
    }

    // MARK: - Disclosure

    /// Fabric's disclosure policy towards a remote peer of organisation R: alive messages originating from my
    /// org or from R only; across orgs only when both the member and the remote peer have an external endpoint;
    /// secret envelopes (internal endpoints) only within my org; an unknown R sees nothing.
    struct DisclosurePolicy {
        let shouldDisclose: (SignedGossipMessage) -> Bool
        let filter: (SignedGossipMessage) -> SignedGossipMessage
    }

    func disclosurePolicy(for remote: NetworkMember) -> DisclosurePolicy {
        guard let remoteOrg = self.organization(of: remote.pkiID) else {
            return DisclosurePolicy(shouldDisclose: { _ in false }, filter: { $0 })
        }
        let localOrg = self.selfOrganization
        let organizations = self.organizationLookup()
        return DisclosurePolicy(
            shouldDisclose: { message in
                guard case .aliveMsg(let alive)? = message.message.content,
                    let messageOrg = organizations(PKIID(alive.membership.pkiID))
                else { return false }
                guard messageOrg == remoteOrg || messageOrg == localOrg else { return false }
                if localOrg == remoteOrg { return true }
                return !alive.membership.endpoint.isEmpty && !remote.endpoint.isEmpty
            },
            filter: { message in localOrg == remoteOrg ? message : message.withoutSecret }
        )
    }

    /// A snapshot of PKI-ID → organisation for use inside closures.
    func organizationLookup() -> (PKIID) -> String? {
        let selfPKIID = self.selfPKIID
        let selfOrg = self.selfOrganization
        let identities = self.identities
        return { pkiID in pkiID == selfPKIID ? selfOrg : identities.organization(of: pkiID) }
    }
}
