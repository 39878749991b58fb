public import Gossip
public import Wire

/// The requesting side of state transfer as a pure state machine (Fabric's `antiEntropy` +
/// `requestBlocksInRange`, spec §6.1): every checkInterval, compare the ledger height with the highest height
/// channel peers advertise in StateInfo; if behind, fetch [height, maxHeight − 1] in batches from random peers.
///
/// No clock and no I/O: every transition takes `now` and the random source, and returns ``Output``s for the shell
/// to carry out. One transfer runs at a time; the next height check is checkInterval after it ends.
///
/// Per batch, exactly as Fabric: the request is `{start = prev, end = min(last, prev + batchSize)}` (inclusive,
/// CHAN_OR_ORG, a random nonce kept across retries); a peer qualifies when its advertised height ≥ end; the batch
/// is sent at most maxRetries + 1 times (a timeout and an invalid response both use up a send); a valid response
/// moves `prev` to its highest block + 1. When no peer qualifies or the sends are used up, the transfer is
/// abandoned. Two deliberate differences: a retry prefers a peer not yet asked for the batch (Fabric picks at
/// random again), and a response with another nonce is ignored without using up a send (Fabric resends at once,
/// which lets any peer burn our retries).
public struct AntiEntropy: Sendable {
    /// A channel peer and the ledger height it advertises.
    public struct Candidate: Sendable, Hashable {
        /// Where to send the request.
        public var peer: RemotePeer
        /// Its advertised ledger height.
        public var height: UInt64

        /// Creates a candidate.
        public init(peer: RemotePeer, height: UInt64) {
            self.peer = peer
            self.height = height
        }

        /// The channel peers that advertise a height (peers without StateInfo properties are ignored).
        public static func from(_ members: [NetworkMember]) -> [Candidate] {
            members.compactMap { member in
                guard let properties = member.properties else { return nil }
                return Candidate(peer: member.remotePeer, height: properties.ledgerHeight)
            }
        }
    }

    /// A request in flight: the inclusive block range, its nonce and the peer asked last.
    public struct Request: Sendable, Hashable {
        /// First block asked for.
        public var start: UInt64
        /// Last block asked for (inclusive).
        public var end: UInt64
        /// The nonce the response must carry.
        public var nonce: UInt64
        /// The peer the request was sent to last.
        public var peer: RemotePeer
        /// How many times the request has been sent.
        public var sends: Int

        /// Creates a request record.
        public init(start: UInt64, end: UInt64, nonce: UInt64, peer: RemotePeer, sends: Int) {
            self.start = start
            self.end = end
            self.nonce = nonce
            self.peer = peer
            self.sends = sends
        }
    }

    /// What the shell must do.
    public enum Output: Sendable {
        /// Send `message` (a RemoteStateRequest) to `peer`.
        case send(Gossip_GossipMessage, to: RemotePeer)
        /// The transfer of `start...end` was given up (no peer qualifies, or every send was used up).
        case abandoned(start: UInt64, end: UInt64, reason: String)
        /// Every block up to `end` was received.
        case completed(end: UInt64)
    }

    private struct Transfer: Sendable {
        var prev: UInt64
        let last: UInt64
        var request: Request
        var asked: Set<RemotePeer>
        /// nil while a response is being processed.
        var deadline: GossipInstant?
    }

    private enum Phase: Sendable {
        case idle(nextCheck: GossipInstant)
        case transferring(Transfer)
    }

    /// The channel.
    public let channel: ChannelID
    private let batchSize: UInt64
    private let maxRetries: Int
    private let checkInterval: Duration
    private let responseTimeout: Duration
    private var phase: Phase

    /// A machine whose first height check is due checkInterval after `now`.
    public init(channel: ChannelID, config: StateConfig, now: GossipInstant) {
        self.channel = channel
        self.batchSize = UInt64(max(1, config.batchSize))
        self.maxRetries = max(0, config.maxRetries)
        self.checkInterval = config.checkInterval
        self.responseTimeout = config.responseTimeout
        self.phase = .idle(nextCheck: now.advanced(by: config.checkInterval))
    }

    /// When ``tick(now:ledgerHeight:candidates:random:)`` next has something to do; nil while a response is
    /// being processed.
    public var nextDeadline: GossipInstant? {
        switch self.phase {
        case .idle(let nextCheck): nextCheck
        case .transferring(let transfer): transfer.deadline
        }
    }

    /// Whether a transfer is running (responses are only accepted then).
    public var isTransferActive: Bool {
        if case .transferring = self.phase { return true }
        return false
    }

    /// The request whose response is awaited, if any.
    public var pendingRequest: Request? {
        guard case .transferring(let transfer) = self.phase, transfer.deadline != nil else { return nil }
        return transfer.request
    }

