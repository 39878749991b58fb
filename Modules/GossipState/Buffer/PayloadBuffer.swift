public import Wire

/// The blocks waiting to be committed, keyed by block number, with Fabric's admission rules and a hard bound.
///
/// A pure value: no clock, no I/O. ``next`` is the number of the block the commit loop wants (the ledger height);
/// it only moves when that block has been committed (``removeCommitted()``), so a block that fails to commit or
/// turns out to be malformed is never skipped.
///
/// Admission (spec §6.1 `addPayload`):
/// - below ``next`` → ``Admission/stale``; already held → ``Admission/duplicate`` (both ignored, as Fabric does);
/// - non-blocking (gossiped blocks): `seq − next ≥ blockBufferSize` → ``Admission/tooFarAhead``;
/// - at ``capacity`` (2 × blockBufferSize, where Fabric starts making blocking callers wait) → ``Admission/full``,
///   except the block ``next`` itself, which is always admitted because it is the one that frees room.
///
/// So the buffer never holds more than `capacity + 1` payloads however many arrive.
public struct PayloadBuffer: Sendable {
    /// How a payload is offered.
    public enum Mode: Sendable, Hashable {
        /// The orderer path and state responses: the caller waits while the buffer is full.
        case blocking
        /// Gossiped blocks: refused when too far ahead or when the buffer is full.
        case nonBlocking
    }

    /// What happened to an offered payload.
    public enum Admission: Sendable, Hashable {
        /// Stored.
        case accepted
        /// Below the next block to commit: already committed.
        case stale
        /// A payload with the same number is already held.
        case duplicate
        /// Non-blocking and at least blockBufferSize past the next block.
        case tooFarAhead
        /// The buffer is at capacity and the payload is not the next block.
        case full
    }

    /// The non-blocking window (peer.gossip.state.blockBufferSize).
    public let blockBufferSize: Int
    /// The number of the next block to commit (the ledger height).
    public private(set) var next: UInt64
    private var payloads: [UInt64: Gossip_Payload] = [:]

    /// An empty buffer waiting for block `next`.
    public init(next: UInt64, blockBufferSize: Int) {
        self.next = next
        self.blockBufferSize = max(1, blockBufferSize)
    }

    /// Payloads held beyond which only block ``next`` is admitted: 2 × blockBufferSize.
    public var capacity: Int { 2 * self.blockBufferSize }

    /// How many payloads are held.
    public var count: Int { self.payloads.count }

    /// The numbers held, ascending (diagnostics and tests).
    public var numbers: [UInt64] { self.payloads.keys.sorted() }

    /// Offers `payload`; see the type's documentation for the rules.
    public mutating func add(_ payload: Gossip_Payload, mode: Mode) -> Admission {
        let number = payload.seqNum
        if number < self.next { return .stale }
        if self.payloads[number] != nil { return .duplicate }
        if mode == .nonBlocking, number - self.next >= UInt64(self.blockBufferSize) { return .tooFarAhead }
        if self.payloads.count >= self.capacity, number != self.next { return .full }
        self.payloads[number] = payload
        return .accepted
    }

    /// The payload of block ``next``, if it has arrived.
    public var ready: Gossip_Payload? { self.payloads[self.next] }

    /// Block ``next`` was committed: drops it and moves on to the following number.
    public mutating func removeCommitted() {
        self.payloads[self.next] = nil
        self.next += 1
    }

    /// Block ``next`` was malformed: drops it **without** moving on, so that a good copy can still be taken.
    public mutating func discardReady() {
        self.payloads[self.next] = nil
    }
}
