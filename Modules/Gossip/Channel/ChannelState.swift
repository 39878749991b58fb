internal import Foundation
internal import Wire

/// The gossip state of one channel (Fabric's `gossipChannel`): member organisations, StateInfo cache, own
/// StateInfo, block store and block pull engine, leadership message store, and the channel's timers.
struct ChannelState: Sendable {
    let id: ChannelID
    var organizations: [String] = []
    var joinSequence: UInt64?
    var anchorPeers: [AnchorPeer] = []
    var leftChannel = false
    var ledgerHeight: UInt64 = 0
    var chaincodes: [Gossip_Chaincode] = []
    var selfStateInfo: SignedGossipMessage?
    var shouldGossipStateInfo = false
    var stateInfoStore: MessageStore<SignedGossipMessage>
    var stateInfoByPeer: [PKIID: SignedGossipMessage] = [:]
    var blockStore: MessageStore<SignedGossipMessage>
    var blockItems: [Data: SignedGossipMessage] = [:]
    var blockPull: PullEngine
    var leaderStore: MessageStore<SignedGossipMessage>
    var nextPublishStateInfo: GossipInstant
    var nextRequestStateInfo: GossipInstant
    var nextBlockPull: GossipInstant
    var nextSweep: GossipInstant

    init(id: ChannelID, config: GossipConfig, now: GossipInstant) {
        self.id = id
        self.stateInfoStore = MessageStore(
            timeToLive: config.msgExpirationTimeout,
            policy: InvalidationPolicy.gossip(blockStorageSize: 0)
        )
        self.blockStore = MessageStore(
            timeToLive: config.blockExpirationInterval,
            policy: InvalidationPolicy.gossip(blockStorageSize: config.maxBlockCountToStore)
        )
        self.leaderStore = MessageStore(
            timeToLive: config.msgExpirationTimeout,
            policy: InvalidationPolicy.gossip(blockStorageSize: 0)
        )
        self.blockPull = PullEngine(
            timing: PullEngine.Timing(
                digestWaitTime: config.digestWaitTime,
                requestWaitTime: config.requestWaitTime,
                responseWaitTime: config.responseWaitTime
            )
        )
        self.nextPublishStateInfo = now.advanced(by: config.publishStateInfoInterval)
        self.nextRequestStateInfo = now.advanced(by: config.requestStateInfoInterval)
        self.nextBlockPull = now.advanced(by: config.pullInterval)
        self.nextSweep = now.advanced(by: config.stateInfoCacheSweepInterval)
    }

    func isOrgInChannel(_ organization: String?) -> Bool {
        guard let organization else { return false }
        return self.organizations.contains(organization)
    }

    /// Adds a StateInfo message to the cache (newer replaces older of the same peer).
    mutating func addStateInfo(_ message: SignedGossipMessage, now: GossipInstant) -> Bool {
        let (added, replaced) = self.stateInfoStore.add(message, now: now)
        guard added, case .stateInfo(let info)? = message.message.content else { return false }
        for old in replaced {
            if case .stateInfo(let oldInfo)? = old.message.content { self.stateInfoByPeer[PKIID(oldInfo.pkiID)] = nil }
        }
        self.stateInfoByPeer[PKIID(info.pkiID)] = message
        return true
    }

    /// Adds a block to the block store and the pull items (dropping the ones it pushes out).
    mutating func addBlock(_ message: SignedGossipMessage, now: GossipInstant) -> Bool {
        let (added, replaced) = self.blockStore.add(message, now: now)
        guard added, case .dataMsg(let data)? = message.message.content else { return false }
        for old in replaced {
            if case .dataMsg(let oldData)? = old.message.content {
                let key = Self.blockDigest(oldData.payload.seqNum)
                self.blockItems[key] = nil
                self.blockPull.remove([key])
            }
        }
        let key = Self.blockDigest(data.payload.seqNum)
        self.blockItems[key] = message
        self.blockPull.add([key])
        return true
    }

    /// Expires old StateInfo and blocks, and StateInfo of peers no longer alive.
    mutating func sweep(now: GossipInstant, isAlive: (PKIID) -> Bool) {
        for old in self.stateInfoStore.expire(now: now) {
            if case .stateInfo(let info)? = old.message.content { self.stateInfoByPeer[PKIID(info.pkiID)] = nil }
        }
        let gone = self.stateInfoStore.remove { message in
            guard case .stateInfo(let info)? = message.message.content else { return true }
            let peer = PKIID(info.pkiID)
            return !isAlive(peer)
        }
        for old in gone {
            if case .stateInfo(let info)? = old.message.content { self.stateInfoByPeer[PKIID(info.pkiID)] = nil }
        }
        for old in self.blockStore.expire(now: now) {
            if case .dataMsg(let data)? = old.message.content {
                let key = Self.blockDigest(data.payload.seqNum)
                self.blockItems[key] = nil
                self.blockPull.remove([key])
            }
        }
        _ = self.leaderStore.expire(now: now)
    }

    /// The pull digest of block `number`: its decimal representation.
    static func blockDigest(_ number: UInt64) -> Data { Data(String(number).utf8) }

    /// The block number of a digest, if it is a decimal number.
    static func blockNumber(_ digest: Data) -> UInt64? { UInt64(String(decoding: digest, as: UTF8.self)) }
}