    /// Runs what is due at `now`: a height check when idle, a retry when the awaited response timed out.
    public mutating func tick(
        now: GossipInstant,
        ledgerHeight: UInt64,
        candidates: [Candidate],
        random: inout SeededRandom
    ) -> [Output] {
        switch self.phase {
        case .idle(let nextCheck):
            guard nextCheck <= now else { return [] }
            self.phase = .idle(nextCheck: now.advanced(by: self.checkInterval))
            let maxHeight = candidates.map(\.height).max() ?? 0
            guard ledgerHeight > 0, ledgerHeight < maxHeight else { return [] }
            let first = ledgerHeight
            let last = maxHeight - 1
            let end = min(last, first + self.batchSize)
            let request = Request(
                start: first,
                end: end,
                nonce: random.nonce(),
                peer: RemotePeer(endpoint: ""),
                sends: 0
            )
            let transfer = Transfer(prev: first, last: last, request: request, asked: [], deadline: nil)
            return self.send(transfer, now: now, candidates: candidates, random: &random)
        case .transferring(let transfer):
            guard let deadline = transfer.deadline, deadline <= now else { return [] }
            return self.send(transfer, now: now, candidates: candidates, random: &random)
        }
    }

    /// Claims the response carrying `nonce`: returns the request it answers and stops the timeout while the shell
    /// checks and buffers it; nil (ignore the response) when no transfer runs or the nonce is not the awaited one.
    public mutating func claimResponse(nonce: UInt64) -> Request? {
        guard case .transferring(var transfer) = self.phase, transfer.deadline != nil,
            transfer.request.nonce == nonce
        else { return nil }
        transfer.deadline = nil
        self.phase = .transferring(transfer)
        return transfer.request
    }

    /// Finishes a claimed response: `highestAccepted` is the highest block of a valid response, nil when it was
    /// invalid (which uses up a send, as a timeout does).
    public mutating func finishResponse(
        highestAccepted: UInt64?,
        now: GossipInstant,
        candidates: [Candidate],
        random: inout SeededRandom
    ) -> [Output] {
        guard case .transferring(var transfer) = self.phase, transfer.deadline == nil else { return [] }
        guard let highest = highestAccepted else {
            return self.send(transfer, now: now, candidates: candidates, random: &random)
        }
        transfer.prev = max(transfer.prev, highest + 1)
        guard transfer.prev <= transfer.last else {
            self.phase = .idle(nextCheck: now.advanced(by: self.checkInterval))
            return [.completed(end: transfer.last)]
        }
        let end = min(transfer.last, transfer.prev + self.batchSize)
        transfer.request = Request(
            start: transfer.prev,
            end: end,
            nonce: random.nonce(),
            peer: transfer.request.peer,
            sends: 0
        )
        transfer.asked = []
        return self.send(transfer, now: now, candidates: candidates, random: &random)
    }

    /// Sends (or resends) the current batch, or abandons the transfer.
    private mutating func send(
        _ transfer: Transfer,
        now: GossipInstant,
        candidates: [Candidate],
        random: inout SeededRandom
    ) -> [Output] {
        var transfer = transfer
        let request = transfer.request
        guard request.sends <= self.maxRetries else {
            return self.abandon(
                transfer,
                now: now,
                reason: "no response for blocks [\(request.start)...\(request.end)] after \(request.sends) requests"
            )
        }
        let qualifying = candidates.filter { $0.height >= request.end }.map(\.peer)
        guard !qualifying.isEmpty else {
            return self.abandon(
                transfer,
                now: now,
                reason: "no channel peer advertises a height ≥ \(request.end)"
            )
        }
        let fresh = qualifying.filter { !transfer.asked.contains($0) }
        let pool = fresh.isEmpty ? qualifying : fresh
        let peer = pool[Int(random.next() % UInt64(pool.count))]
        transfer.request.peer = peer
        transfer.request.sends += 1
        transfer.asked.insert(peer)
        transfer.deadline = now.advanced(by: self.responseTimeout)
        self.phase = .transferring(transfer)
        return [.send(Self.requestMessage(transfer.request, channel: self.channel), to: peer)]
    }

    private mutating func abandon(_ transfer: Transfer, now: GossipInstant, reason: String) -> [Output] {
        self.phase = .idle(nextCheck: now.advanced(by: self.checkInterval))
        return [.abandoned(start: transfer.prev, end: transfer.last, reason: reason)]
    }

    /// The RemoteStateRequest message: CHAN_OR_ORG, the channel set, the request's nonce.
    public static func requestMessage(_ request: Request, channel: ChannelID) -> Gossip_GossipMessage {
        var body = Gossip_RemoteStateRequest()
        body.startSeqNum = request.start
        body.endSeqNum = request.end
        return Gossip_GossipMessage(
            nonce: request.nonce,
            channel: channel,
            tag: .chanOrOrg,
            content: .stateRequest(body)
        )
    }
}
