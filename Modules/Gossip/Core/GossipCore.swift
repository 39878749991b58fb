public import Foundation
public import Logging
internal import OrderedCollections
public import Wire

/// The gossip protocol of one peer as a pure state machine: membership (alive messages, expiry, membership
/// sync), the identity store and identity pull, channels (StateInfo, block store and block pull, leadership
/// messages) and the batching push emitter.
///
/// Nothing here does I/O or reads a clock: every transition takes `now` and returns ``GossipAction``s for a shell
/// (``GossipNode``, or a simulation) to carry out. Randomness comes from a ``SeededRandom`` given at creation.
/// Crypto goes through the injected ``MessageCryptoService`` and ``SecurityAdvisor``, which are synchronous.
public struct GossipCore: Sendable {
    /// The configuration.
    public let config: GossipConfig
    /// This peer's PKI-ID.
    public let selfPKIID: PKIID
    /// This peer's serialised identity.
    public let selfIdentity: Data
    /// This peer's organisation.
    public let selfOrganization: String
    let mcs: any MessageCryptoService
    let advisor: any SecurityAdvisor
    var logger: Logger

    /// The identity store.
    public internal(set) var identities: IdentityStore
    var random: SeededRandom
    let startTime: GossipInstant
    var aliveSequence: UInt64 = 0
    var selfAlive: SignedGossipMessage?

    struct MemberRecord: Sendable {
        var member: NetworkMember
        var alive: SignedGossipMessage
        var timestamp: Gossip_PeerTime
        var lastSeen: GossipInstant
        var isAlive: Bool
    }

    var members: OrderedDictionary<PKIID, MemberRecord> = [:]
    var aliveStore: MessageStore<SignedGossipMessage>
    var bootstrapEndpoints: [String]
    var anchorEndpoints: Set<String> = []
    var bootstrapAttempts = 0
    var channels: OrderedDictionary<ChannelID, ChannelState> = [:]
    /// StateInfo of channels this peer has not joined, kept to forward within the org.
    var foreignStateInfo: MessageStore<SignedGossipMessage>
    var identityPull: PullEngine
    var identityItems: [PKIID: SignedGossipMessage] = [:]
    var emitter: Emitter

    struct Timers: Sendable {
        var alive: GossipInstant
        var aliveCheck: GossipInstant
        var reconnect: GossipInstant
        var membershipPull: GossipInstant
        var identityPull: GossipInstant
        var identityPurge: GossipInstant
        var bootstrap: GossipInstant?
    }

    var timers: Timers
    var started = false

