public import Foundation

/// Fabric's pull algorithm (gossip/gossip/algo) as a pure state machine: the initiator sends Hello(nonce) to a
/// few peers, collects DataDigests for digestWaitTime, requests each missing item from one random peer that has it,
/// and accepts DataUpdates for responseWaitTime; the responder answers a Hello with its digest and a DataRequest
/// (carrying a nonce it saw in a Hello within requestWaitTime) with the items it has.
///
/// Items are identified by their digest bytes (decimal block numbers for blocks, PKI-IDs for identities).
public struct PullEngine: Sendable {
    /// The three wait times.
    public struct Timing: Sendable, Hashable {
        /// How long digests are collected after the hellos go out.
        public var digestWaitTime: Duration
        /// How long a responder accepts a request for a nonce it saw in a hello.
        public var requestWaitTime: Duration
        /// How long updates are accepted after the requests go out.
        public var responseWaitTime: Duration

        /// Creates the timing.
        public init(digestWaitTime: Duration, requestWaitTime: Duration, responseWaitTime: Duration) {
            self.digestWaitTime = digestWaitTime
            self.requestWaitTime = requestWaitTime
            self.responseWaitTime = responseWaitTime
        }
    }

    /// A message the engine wants sent.
    public enum Output: Sendable, Hashable {
        /// Send a hello with `nonce` to `peer`.
        case hello(to: PKIID, nonce: UInt64)
        /// Request `items` from `peer` under `nonce`.
        case request(to: PKIID, items: [Data], nonce: UInt64)
    }

    private enum Phase: Sendable {
        case idle
        case collectingDigests(until: GossipInstant)
        case collectingResponses(until: GossipInstant)
    }

    /// The timing.
    public let timing: Timing
    private var phase: Phase = .idle
    /// The items this peer holds.
    public private(set) var items: Set<Data> = []
    private var outgoingNonces: [UInt64: PKIID] = [:]
    private var nonceOfPeer: [PKIID: UInt64] = [:]
    /// Item → peers that offered it, in the order the digests came.
    private var owners: [Data: [PKIID]] = [:]
    private var ownerOrder: [Data] = []
    private var incomingNonces: [UInt64: GossipInstant] = [:]

    /// Creates an idle engine.
    public init(timing: Timing) { self.timing = timing }

    /// Adds items this peer holds.
    public mutating func add(_ newItems: some Sequence<Data>) { self.items.formUnion(newItems) }

    /// Removes items.
    public mutating func remove(_ oldItems: some Sequence<Data>) { self.items.subtract(oldItems) }

    /// Whether a pull round is under way.
    public var isPulling: Bool {
        if case .idle = self.phase { return false }
        return true
    }

    /// Starts a pull round with `peers`: one hello (fresh nonce) each. Ignored while a round is under way.
    public mutating func initiatePull(
        peers: [PKIID],
        now: GossipInstant,
        random: inout SeededRandom
    ) -> [Output] {
        guard !self.isPulling, !peers.isEmpty else { return [] }
        var outputs: [Output] = []
        for peer in peers {
            let nonce = random.nonce()
            self.outgoingNonces[nonce] = peer
            self.nonceOfPeer[peer] = nonce
            outputs.append(.hello(to: peer, nonce: nonce))
        }
        self.phase = .collectingDigests(until: now.advanced(by: self.timing.digestWaitTime))
        return outputs
    }

    /// A digest arrived: remember which of its items are missing here, if its nonce is one of ours and digests
    /// are still being collected.
    public mutating func onDigest(_ digest: [Data], nonce: UInt64) {
        guard case .collectingDigests = self.phase, let peer = self.outgoingNonces[nonce] else { return }
        for item in digest where !self.items.contains(item) {
            if self.owners[item] == nil {
                self.owners[item] = []
                self.ownerOrder.append(item)
            }
            if !(self.owners[item]!.contains(peer)) { self.owners[item]!.append(peer) }
        }
    }

    /// A hello arrived: remember its nonce for requestWaitTime and return the digest to answer with (the items
    /// `filter` lets this peer see; nil when there is nothing to send).
    public mutating func onHello(nonce: UInt64, now: GossipInstant, filter: (Data) -> Bool = { _ in true }) -> [Data]? {
        self.incomingNonces[nonce] = now.advanced(by: self.timing.requestWaitTime)
        let digest = self.items.filter(filter).sorted { $0.lexicographicallyPrecedes($1) }
        return digest.isEmpty ? nil : digest
    }

    /// A request arrived: the requested items this peer has and `filter` allows, if the nonce came in a hello
    /// within requestWaitTime; nil when there is nothing to send.
    public mutating func onRequest(
        _ requested: [Data],
        nonce: UInt64,
        now: GossipInstant,
        filter: (Data) -> Bool = { _ in true }
    ) -> [Data]? {
        self.expireIncomingNonces(now: now)
        guard self.incomingNonces[nonce] != nil else { return nil }
        let answer = requested.filter { self.items.contains($0) && filter($0) }
        return answer.isEmpty ? nil : answer
    }

    /// Whether an update with `nonce` is accepted now (one of our nonces, while responses are collected).
    public func acceptsResponse(nonce: UInt64) -> Bool {
        guard case .collectingResponses = self.phase else { return false }
        return self.outgoingNonces[nonce] != nil
    }

    /// An update was accepted: its items are now held.
    public mutating func onResponse(_ received: [Data], nonce: UInt64) {
        guard self.acceptsResponse(nonce: nonce) else { return }
        self.items.formUnion(received)
    }

    /// Advances the phases: when digest collection ends, one request per chosen source; when response collection
    /// ends, the round is over.
    public mutating func tick(now: GossipInstant, random: inout SeededRandom) -> [Output] {
        self.expireIncomingNonces(now: now)
        switch self.phase {
        case .idle:
            return []
        case .collectingDigests(let until):
            guard until <= now else { return [] }
            var bySource: [PKIID: [Data]] = [:]
            var sourceOrder: [PKIID] = []
            for item in self.ownerOrder {
                guard let candidates = self.owners[item], !candidates.isEmpty else { continue }
                let source = candidates[Int(random.next() % UInt64(candidates.count))]
                if bySource[source] == nil { sourceOrder.append(source) }
                bySource[source, default: []].append(item)
            }
            self.phase = .collectingResponses(until: now.advanced(by: self.timing.responseWaitTime))
            return sourceOrder.compactMap { source in
                guard let nonce = self.nonceOfPeer[source] else { return nil }
                return .request(to: source, items: bySource[source] ?? [], nonce: nonce)
            }
        case .collectingResponses(let until):
            guard until <= now else { return [] }
            self.phase = .idle
            self.outgoingNonces = [:]
            self.nonceOfPeer = [:]
            self.owners = [:]
            self.ownerOrder = []
            return []
        }
    }

    /// When ``tick(now:random:)`` next has something to do.
    public var nextDeadline: GossipInstant? {
        switch self.phase {
        case .idle: nil
        case .collectingDigests(let until), .collectingResponses(let until): until
        }
    }

    private mutating func expireIncomingNonces(now: GossipInstant) {
        self.incomingNonces = self.incomingNonces.filter { $0.value > now }
    }
}
