import Foundation
public import Gossip
public import Logging
internal import SwiftProtobuf
public import Wire

/// Fabric's privdata `distributor`: at endorsement, pushes each collection's private data to peers eligible for it
/// so that it survives until the block commits, and demands acknowledgements from `required_peer_count` of them.
///
/// Per collection: eligible peers are the channel peers whose StateInfo the collection's policy accepts (fewer
/// than required → error). A first pass picks one random eligible peer per member organisation, a second pass
/// random leftovers, until `maximum_peer_count` picks; picks made while required acknowledgements remain demand
/// one each. Pushes go out concurrently; any failure fails the whole distribution ("Failed disseminating k out
/// of n").
public struct PrivateDataDistributor: Sendable {
    /// The gossip side.
    public let gossip: any PrivdataGossip
    /// The collections (for compiling the configs that come with the data).
    public let collections: CollectionStore
    /// How long a push waits for its acknowledgement (must be positive).
    public let pushAckTimeout: Duration
    private let metrics: PrivdataMetrics
    private let logger: Logger

    /// Creates the distributor.
    public init(
        gossip: any PrivdataGossip,
        collections: CollectionStore,
        pushAckTimeout: Duration,
        metrics: PrivdataMetrics? = nil,
        logger: Logger = Logger(label: "privdata.distributor")
    ) {
        self.metrics = metrics ?? PrivdataMetrics(channelID: gossip.channelID)
        self.gossip = gossip
        self.collections = collections
        self.pushAckTimeout = pushAckTimeout
        self.logger = logger
    }

    /// One push: the message, the peer, and whether it must be acknowledged.
    public struct Push: Sendable {
        /// The `PrivateDataMessage` (CHAN_ONLY).
        public var message: Gossip_GossipMessage
        /// The peer.
        public var peer: NetworkMember
        /// Whether an acknowledgement is demanded.
        public var demandsAck: Bool
    }

    /// Distributes the private data of `txID` simulated at `blockHeight`.
    ///
    /// - Throws: ``PrivdataError/Code-swift.struct/collectionNotFound`` when a namespace has no config package
    ///   in `data` or a collection is missing from it; `.distributionFailed` when too few peers are eligible or
    ///   pushes fail.
    public func distribute(
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) async throws(PrivdataError) {
        try await self.metrics.send.time { () async throws(PrivdataError) in
            try await self.push(txID: txID, data: data, blockHeight: blockHeight)
        }
    }

    private func push(
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) async throws(PrivdataError) {
        let pushes = try self.plan(txID: txID, data: data, blockHeight: blockHeight)
        guard !pushes.isEmpty else { return }
        guard self.pushAckTimeout > .zero else {
            throw PrivdataError(
                .distributionFailed,
                "cannot distribute private data of tx \(txID): peer.gossip.pvtData.pushAckTimeout is not positive"
            )
        }
        let timeout = self.pushAckTimeout
        let gossip = self.gossip
        let failures = await withTaskGroup(of: String?.self) { group in
            for push in pushes {
                group.addTask {
                    if !push.demandsAck {
                        gossip.send(push.message, to: push.peer.remotePeer)
                        return nil
                    }
                    do {
                        let results = try await gossip.sendWithAck(
                            push.message,
                            to: [push.peer.remotePeer],
                            minAck: 1,
                            timeout: timeout
                        )
                        return results.successes >= 1 ? nil : "\(push.peer): \(results)"
                    } catch {
                        return "\(push.peer): \(error)"
                    }
                }
            }
            var failures: [String] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        if !failures.isEmpty {
            throw PrivdataError(
                .distributionFailed,
                "Failed disseminating \(failures.count) out of \(pushes.count) private dissemination plans of tx "
                    + "\(txID): \(failures.sorted().joined(separator: "; "))"
            )
        }
    }

    /// The pushes that ``distribute(txID:data:blockHeight:)`` sends.
    public func plan(
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) throws(PrivdataError) -> [Push] {
        var pushes: [Push] = []
        let peers = self.gossip.peersOfChannel()
        for ns in data.pvtRwset.nsPvtRwset {
            guard let package = data.collectionConfigs[ns.namespace] else {
                throw PrivdataError(
                    .collectionNotFound,
                    "private data of tx \(txID) has no collection config package for namespace \(ns.namespace)"
                )
            }
            for collection in ns.collectionPvtRwset {
                guard
                    let access = try self.collections.collection(
                        namespace: ns.namespace,
                        name: collection.collectionName,
                        in: package
                    )
                else {
                    throw PrivdataError(
                        .collectionNotFound,
                        "the config package of tx \(txID) does not define collection \(collection.collectionName) "
                            + "of namespace \(ns.namespace)"
                    )
                }
                var payload = Gossip_PrivatePayload()
                payload.collectionName = collection.collectionName
                payload.namespace = ns.namespace
                payload.txID = txID
                payload.privateRwset = collection.rwset
                payload.privateSimHeight = blockHeight
                payload.collectionConfigs = package
                var push = Gossip_PrivateDataMessage()
                push.payload = payload
                let message = Gossip_GossipMessage(
                    channel: self.gossip.channelID,
                    tag: .chanOnly,
                    content: .privateData(push)
                )
                let eligible = peers.filter { member in
                    self.gossip.signedData(of: member).map(access.accepts) ?? false
                }
                guard eligible.count >= access.requiredPeerCount else {
                    throw PrivdataError(
                        .distributionFailed,
                        "required to disseminate to at least \(access.requiredPeerCount) peers of collection "
                            + "\(ns.namespace)/\(collection.collectionName) for tx \(txID), but know of only "
                            + "\(eligible.count) eligible peers"
                    )
                }
                for (peer, demandsAck) in self.select(eligible, access: access) {
                    pushes.append(Push(message: message, peer: peer, demandsAck: demandsAck))
                }
            }
        }
        return pushes
    }

    /// The per-org-first selection of spec §5.1.
    func select(_ eligible: [NetworkMember], access: CollectionAccess) -> [(NetworkMember, Bool)] {
        var maxRemaining = access.maximumPeerCount
        var requiredRemaining = access.requiredPeerCount
        guard maxRemaining > 0 else { return [] }
        var byOrg: [String: [NetworkMember]] = [:]
        for member in eligible {
            let org = self.gossip.identity(of: member.pkiID)?.organization ?? ""
            byOrg[org, default: []].append(member)
        }
        var picks: [(NetworkMember, Bool)] = []
        var picked = Set<PKIID>()
        func pick(_ member: NetworkMember) {
            picks.append((member, requiredRemaining > 0))
            picked.insert(member.pkiID)
            maxRemaining -= 1
            if requiredRemaining > 0 { requiredRemaining -= 1 }
        }
        for org in access.memberOrgs.sorted().shuffled() where maxRemaining > 0 {
            guard let member = byOrg[org]?.randomElement() else { continue }
            pick(member)
        }
        for member in eligible.shuffled() where maxRemaining > 0 && !picked.contains(member.pkiID) {
            pick(member)
        }
        return picks
    }
}