    /// Creates the core of a peer with `identity`, starting at `now`.
    ///
    /// - Parameters:
    ///   - identity: the local serialised identity (its PKI-ID is computed by `mcs`).
    ///   - seed: the seed of every random choice (peer selection, nonces).
    public init(
        config: GossipConfig,
        identity: Data,
        mcs: any MessageCryptoService,
        advisor: any SecurityAdvisor,
        now: GossipInstant,
        seed: UInt64,
        logger: Logger = Logger(label: "gossip")
    ) throws(GossipError) {
        try config.validate()
        self.config = config
        self.mcs = mcs
        self.advisor = advisor
        self.selfIdentity = identity
        self.selfPKIID = try mcs.pkiID(of: identity)
        guard let organization = advisor.organization(of: identity) else {
            throw GossipError(.invalidIdentity, "the organisation of the local identity cannot be told")
        }
        self.selfOrganization = organization
        self.identities = try IdentityStore(
            selfIdentity: identity,
            mcs: mcs,
            advisor: advisor,
            usageThreshold: config.identityUsageThreshold,
            now: now
        )
        self.random = SeededRandom(seed: seed)
        self.startTime = now
        var logger = logger
        logger[metadataKey: "pki-id"] = "\(self.selfPKIID)"
        self.logger = logger
        self.aliveStore = MessageStore(
            timeToLive: config.aliveMessageTTL,
            policy: InvalidationPolicy.gossip(blockStorageSize: 0)
        )
        self.foreignStateInfo = MessageStore(
            timeToLive: config.msgExpirationTimeout,
            policy: InvalidationPolicy.gossip(blockStorageSize: 0)
        )
        self.bootstrapEndpoints = config.bootstrapPeers.filter {
            $0 != config.internalEndpoint && $0 != config.externalEndpoint
        }
        self.identityPull = PullEngine(
            timing: PullEngine.Timing(
                digestWaitTime: config.digestWaitTime,
                requestWaitTime: config.requestWaitTime,
                responseWaitTime: config.responseWaitTime
            )
        )
        self.emitter = Emitter(
            latency: config.maxPropagationBurstLatency,
            burstSize: config.maxPropagationBurstSize,
            iterations: config.propagateIterations
        )
        self.timers = Timers(
            alive: now,
            aliveCheck: now.advanced(by: config.aliveExpirationCheckInterval),
            reconnect: now.advanced(by: config.reconnectInterval),
            membershipPull: now.advanced(by: config.pullInterval),
            identityPull: now.advanced(by: config.pullInterval),
            identityPurge: now.advanced(by: config.aliveExpirationCheckInterval),
            bootstrap: nil
        )
        // The own PeerIdentity item served by identity pull: tag EMPTY, nonce 0, no channel, signed.
        var peerIdentity = Gossip_PeerIdentity()
        peerIdentity.pkiID = self.selfPKIID.bytes
        peerIdentity.cert = identity
        let own = try SignedGossipMessage.sign(Gossip_GossipMessage(tag: .empty, content: .peerIdentity(peerIdentity)))
        {
            (payload) throws(GossipError) in try mcs.sign(payload)
        }
        self.identityItems[self.selfPKIID] = own
        self.identityPull.add([self.selfPKIID.bytes])
    }

    // MARK: - Lifecycle and time

    /// Starts the peer: first alive message, bootstrap probes.
    public mutating func start(now: GossipInstant) -> [GossipAction] {
        guard !self.started else { return [] }
        self.started = true
        var actions = self.tick(now: now)
        actions += self.probeBootstrapPeers(now: now)
        return actions
    }

    /// Runs every periodic task that is due at `now`.
    public mutating func tick(now: GossipInstant) -> [GossipAction] {
        guard self.started else { return [] }
        var actions: [GossipAction] = []
        if self.timers.alive <= now {
            self.timers.alive = now.advanced(by: self.config.aliveTimeInterval)
            actions += self.sendAlive(now: now)
        }
        if self.timers.aliveCheck <= now {
            self.timers.aliveCheck = now.advanced(by: self.config.aliveExpirationCheckInterval)
            actions += self.checkAlive(now: now)
        }
        if self.timers.reconnect <= now {
            self.timers.reconnect = now.advanced(by: self.config.reconnectInterval)
            actions += self.reconnectToDead(now: now)
        }
        if let bootstrap = self.timers.bootstrap, bootstrap <= now {
            actions += self.probeBootstrapPeers(now: now)
        }
        if self.timers.membershipPull <= now {
            self.timers.membershipPull = now.advanced(by: self.config.pullInterval)
            actions += self.membershipSync(now: now)
        }
        if self.timers.identityPull <= now {
            self.timers.identityPull = now.advanced(by: self.config.pullInterval)
            actions += self.startIdentityPull(now: now)
        }
        actions += self.identityPullTick(now: now)
        if self.timers.identityPurge <= now {
            self.timers.identityPurge = now.advanced(by: self.config.aliveExpirationCheckInterval)
            for removed in self.identities.purge(now: now) {
                self.identityItems[removed] = nil
                self.identityPull.remove([removed.bytes])
                actions.append(.closeConnection(removed))
            }
        }
        actions += self.channelsTick(now: now)
        actions += self.route(self.emitter.flushIfDue(now: now), now: now)
        return actions
    }

    /// When ``tick(now:)`` next has something to do.
    public var nextDeadline: GossipInstant {
        var deadline = min(
            self.timers.alive,
            self.timers.aliveCheck,
            self.timers.reconnect,
            self.timers.membershipPull,
            self.timers.identityPull,
            self.timers.identityPurge
        )
        if let bootstrap = self.timers.bootstrap { deadline = min(deadline, bootstrap) }
        if let pull = self.identityPull.nextDeadline { deadline = min(deadline, pull) }
        if let flush = self.emitter.nextDeadline { deadline = min(deadline, flush) }
        for channel in self.channels.values {
            deadline = min(
                deadline,
                channel.nextPublishStateInfo,
                channel.nextRequestStateInfo,
                channel.nextBlockPull,
                channel.nextSweep
            )
            if let pull = channel.blockPull.nextDeadline { deadline = min(deadline, pull) }
        }
        return deadline
    }

    // MARK: - Sending

    /// Pushes `message` to the network (Fabric's `Gossip()`): checks the tag, signs it (blocks are NoopSigned),
    /// stores blocks for pull, and queues it in the emitter.
    public mutating func gossip(
        _ message: Gossip_GossipMessage,
        now: GossipInstant
    ) throws(GossipError) -> [GossipAction] {
        try message.checkTagIsLegal()
        let signed: SignedGossipMessage
        if case .dataMsg = message.content {
            signed = try SignedGossipMessage.noopSign(message)
        } else {
            signed = try self.sign(message)
        }
        if message.isChannelRestricted, case .dataMsg = message.content {
            guard self.channels[message.channelID] != nil else {
                throw GossipError(.unknownChannel, "cannot gossip a block of channel \(message.channelID): not joined")
            }
            _ = self.channels[message.channelID]!.addBlock(signed, now: now)
        } else if message.isChannelRestricted, !message.channel.isEmpty, self.channels[message.channelID] == nil {
            throw GossipError(
                .unknownChannel,
                "cannot gossip \(message.contentName) of channel \(message.channelID): not joined"
            )
        }
        return self.emit(signed, excluding: nil, now: now)
    }

    /// Sends `message` unsigned (NoopSign) to `peers`: point-to-point requests and responses.
    public mutating func send(
        _ message: Gossip_GossipMessage,
        to peers: [RemotePeer]
    ) throws(GossipError) -> [GossipAction] {
        let signed = try SignedGossipMessage.noopSign(message)
        return peers.map { .send(signed.envelope, to: $0) }
    }

    // MARK: - Queries

    /// The alive members.
    public var aliveMembers: [NetworkMember] { self.members.values.filter(\.isAlive).map(\.member) }

    /// The dead members (not heard from for aliveExpirationTimeout, not yet purged).
    public var deadMembers: [NetworkMember] { self.members.values.filter { !$0.isAlive }.map(\.member) }

    /// This peer as others see it.
    public var selfMember: NetworkMember {
        NetworkMember(
            pkiID: self.selfPKIID,
            endpoint: self.config.externalEndpoint,
            internalEndpoint: self.config.internalEndpoint
        )
    }

    /// The organisation of `pkiID` (self included), if its identity is known.
    public func organization(of pkiID: PKIID) -> String? {
        pkiID == self.selfPKIID ? self.selfOrganization : self.identities.organization(of: pkiID)
    }

    /// Whether `pkiID` is of this peer's organisation.
    public func isInMyOrg(_ pkiID: PKIID) -> Bool { self.organization(of: pkiID) == self.selfOrganization }

    // MARK: - Internals shared by the extensions

    func sign(_ message: Gossip_GossipMessage) throws(GossipError) -> SignedGossipMessage {
        let mcs = self.mcs
        return try SignedGossipMessage.sign(message) { (payload) throws(GossipError) in try mcs.sign(payload) }
    }

    func member(_ pkiID: PKIID) -> NetworkMember? { self.members[pkiID]?.member }

    func isAlive(_ pkiID: PKIID) -> Bool { pkiID == self.selfPKIID || self.members[pkiID]?.isAlive == true }

    func hasExternalEndpoint(_ pkiID: PKIID) -> Bool {
        if pkiID == self.selfPKIID { return !self.config.externalEndpoint.isEmpty }
        return !(self.members[pkiID]?.member.endpoint.isEmpty ?? true)
    }
}
